package devcontainer

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzSubstitute feeds arbitrary strings through variable substitution, both alone and as a
// property of a configuration: it must never panic, an unresolvable variable in a
// configuration is an error at FILE:LINE:COL, and a string without "${" is left unchanged.
func FuzzSubstitute(f *testing.F) {
	for _, s := range []string{
		"${localWorkspaceFolder}/x",
		"${localEnv:HOME}${env:PATH:/bin}",
		"${containerEnv:A:default}${devcontainerId}",
		"${localEnv}", "${}", "${${a}}", "${localEnv:A:${localEnv:B}}",
		"${containerWorkspaceFolderBasename}/${localWorkspaceFolderBasename}",
		"${unknown:x}", "$${a}", "${a\n}", "${\u2028}", "\x00${env:\x00}",
	} {
		f.Add(s, "/work/ws", "${localWorkspaceFolderBasename}/x")
	}
	f.Fuzz(func(t *testing.T, s, local, container string) {
		sc := SubstContext{
			LocalWorkspaceFolder:     local,
			ContainerWorkspaceFolder: container,
			LookupEnv:                func(k string) (string, bool) { return "v" + k, k != "" },
			DevcontainerID:           "0123456789abcdef",
			ContainerEnv:             map[string]string{"A": "a", "B": s},
		}
		got, err := SubstituteString(s, sc)
		if err != nil && !errors.Is(err, ErrSubstitute) {
			t.Fatalf("SubstituteString(%q): error not ErrSubstitute: %v", s, err)
		}
		if !strings.Contains(s, "${") && got != s {
			t.Fatalf("SubstituteString(%q) = %q: changed a string without variables", s, got)
		}
		// The tree form substitutes every string the same way as SubstituteString.
		tree := map[string]any{"a": []any{s, map[string]any{"b": s}}, "c": []string{s}, "d": map[string]*string{"e": &s, "f": nil}}
		out := Substitute(tree, sc).(map[string]any)
		if err == nil {
			if v := out["a"].([]any)[1].(map[string]any)["b"]; v != got {
				t.Fatalf("Substitute tree gave %q, SubstituteString %q", v, got)
			}
			if v := *out["d"].(map[string]*string)["e"]; v != got {
				t.Fatalf("Substitute map[string]*string gave %q, SubstituteString %q", v, got)
			}
		}
		if !reflect.DeepEqual(tree["c"], []string{s}) {
			t.Fatal("Substitute changed its input")
		}

		// As a property of a configuration: errors are positioned.
		val, _ := json.Marshal(s)
		doc := []byte(`{"image": "img",` + "\n" + `"remoteEnv": {"X": ` + string(val) + `}, "mounts": [` + string(val) + `]}`)
		c, perr := Parse("fuzz.json", doc)
		if perr != nil {
			if !positioned.MatchString(perr.Error()) {
				t.Fatalf("parse error without file:line:col: %q", perr)
			}
			return
		}
		sc.ConfigFile = "fuzz.json"
		if _, err := c.Substitute(sc); err != nil && !positioned.MatchString(err.Error()) {
			t.Fatalf("substitution error without file:line:col: %q", err)
		}
	})
}
