package devcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// positioned matches the FILE:LINE:COL: prefix every parse error carries.
var positioned = regexp.MustCompile(`^fuzz\.json:[1-9][0-9]*:[1-9][0-9]*: `)

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/parse-errors/*.jsonc", "testdata/readconfig/*/.devcontainer/devcontainer.json"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"image":"x","features":{"a":{"b":[1,{"c":null}]}},"mounts":["type=bind,\"src=a,b\",dst=/c"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.json", data)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return // empty input
			}
			if !positioned.MatchString(err.Error()) {
				t.Fatalf("error without file:line:col: %q", err)
			}
			return
		}
		// A parsed configuration can be substituted and rendered without panicking.
		sc, err := c.Substitute(SubstContext{LocalWorkspaceFolder: "/ws", ContainerWorkspaceFolder: "/workspaces/ws", LookupEnv: func(string) (string, bool) { return "v", true }})
		if err != nil {
			if !positioned.MatchString(err.Error()) {
				t.Fatalf("substitution error without file:line:col: %q", err)
			}
			return
		}
		_ = sc.Result(false)
		if _, err := ComputeLayout(sc, "/ws", false); err != nil {
			t.Fatalf("layout: %v", err)
		}
	})
}
