package features

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// loadConfigInput reads the features and overrideFeatureInstallOrder of a test configuration,
// keeping the features' order as written.
func loadConfigInput(t *testing.T, workspace string) Input {
	t.Helper()
	file := filepath.Join(workspace, ".devcontainer", "devcontainer.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseJSONC(data)
	if err != nil {
		t.Fatal(err)
	}
	doc := v.(*object)
	in := Input{ConfigFile: file, WorkspaceFolder: workspace}
	if fv, ok := doc.get("features"); ok {
		fo := fv.(*object)
		for _, k := range fo.keys {
			in.Features = append(in.Features, Requested{ID: k, Options: fo.vals[k]})
		}
	}
	if ov, ok := doc.get("overrideFeatureInstallOrder"); ok {
		for _, s := range ov.([]any) {
			in.OverrideOrder = append(in.OverrideOrder, s.(string))
		}
	}
	return in
}

// TestInstallOrderMatchesReference resolves the cases of the reference CLI's
// containerFeaturesOrder tests (re-created under testdata/order) and compares the install
// order with reference-order.json, which is the output of
// `devcontainer features resolve-dependencies --workspace-folder <case>` of
// @devcontainers/cli 0.89.0 (the circular cases exit 1 with "Circular dependency detected!").
func TestInstallOrderMatchesReference(t *testing.T) {
	cases, err := filepath.Glob("testdata/order/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ws, _ := filepath.Abs(dir)
			var want struct {
				InstallOrder []OrderEntry `json:"installOrder"`
				Error        string       `json:"error"`
			}
			data, err := os.ReadFile(filepath.Join(ws, "reference-order.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			r := &Resolver{CacheDir: t.TempDir()}
			set, err := r.Resolve(context.Background(), loadConfigInput(t, ws))
			if want.Error != "" {
				if !errors.Is(err, ErrCycle) {
					t.Fatalf("Resolve error = %v, want a cycle error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(set.InstallOrder())
			var gotOrder []OrderEntry
			json.Unmarshal(got, &gotOrder)
			if diff := cmp.Diff(want.InstallOrder, gotOrder); diff != "" {
				t.Errorf("install order (-reference +mochi):\n%s", diff)
			}
		})
	}
}

func TestCycleErrorNamesFeatures(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		// ./a {} depends on ./b, which is on the cycle through ./a {"magicNumber":"50"}.
		{"dependsOn-circular", `./b -> ./c {"magicNumber":"50"} -> ./a {"magicNumber":"50"} -> ./b`},
		{"installsAfter-circular", "./a -> ./b -> ./c -> ./a"},
	} {
		ws, _ := filepath.Abs(filepath.Join("testdata/order", tc.dir))
		r := &Resolver{CacheDir: t.TempDir()}
		_, err := r.Resolve(context.Background(), loadConfigInput(t, ws))
		want := "compute feature install order: circular feature dependency: " + tc.want
		if err == nil || err.Error() != want {
			t.Errorf("%s: error = %v, want %q", tc.dir, err, want)
		}
	}
}

func TestLocaleCompareLikeJavaScript(t *testing.T) {
	o := newOrderer()
	// Orders checked with node -e 'console.log([...].sort((a,b)=>a.localeCompare(b)))'.
	in := []string{"b", "B", "a_b", "a-b", "a1", "ab", "A"}
	want := []string{"A", "a_b", "a-b", "a1", "ab", "b", "B"}
	got := append([]string(nil), in...)
	sortStrings(got, o.lc)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestMermaid(t *testing.T) {
	ws, _ := filepath.Abs("testdata/order/dependsOn-and-installsAfter")
	in := loadConfigInput(t, ws)
	in.Features = append(in.Features, Requested{ID: "./b", Options: map[string]any{}})
	set, err := (&Resolver{CacheDir: t.TempDir()}).Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := `flowchart
n0[./b]
n1[./c {"magicNumber":"321"}]
n2[./a]
n2[./a] --> n1[./c {"magicNumber":"321"}]
n2[./a] -.-> n0[./b]
`
	if got := set.Mermaid(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
