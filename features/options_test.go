package features

import (
	"encoding/json"
	"errors"
	"testing"
)

const optionsMeta = `{
  "id": "hello", "version": "1.0.0",
  "options": {
    "greeting": {"type": "string", "default": "hey", "proposals": ["hey", "hi"]},
    "color": {"type": "string", "enum": ["red", "gold", "green"], "default": "red"},
    "loud": {"type": "boolean", "default": false},
    "extra": {"type": "string"}
  }
}`

func mustMeta(t *testing.T, s string) *Metadata {
	t.Helper()
	m, err := ParseMetadata("devcontainer-feature.json", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestResolveOptions(t *testing.T) {
	m := mustMeta(t, optionsMeta)
	withVersion := mustMeta(t, `{"id": "b", "options": {"version": {"type": "string", "default": "latest"}, "other": {"type": "boolean", "default": true}}}`)
	for _, tc := range []struct {
		name string
		meta *Metadata
		user any
		want string
	}{
		{"defaults", m, map[string]any{}, "GREETING=\"hey\"\nCOLOR=\"red\"\nLOUD=\"false\""},
		{"true means defaults", m, true, "GREETING=\"hey\"\nCOLOR=\"red\"\nLOUD=\"false\""},
		{"string ignored without a version option", m, "1.2", "GREETING=\"hey\"\nCOLOR=\"red\"\nLOUD=\"false\""},
		{"override keeps declaration order, new keys last", m, json.RawMessage(`{"extra": "x y", "loud": "true", "greeting": "a \"q\""}`),
			"GREETING=\"a \"q\"\"\nCOLOR=\"red\"\nLOUD=\"true\"\nEXTRA=\"x y\""},
		{"number for a string option", m, map[string]any{"extra": 18.0}, "GREETING=\"hey\"\nCOLOR=\"red\"\nLOUD=\"false\"\nEXTRA=\"18\""},
		// Recorded from the reference (featB in the comparison of dockerfile_test.go).
		{"string means version", withVersion, "9.9", "VERSION=\"9.9\"\nOTHER=\"true\""},
		{"bool shorthand sets version like the reference", withVersion, true, "VERSION=\"true\"\nOTHER=\"true\""},
	} {
		opts, err := ResolveOptions("./a", tc.meta, tc.user)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := string(EnvFile(opts)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestResolveOptionsErrors(t *testing.T) {
	m := mustMeta(t, optionsMeta)
	none := mustMeta(t, `{"id": "n"}`)
	for _, tc := range []struct {
		meta *Metadata
		user any
		want string
	}{
		{m, map[string]any{"colour": "red"}, `feature "./a": option "colour" is not declared by the feature (declared options: greeting, color, loud, extra)`},
		{none, map[string]any{"x": "1"}, `feature "./a": option "x" is not declared by the feature (the feature declares no options)`},
		{m, map[string]any{"greeting": true}, `feature "./a": option "greeting" must be a string, got boolean true`},
		{m, map[string]any{"greeting": nil}, `feature "./a": option "greeting" must be a string, got null`},
		{m, map[string]any{"greeting": []any{"a"}}, `feature "./a": option "greeting" must be a string, got an array`},
		{m, map[string]any{"loud": "yes"}, `feature "./a": option "loud" must be a boolean, got string "yes"`},
		{m, map[string]any{"loud": 1.0}, `feature "./a": option "loud" must be a boolean, got number 1`},
		{m, map[string]any{"color": "blue"}, `feature "./a": option "color": "blue" is not one of "red", "gold", "green"`},
		{m, 3, `feature "./a": options must be an object, a string or a boolean, got int`},
	} {
		_, err := ResolveOptions("./a", tc.meta, tc.user)
		if !errors.Is(err, ErrInvalidOption) || err.Error() != tc.want {
			t.Errorf("%v:\n got %v\nwant %s", tc.user, err, tc.want)
		}
	}
}

func TestSafeID(t *testing.T) {
	for in, want := range map[string]string{
		"install-zsh": "INSTALL_ZSH",
		"1st-flag":    "_ST_FLAG",
		"__x":         "_X",
		"9":           "_",
		"a.b c":       "A_B_C",
		"ünï":         "_N_",
	} {
		if got := SafeID(in); got != want {
			t.Errorf("SafeID(%q) = %q, want %q", in, got, want)
		}
	}
}
