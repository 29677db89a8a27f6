package devcontainer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The cases under testdata/metadata hold devcontainer.json files (and Features, base image
// labels) together with what the reference CLI produced for them: the container or image
// label, the generated LABEL instruction and the merged configurations. Regenerate them with
// testdata/metadata/refresh.py (it runs the reference CLI against Docker).

// metadataCase is one directory of testdata/metadata.
type metadataCase struct {
	name string
	dir  string
	cfg  *Config
	// entries are the metadata entries mochi computes for a new container: base image
	// label, Features, devcontainer.json.
	entries []MetadataEntry
	// features are the Features' entries alone.
	features []MetadataEntry
}

// caseEnv is the host environment refresh.py gives the reference.
func caseEnv(name string) (string, bool) {
	switch name {
	case "MOCHI_REF_VAR":
		return "refvalue", true
	case "HOME":
		return "/root", true
	}
	return "", false
}

func loadMetadataCases(t *testing.T) []metadataCase {
	t.Helper()
	dirs, err := filepath.Glob("testdata/metadata/*/workspace")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no metadata cases: %v", err)
	}
	var cases []metadataCase
	for _, ws := range dirs {
		dir := filepath.Dir(ws)
		c := metadataCase{name: filepath.Base(dir), dir: dir}
		cfg, err := Load(filepath.Join(ws, ".devcontainer", "devcontainer.json"))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		c.cfg = cfg
		if b, err := os.ReadFile(filepath.Join(dir, "base-label.json")); err == nil {
			base, err := ParseMetadataEntries(string(b))
			if err != nil {
				t.Fatalf("%s: base label: %v", c.name, err)
			}
			c.entries = append(c.entries, base...)
		}
		for _, ref := range cfg.Features {
			b, err := os.ReadFile(filepath.Join(ws, ".devcontainer", ref.ID, "devcontainer-feature.json"))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			fe, err := FeatureEntry(ref.ID, b)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			c.features = append(c.features, fe)
		}
		c.entries = append(c.entries, c.features...)
		c.entries = append(c.entries, cfg.MetadataEntry())
		cases = append(cases, c)
	}
	return cases
}

// golden reads a golden file of the case; ok is false when the reference did not produce it.
func (c metadataCase) golden(t *testing.T, name string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, name))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func TestMetadataLabelGoldens(t *testing.T) {
	for _, c := range loadMetadataCases(t) {
		t.Run(c.name, func(t *testing.T) {
			want, ok := c.golden(t, "label.txt")
			if !ok {
				t.Fatal("label.txt missing")
			}
			if instr, ok := c.golden(t, "instruction.txt"); ok {
				// Features case: the label was written by a LABEL instruction of the
				// generated Dockerfile, and Docker turned it into the image label.
				got := MetadataEntriesInstruction(c.entries)
				if got != instr {
					t.Errorf("LABEL instruction:\n got %s\nwant %s", got, instr)
				}
				if v := labelInstructionValue(t, got); v != want {
					t.Errorf("label from the instruction:\n got %s\nwant %s", v, want)
				}
			} else {
				got := EncodeMetadataEntries(c.entries)
				if got != want {
					t.Errorf("container label:\n got %s\nwant %s", got, want)
				}
				// Reading the label back gives the entries again, byte for byte.
				back, err := ParseMetadataEntries(want)
				if err != nil {
					t.Fatal(err)
				}
				if got := EncodeMetadataEntries(back); got != want {
					t.Errorf("label round trip:\n got %s\nwant %s", got, want)
				}
			}
			// The map form writes canonical key order: the same JSON value.
			maps := make([]map[string]any, len(c.entries))
			for i, e := range c.entries {
				maps[i] = e.Map()
			}
			got := EncodeMetadataLabel(maps)
			if diff := cmp.Diff(decodeJSON(t, want), decodeJSON(t, got)); diff != "" {
				t.Errorf("EncodeMetadataLabel value (-reference +mochi):\n%s", diff)
			}
		})
	}
}

// labelInstructionValue is what Docker makes of a LABEL devcontainer.metadata="…" instruction:
// line continuations removed, then the double-quoted word unescaped.
func labelInstructionValue(t *testing.T, instr string) string {
	t.Helper()
	s := strings.ReplaceAll(instr, "\\\n", "")
	s, ok := strings.CutPrefix(s, `LABEL devcontainer.metadata="`)
	if !ok || !strings.HasSuffix(s, `"`) {
		t.Fatalf("not a metadata LABEL instruction: %q", instr)
	}
	s = strings.TrimSuffix(s, `"`)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestParseMetadataLabel(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  []map[string]any
		err   bool
	}{
		{name: "array", value: `[{"id":"a","init":true},{"remoteUser":"u"}]`, want: []map[string]any{{"id": "a", "init": true}, {"remoteUser": "u"}}},
		{name: "single object", value: `{"remoteUser":"u"}`, want: []map[string]any{{"remoteUser": "u"}}},
		{name: "spaces from a LABEL instruction", value: "[ {\"a\":1}, {\"b\":2} ]", want: []map[string]any{{"a": 1.0}, {"b": 2.0}}},
		{name: "non-objects skipped", value: `[1,"x",null,{"a":true},[]]`, want: []map[string]any{{"a": true}}},
		{name: "empty array", value: `[]`, want: []map[string]any{}},
		{name: "duplicate keys: last wins", value: `[{"a":1,"a":2}]`, want: []map[string]any{{"a": 2.0}}},
		{name: "string", value: `"x"`, err: true},
		{name: "null", value: `null`, err: true},
		{name: "garbage", value: `[{`, err: true},
		{name: "empty", value: ``, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetadataLabel(tt.value)
			if tt.err {
				if err == nil {
					t.Fatalf("want error, got %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			entries, err := ParseMetadataEntries(tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(got) {
				t.Fatalf("ParseMetadataEntries: %d entries, ParseMetadataLabel: %d", len(entries), len(got))
			}
			for i := range entries {
				if diff := cmp.Diff(got[i], entries[i].Map()); diff != "" {
					t.Errorf("entry %d (-label +entries):\n%s", i, diff)
				}
			}
		})
	}
}

func TestEncodeMetadataLabelKeyOrder(t *testing.T) {
	entries := []map[string]any{
		{}, // empty entries are left out
		{"customizations": map[string]any{"vscode": map[string]any{"z": 1, "a": 2}}, "init": true, "id": "feat", "onCreateCommand": "x"},
		{"zzz": 1, "remoteUser": "u", "postCreateCommand": []any{"a", "b"}, "remoteEnv": map[string]any{"b": nil, "10": "x", "2": "y"}, "forwardPorts": []any{3000.0, "db:1"}},
	}
	got := EncodeMetadataLabel(entries)
	want := `[{"id":"feat","onCreateCommand":"x","init":true,"customizations":{"vscode":{"a":2,"z":1}}},` +
		`{"postCreateCommand":["a","b"],"remoteUser":"u","remoteEnv":{"2":"y","10":"x","b":null},"forwardPorts":[3000,"db:1"],"zzz":1}]`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := EncodeMetadataLabel(nil); got != "[]" {
		t.Errorf("no entries: %q", got)
	}
	if got := MetadataLabelInstruction([]map[string]any{{}}); got != "" {
		t.Errorf("instruction without entries: %q", got)
	}
	instr := MetadataLabelInstruction([]map[string]any{{"containerEnv": map[string]any{"A": `"$x\`}}})
	wantInstr := "LABEL devcontainer.metadata=\"[ \\\n{\\\"containerEnv\\\":{\\\"A\\\":\\\"\\\\\\\"\\$x\\\\\\\\\\\"}} \\\n]\""
	if instr != wantInstr {
		t.Errorf("instruction:\n got %s\nwant %s", instr, wantInstr)
	}
}

func TestConfigAndFeatureEntries(t *testing.T) {
	cfg, err := Parse("devcontainer.json", []byte(`{
		// not picked: image, name, runArgs, features
		"image": "img", "name": "n", "runArgs": ["-x"],
		"remoteEnv": {"B": "${localEnv:HOME}", "A": null},
		"extensions": ["legacy"],
		"settings": {"z": 1},
		"customizations": {"vscode": {"settings": {"a": 2}}},
		"remoteUser": "dev",
		"init": false
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"customizations":{"vscode":{"settings":{"z":1,"a":2},"extensions":["legacy"]}},"init":false,"remoteUser":"dev","remoteEnv":{"B":"${localEnv:HOME}","A":null}}`
	if b, _ := cfg.MetadataEntry().MarshalJSON(); string(b) != want {
		t.Errorf("MetadataEntry:\n got %s\nwant %s", b, want)
	}
	sub, err := cfg.Substitute(SubstContext{LookupEnv: caseEnv})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := sub.MetadataEntry().MarshalJSON(); string(b) != want {
		t.Errorf("MetadataEntry of the substituted copy:\n got %s\nwant %s", b, want)
	}
	if b, _ := cfg.MetadataEntry("remoteEnv", "customizations").MarshalJSON(); string(b) != `{"init":false,"remoteUser":"dev"}` {
		t.Errorf("omit: %s", b)
	}
	m := ConfigMetadataEntry(cfg.Raw, "init")
	if diff := cmp.Diff(decodeJSON(t, `{"customizations":{"vscode":{"settings":{"z":1,"a":2},"extensions":["legacy"]}},"remoteUser":"dev","remoteEnv":{"B":"${localEnv:HOME}","A":null}}`), any(m)); diff != "" {
		t.Errorf("ConfigMetadataEntry (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"remoteUser": "dev", "remoteEnv": map[string]any{"B": "${localEnv:HOME}", "A": nil}}, UpdateableConfigEntry(cfg.Raw)); diff != "" {
		t.Errorf("UpdateableConfigEntry (-want +got):\n%s", diff)
	}

	feature := `{"id": "f", "version": "1", "name": "F", "containerEnv": {"X": "1"}, "options": {},
		"entrypoint": "/e.sh", "settings": {"s": 1}, "devPort": 1, "privileged": true,
		"customizations": {"jetbrains": {}}, "postStartCommand": "p"}`
	fe, err := FeatureEntry("./f", []byte(feature))
	if err != nil {
		t.Fatal(err)
	}
	wantF := `{"id":"./f","postStartCommand":"p","privileged":true,"entrypoint":"/e.sh","customizations":{"jetbrains":{},"vscode":{"settings":{"s":1}}}}`
	if b, _ := fe.MarshalJSON(); string(b) != wantF || fe.ID() != "./f" {
		t.Errorf("FeatureEntry:\n got %s (id %q)\nwant %s", b, fe.ID(), wantF)
	}
	var fm map[string]any
	if err := json.Unmarshal([]byte(feature), &fm); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(decodeJSON(t, wantF), any(FeatureMetadataEntry("./f", fm))); diff != "" {
		t.Errorf("FeatureMetadataEntry (-want +got):\n%s", diff)
	}
	if _, err := FeatureEntry("./bad", []byte(`[1]`)); err == nil {
		t.Error("FeatureEntry of an array: no error")
	}
}

func TestContainerMetadata(t *testing.T) {
	raw := map[string]any{"remoteUser": "new", "capAdd": []any{"X"}, "remoteEnv": map[string]any{"A": "1"}}
	feat := map[string]any{"id": "f", "init": true}
	label := `[{"id":"old","privileged":true},{"remoteUser":"old"}]`
	tests := []struct {
		name   string
		labels map[string]string
		ids    []string
		want   string
	}{
		{name: "label and id labels", labels: map[string]string{MetadataLabel: label, "a": "1", "b": "2"}, ids: []string{"a", "b"},
			want: `[{"id":"old","privileged":true},{"remoteUser":"old"},{"remoteEnv":{"A":"1"},"remoteUser":"new"}]`},
		{name: "label without all id labels", labels: map[string]string{MetadataLabel: label, "a": "1"}, ids: []string{"a", "b"},
			want: `[{"id":"old","privileged":true},{"remoteUser":"old"},{"id":"f","init":true},{"capAdd":["X"],"remoteEnv":{"A":"1"},"remoteUser":"new"}]`},
		{name: "no label", labels: map[string]string{"a": "1"}, ids: []string{"a"},
			want: `[{"id":"f","init":true},{"capAdd":["X"],"remoteEnv":{"A":"1"},"remoteUser":"new"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ContainerMetadata(tt.labels, tt.ids, raw, []map[string]any{feat})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(got)
			if diff := cmp.Diff(decodeJSON(t, tt.want), decodeJSON(t, string(b))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ContainerMetadata(map[string]string{MetadataLabel: "{"}, nil, raw, nil); err == nil {
		t.Error("bad label: no error")
	}
}

func FuzzParseMetadataLabel(f *testing.F) {
	f.Add(`[{"id":"a","init":true,"mounts":["type=bind,source=/a,target=/b"]},{"remoteUser":"u"}]`)
	f.Add(`{"hostRequirements":{"gpu":{"cores":2},"memory":"8gb"},"forwardPorts":[1,"localhost:2"]}`)
	f.Add(`[ {"postCreateCommand":{"a":["x"]}}, {"customizations":{"vscode":{}}} ]`)
	f.Add(`[{"10":1,"2":2,"a":null}]`)
	f.Fuzz(func(t *testing.T, value string) {
		maps, err := ParseMetadataLabel(value)
		entries, err2 := ParseMetadataEntries(value)
		if err != nil || err2 != nil {
			return
		}
		_ = EncodeMetadataLabel(maps)
		_ = MetadataLabelInstruction(maps)
		_ = MetadataEntriesInstruction(entries)
		out := EncodeMetadataEntries(entries)
		back, err := ParseMetadataEntries(out)
		if err != nil {
			t.Fatalf("re-parse %q: %v", out, err)
		}
		if again := EncodeMetadataEntries(back); again != out {
			t.Fatalf("encoding not stable: %q then %q", out, again)
		}
		if m, err := Merge(maps); err == nil {
			_ = m.JSON(map[string]any{})
		}
	})
}
