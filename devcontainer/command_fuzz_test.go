package devcontainer

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// hookProperty matches a decode error naming a lifecycle property at FILE:LINE:COL.
var hookProperty = regexp.MustCompile(`^fuzz\.json:[1-9][0-9]*:[1-9][0-9]*: .*"postCreateCommand`)

// FuzzCommandForms decodes arbitrary JSON as a lifecycle command, standalone and as
// postCreateCommand of a configuration: no panic; an accepted command re-encodes to a value
// that decodes to the same command; a configuration that rejects it names the file, position
// and property.
func FuzzCommandForms(f *testing.F) {
	for _, s := range []string{
		`"echo hi"`, `["echo", "hi"]`, `{"a": "x", "b": ["y", "z"]}`, `null`, `""`, `[]`, `{}`,
		`1`, `true`, `[1]`, `{"a": {"b": "c"}}`, `{"a": null}`, `["a", null]`, `{"": ""}`,
		`"; rm -rf / #"`, `["$(id)", "` + "`id`" + `"]`, `{"__proto__": "x", "10": "y", "2": "z"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c Command
		if err := json.Unmarshal([]byte(s), &c); err == nil {
			if c.Form != 0 {
				out, err := json.Marshal(&c)
				if err != nil {
					t.Fatalf("marshal %q: %v", s, err)
				}
				var back Command
				if err := json.Unmarshal(out, &back); err != nil {
					t.Fatalf("re-decode %s: %v", out, err)
				}
				if back.String() != c.String() || back.Form != c.Form {
					t.Fatalf("round trip of %q: %q (form %d) became %q (form %d)", s, c.String(), c.Form, back.String(), back.Form)
				}
			}
			_ = c.IsEmpty()
		}
		doc := `{"image": "img",` + "\n" + `"postCreateCommand": ` + s + "\n}"
		cfg, err := Parse("fuzz.json", []byte(doc))
		if err != nil {
			if !positioned.MatchString(err.Error()) {
				t.Fatalf("error without file:line:col: %q", err)
			}
			// A value that is valid JSON but not a command must be blamed on the property.
			var v any
			if json.Unmarshal([]byte(s), &v) == nil && !strings.Contains(err.Error(), "syntax") && !hookProperty.MatchString(err.Error()) {
				t.Fatalf("command %s rejected without naming postCreateCommand: %q", s, err)
			}
			return
		}
		_ = cfg.Result(false)
	})
}
