package features

import (
	"regexp"
	"strings"
	"testing"
)

// located matches the ways a rejected devcontainer-feature.json is pinned down: a named
// property, a line and column from the JSON parser, or the whole document's type.
var located = regexp.MustCompile(`property "|line [0-9]+|:[0-9]+:[0-9]+|expected a JSON object|offset [0-9]+`)

// FuzzParseMetadata parses arbitrary devcontainer-feature.json documents: no panic; every
// rejection is ErrInvalidMetadata naming the file and the property or position at fault; an
// accepted document gives a usable label entry, and its options resolve against hostile user
// values without panicking, with the env file holding one line per option.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","version":"1.0.0","options":{"v":{"type":"string","default":"x","proposals":["x"]},"b":{"type":"boolean","default":true}}}`,
		`{"id":"a","installsAfter":["b"],"dependsOn":{"c":{"x":"1"},"d":"1"},"containerEnv":{"P":"${PATH}:/x"}}`,
		`{"id":"a","mounts":[{"source":"../../etc","target":"/x","type":"bind"}],"postCreateCommand":{"a":["b"]}}`,
		`{"id":"a", // comment
		"customizations":{"vscode":{}},"entrypoint":"/x","init":true,"privileged":false,}`,
		`{"id":"../x"}`, `{"id":1}`, `[]`, `{"id":"a","options":{"o":{"type":"number"}}}`, `{"id":"a","options":{"o":{"type":"string","enum":[1]}}}`,
		`{"id":"a","options":{"$(id)":{"type":"string","default":"; rm -rf / #"}}}`,
	} {
		f.Add(s, `{"v":"$(touch /tmp/pwned)\"\n","b":"true","$(id)":"x"}`)
	}
	f.Fuzz(func(t *testing.T, doc, user string) {
		m, err := ParseMetadata("fuzz-feature.json", []byte(doc))
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, "fuzz-feature.json") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			if !located.MatchString(msg) {
				t.Fatalf("error does not name a property or position: %q", msg)
			}
			return
		}
		if m.MetadataEntryJSON("user/feature") == nil {
			t.Fatal("nil metadata entry for an accepted feature")
		}
		var u any
		if v, err := parseJSONC([]byte(user)); err == nil {
			u = plain(v)
		} else {
			u = user
		}
		opts, err := ResolveOptions("user/feature", m, u)
		if err != nil {
			return
		}
		env := EnvFile(opts)
		if len(opts) > 0 && strings.Count(string(env), "\n") < len(opts)-1 {
			t.Fatalf("env file has fewer lines than options: %q", env)
		}
		for _, o := range opts {
			// An option named "" gives an empty name, as SafeID does in the reference; that
			// name is reported to the lead as metadata to reject, not checked here.
			if o.Name != "" && !validEnvName.MatchString(o.EnvName()) {
				t.Fatalf("option %q gives env name %q", o.Name, o.EnvName())
			}
		}
	})
}

var validEnvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
