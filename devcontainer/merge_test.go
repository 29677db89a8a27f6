package devcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// substituteEntries applies the substitution phases to metadata entries as mochi does before
// merging.
func substituteEntries(t *testing.T, entries []map[string]any, sc SubstContext) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(entries))
	for i, e := range entries {
		m, ok := Substitute(e, sc).(map[string]any)
		if !ok {
			t.Fatalf("substitute entry %d: not an object", i)
		}
		out[i] = m
	}
	return out
}

func entryMaps(entries []MetadataEntry) []map[string]any {
	out := make([]map[string]any, len(entries))
	for i, e := range entries {
		out[i] = e.Map()
	}
	return out
}

// mergedFor substitutes, merges and renders entries the way the reference does for one of
// the golden outputs: read-configuration substitutes local variables only; up and a read
// against an existing container also substitute ${devcontainerId} and ${containerEnv:…}
// (the container's environment is the image's, empty for the test images, plus containerEnv).
func mergedFor(t *testing.T, name string, raw map[string]any, entries []map[string]any, withContainer bool) any {
	t.Helper()
	sc := SubstContext{LookupEnv: caseEnv}
	if withContainer {
		sc.DevcontainerID = DevcontainerID(map[string]string{"mochi.test": "1", "mochi.case": name})
	}
	m, err := Merge(substituteEntries(t, entries, sc))
	if err != nil {
		t.Fatal(err)
	}
	if withContainer {
		sc.ContainerEnv = m.ContainerEnv
		if m, err = Merge(substituteEntries(t, entries, sc)); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := Substitute(raw, sc).(map[string]any)
	b, err := json.Marshal(m.JSON(cfg))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMergedConfigurationGoldens(t *testing.T) {
	for _, c := range loadMetadataCases(t) {
		t.Run(c.name, func(t *testing.T) {
			entries := entryMaps(c.entries)
			n := 0
			if want, ok := c.golden(t, "read-merged.json"); ok {
				n++
				got := mergedFor(t, c.name, c.cfg.Raw, entries, false)
				if diff := cmp.Diff(decodeJSON(t, want), got); diff != "" {
					t.Errorf("read-configuration mergedConfiguration (-reference +mochi):\n%s", diff)
				}
			}
			if want, ok := c.golden(t, "up-merged.json"); ok {
				n++
				got := mergedFor(t, c.name, c.cfg.Raw, entries, true)
				if diff := cmp.Diff(decodeJSON(t, want), got); diff != "" {
					t.Errorf("up mergedConfiguration (-reference +mochi):\n%s", diff)
				}
			}
			if want, ok := c.golden(t, "after-merged.json"); ok {
				n++
				b, err := os.ReadFile(filepath.Join(c.dir, "after.json"))
				if err != nil {
					t.Fatal(err)
				}
				after, err := Parse("after.json", b)
				if err != nil {
					t.Fatal(err)
				}
				label, _ := c.golden(t, "label.txt")
				labels := map[string]string{MetadataLabel: label, "mochi.test": "1", "mochi.case": c.name}
				entries, err := ContainerMetadata(labels, []string{"mochi.test", "mochi.case"}, after.Raw, nil)
				if err != nil {
					t.Fatal(err)
				}
				got := mergedFor(t, c.name, after.Raw, entries, true)
				if diff := cmp.Diff(decodeJSON(t, want), got); diff != "" {
					t.Errorf("mergedConfiguration for the existing container (-reference +mochi):\n%s", diff)
				}
			}
			if n == 0 {
				t.Fatal("no merged golden")
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func mustMerge(t *testing.T, entries string) *Merged {
	t.Helper()
	var es []map[string]any
	if err := json.Unmarshal([]byte(entries), &es); err != nil {
		t.Fatal(err)
	}
	m, err := Merge(es)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMergeRules(t *testing.T) {
	tests := []struct {
		name    string
		entries string
		check   func(t *testing.T, m *Merged)
	}{
		{"init and privileged: any true", `[{"init":false},{"init":true},{"init":false,"privileged":false}]`, func(t *testing.T, m *Merged) {
			if !m.Init || m.Privileged {
				t.Errorf("Init %v Privileged %v", m.Init, m.Privileged)
			}
		}},
		{"capAdd and securityOpt: ordered union", `[{"capAdd":["B","A"]},{"capAdd":["A","C","B"],"securityOpt":["x"]},{"securityOpt":["y","x"]}]`, func(t *testing.T, m *Merged) {
			want := [][]string{{"B", "A", "C"}, {"x", "y"}}
			if diff := cmp.Diff(want, [][]string{m.CapAdd, m.SecurityOpt}); diff != "" {
				t.Error(diff)
			}
		}},
		{"entrypoints collected", `[{"entrypoint":"/a"},{},{"entrypoint":""},{"entrypoint":"/b"}]`, func(t *testing.T, m *Merged) {
			if diff := cmp.Diff([]string{"/a", "/b"}, m.Entrypoints); diff != "" {
				t.Error(diff)
			}
		}},
		{"mounts: last target wins, order kept", `[{"mounts":["type=volume,source=a,target=/x","source=b,dst=/y,type=bind"]},{"mounts":[{"type":"volume","source":"c","target":"/x"},"src=d,destination=/z"]}]`, func(t *testing.T, m *Merged) {
			var got []string
			for _, mt := range m.Mounts {
				got = append(got, mt.Source+">"+mt.Target)
			}
			if diff := cmp.Diff([]string{"b>/y", "c>/x", "d>/z"}, got); diff != "" {
				t.Error(diff)
			}
			if s := m.Mounts[1].String(); s != "type=volume,src=c,dst=/x" {
				t.Errorf("object mount renders as %q", s)
			}
		}},
		{"hooks collected with origins", `[{"id":"f1","onCreateCommand":"a","postStartCommand":["b","c"]},{"id":"f2","onCreateCommand":""},{"onCreateCommand":{"x":"y"},"postAttachCommand":[]}]`, func(t *testing.T, m *Merged) {
			type hook struct{ Origin, Cmd string }
			var got []hook
			for _, list := range [][]HookCommand{m.OnCreateCommands, m.UpdateContentCommands, m.PostCreateCommands, m.PostStartCommands, m.PostAttachCommands} {
				for _, h := range list {
					got = append(got, hook{h.Origin, h.Command.String()})
				}
			}
			want := []hook{{"f1", "a"}, {"", `{"x":"y"}`}, {"f1", "b c"}, {"", ""}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Error(diff)
			}
			if m.OnCreateCommands[1].Command.Form != ParallelForm || m.PostStartCommands[0].Command.Form != ArgsForm {
				t.Error("command forms not kept")
			}
		}},
		{"last truthy string wins", `[{"remoteUser":"a","waitFor":"onCreateCommand","shutdownAction":"none"},{"remoteUser":"","containerUser":"c"},{"userEnvProbe":"loginShell","remoteUser":null}]`, func(t *testing.T, m *Merged) {
			got := []string{m.RemoteUser, m.ContainerUser, m.WaitFor, m.UserEnvProbe, m.ShutdownAction}
			if diff := cmp.Diff([]string{"a", "c", "onCreateCommand", "loginShell", "none"}, got); diff != "" {
				t.Error(diff)
			}
		}},
		{"last boolean wins", `[{"overrideCommand":true,"updateRemoteUserUID":false},{"overrideCommand":false},{}]`, func(t *testing.T, m *Merged) {
			if diff := cmp.Diff([]*bool{ptr(false), ptr(false)}, []*bool{m.OverrideCommand, m.UpdateRemoteUserUID}); diff != "" {
				t.Error(diff)
			}
		}},
		{"unset booleans stay nil", `[{}]`, func(t *testing.T, m *Merged) {
			if m.OverrideCommand != nil || m.UpdateRemoteUserUID != nil {
				t.Error("not nil")
			}
		}},
		{"env: object-assign, null kept", `[{"remoteEnv":{"A":"1","B":"2"},"containerEnv":{"X":"1"}},{"remoteEnv":{"B":null,"C":"3"},"containerEnv":{"X":"2","Y":"3"}}]`, func(t *testing.T, m *Merged) {
			want := map[string]*string{"A": ptr("1"), "B": nil, "C": ptr("3")}
			if diff := cmp.Diff(want, m.RemoteEnv); diff != "" {
				t.Error(diff)
			}
			if diff := cmp.Diff(map[string]string{"X": "2", "Y": "3"}, m.ContainerEnv); diff != "" {
				t.Error(diff)
			}
		}},
		{"forwardPorts: localhost:N is N", `[{"forwardPorts":["localhost:3000",3000,"db:5432"]},{"forwardPorts":[5432,"db:5432",8080.0,3000]}]`, func(t *testing.T, m *Merged) {
			if diff := cmp.Diff([]any{3000, "db:5432", 5432, 8080}, m.ForwardPorts); diff != "" {
				t.Error(diff)
			}
		}},
		{"portsAttributes per port, otherPortsAttributes last truthy", `[{"portsAttributes":{"1":{"label":"a"},"2":{"label":"b"}},"otherPortsAttributes":{"onAutoForward":"silent"}},{"portsAttributes":{"2":{"label":"c"}},"otherPortsAttributes":null}]`, func(t *testing.T, m *Merged) {
			want := map[string]any{"1": map[string]any{"label": "a"}, "2": map[string]any{"label": "c"}}
			if diff := cmp.Diff(want, m.PortsAttributes); diff != "" {
				t.Error(diff)
			}
			if diff := cmp.Diff(map[string]any{"onAutoForward": "silent"}, m.OtherPortsAttributes); diff != "" {
				t.Error(diff)
			}
		}},
		{"customizations: arrays per tool", `[{"customizations":{"vscode":{"a":1}}},{"customizations":{"jetbrains":{"b":2},"vscode":{"c":3}}}]`, func(t *testing.T, m *Merged) {
			want := map[string][]any{"vscode": {map[string]any{"a": 1.0}, map[string]any{"c": 3.0}}, "jetbrains": {map[string]any{"b": 2.0}}}
			if diff := cmp.Diff(want, m.Customizations); diff != "" {
				t.Error(diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, mustMerge(t, tt.entries)) })
	}
}

func TestMergeHostRequirements(t *testing.T) {
	tests := []struct {
		name    string
		entries string
		want    string // JSON of hostRequirements in the merged configuration, "" for none
	}{
		{"none", `[{"remoteUser":"u"},{}]`, ""},
		{"no properties at all: the reference prints Math.max of nothing", `[{},{}]`, `{"cpus":null,"memory":"-Infinity","storage":"-Infinity"}`},
		{"max cpus, memory and storage in bytes", `[{"hostRequirements":{"cpus":2,"memory":"4gb"}},{"hostRequirements":{"cpus":1,"memory":"5000mb","storage":"32gb"}}]`,
			`{"cpus":2,"memory":"5242880000","storage":"34359738368"}`},
		{"units: lower case only", `[{"hostRequirements":{"memory":"4GB","storage":"1tb"}}]`, `{"cpus":0,"storage":"1099511627776"}`},
		{"plain bytes and kb", `[{"hostRequirements":{"memory":"1024","storage":"2kb"}}]`, `{"cpus":0,"memory":"1024","storage":"2048"}`},
		{"gpu alone is kept as written", `[{"hostRequirements":{"gpu":{"cores":4,"memory":"8gb"}}}]`, `{"cpus":0,"gpu":{"cores":4,"memory":"8gb"}}`},
		{"gpu optional and optional", `[{"hostRequirements":{"gpu":"optional"}},{"hostRequirements":{"gpu":"optional"}}]`, `{"cpus":0,"gpu":"optional"}`},
		{"gpu false yields", `[{"hostRequirements":{"gpu":true}},{"hostRequirements":{"gpu":false}}]`, `{"cpus":0,"gpu":true}`},
		{"gpu true and true becomes an empty object", `[{"hostRequirements":{"gpu":true}},{"hostRequirements":{"gpu":true}}]`, `{"cpus":0,"gpu":{}}`},
		{"gpu objects: max", `[{"hostRequirements":{"gpu":{"cores":2,"memory":"1gb"}}},{"hostRequirements":{"gpu":{"cores":1,"memory":"2gb"}}},{"hostRequirements":{"gpu":"optional"}}]`,
			`{"cpus":0,"gpu":{"cores":2,"memory":"2147483648"}}`},
		{"gpu false with cpus is kept", `[{"hostRequirements":{"cpus":1,"gpu":false}}]`, `{"cpus":1,"gpu":false}`},
		{"gpu false then unset is dropped", `[{"hostRequirements":{"cpus":1,"gpu":false}},{}]`, `{"cpus":1}`},
		{"gpu false only: nothing required", `[{"hostRequirements":{"gpu":false}}]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustMerge(t, tt.entries)
			got, ok := m.JSON(nil)["hostRequirements"]
			if tt.want == "" {
				if ok || m.HostRequirements != nil {
					t.Fatalf("want none, got %v", got)
				}
				return
			}
			if !ok {
				t.Fatal("no hostRequirements")
			}
			b, _ := json.Marshal(got)
			if diff := cmp.Diff(decodeJSON(t, tt.want), decodeJSON(t, string(b))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	m := mustMerge(t, `[{"hostRequirements":{"cpus":4,"memory":"2gb","storage":"1tb"}}]`)
	if h := m.HostRequirements; h.CPUs != 4 || h.Memory != 2<<30 || h.Storage != 1<<40 {
		t.Errorf("typed fields: %+v", h)
	}
}

func TestMergeJSONShape(t *testing.T) {
	m := mustMerge(t, `[]`)
	got := m.JSON(map[string]any{"image": "x", "postCreateCommand": "a", "customizations": map[string]any{}, "capAdd": []any{"X"}, "entrypoint": "e"})
	b, _ := json.Marshal(got)
	want := `{"image":"x","init":false,"privileged":false,"onCreateCommands":[],"updateContentCommands":[],"postCreateCommands":[],"postStartCommands":[],"postAttachCommands":[],"remoteEnv":{},"containerEnv":{},"portsAttributes":{},"hostRequirements":{"cpus":null,"memory":"-Infinity","storage":"-Infinity"}}`
	if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, string(b))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestMergeErrors(t *testing.T) {
	tests := []struct{ entries, want string }{
		{`[{},{"init":"yes"}]`, `metadata entry 1: "init" must be a boolean`},
		{`[{"capAdd":"X"}]`, `metadata entry 0: "capAdd" must be an array of strings`},
		{`[{"capAdd":[1]}]`, `metadata entry 0: "capAdd[0]" must be a string`},
		{`[{"mounts":[{"source":"a"}]}]`, `metadata entry 0: "mounts[0]" has no target`},
		{`[{"mounts":["type=bind,source=/a"]}]`, `metadata entry 0: "mounts[0]": parse mount`},
		{`[{"remoteEnv":{"A":1}}]`, `metadata entry 0: "remoteEnv.A" must be a string or null`},
		{`[{"forwardPorts":[true]}]`, `metadata entry 0: "forwardPorts[0]" must be a number or a string`},
		{`[{"postCreateCommand":{"a":{"b":1}}}]`, `metadata entry 0: "postCreateCommand"`},
		{`[{"hostRequirements":{"cpus":"2"}}]`, `metadata entry 0: "hostRequirements.cpus" must be a number`},
		{`[{"customizations":[1]}]`, `metadata entry 0: "customizations" must be an object`},
	}
	for _, tt := range tests {
		var es []map[string]any
		if err := json.Unmarshal([]byte(tt.entries), &es); err != nil {
			t.Fatal(err)
		}
		_, err := Merge(es)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want prefix %q", tt.entries, err, tt.want)
		}
	}
}

// TestMergeRandomGoldens replays testdata/merge/random.json: random metadata labels and
// configurations the reference CLI merged (read-configuration --include-merged-configuration).
// Regenerate with testdata/merge/refresh.py.
func TestMergeRandomGoldens(t *testing.T) {
	b, err := os.ReadFile("testdata/merge/random.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Label  string
		Config map[string]any
		Merged any
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for i, c := range cases {
		entries, err := ParseMetadataLabel(c.Label)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		m, err := Merge(append(entries, ConfigMetadataEntry(c.Config)))
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		out, err := json.Marshal(m.JSON(c.Config))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.Merged, decodeJSON(t, string(out))); diff != "" {
			t.Errorf("case %d: label %s, config %v (-reference +mochi):\n%s", i, c.Label, c.Config, diff)
		}
	}
}
