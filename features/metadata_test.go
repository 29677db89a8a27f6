package features

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestParseCorpus parses the real devcontainer-feature.json files in the shared corpus.
func TestParseCorpus(t *testing.T) {
	files, _ := filepath.Glob("../../shared/corpus/features/*.json")
	if len(files) == 0 {
		t.Skip("corpus not available")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseMetadata(f, data)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if m.ID == "" || m.Version == "" || m.Raw["id"] != m.ID {
			t.Errorf("%s: id %q version %q", f, m.ID, m.Version)
		}
		for _, o := range m.Options {
			if o.HasDefault {
				if _, isBool := o.Default.(bool); isBool != (o.Type == "boolean") {
					t.Errorf("%s: option %s default %v for type %s", f, o.Name, o.Default, o.Type)
				}
			}
		}
	}
}

func TestParseMetadataFields(t *testing.T) {
	m := mustMeta(t, `{
		// comments and trailing commas are allowed
		"id": "x", "version": "1.0.0", "name": "X",
		"containerEnv": {"Z": "1", "A": "${PATH}"},
		"dependsOn": {"example.com/ns/b:1": {"k": "v"}, "./c": true},
		"installsAfter": ["example.com/ns/d"],
		"legacyIds": ["old"], "currentId": "x",
		"init": true, "privileged": false, "capAdd": ["SYS_PTRACE"], "securityOpt": ["seccomp=unconfined"],
		"entrypoint": "/usr/local/share/x-init.sh",
		"mounts": ["source=v,target=/v,type=volume", {"source": "w", "target": "/w", "type": "volume"}],
		"customizations": {"vscode": {"extensions": ["a.b"]}},
		"postStartCommand": ["echo", "hi"],
	}`)
	if len(m.ContainerEnv) != 2 || m.ContainerEnv[0] != (EnvVar{"Z", "1"}) || m.ContainerEnv[1] != (EnvVar{"A", "${PATH}"}) {
		t.Errorf("containerEnv %v", m.ContainerEnv)
	}
	if len(m.DependsOn) != 2 || m.DependsOn[0].Ref != "example.com/ns/b:1" || m.DependsOn[1].Options != true {
		t.Errorf("dependsOn %+v", m.DependsOn)
	}
	if *m.Init != true || *m.Privileged != false || m.Entrypoint == "" || len(m.Mounts) != 2 || m.Customizations["vscode"] == nil {
		t.Errorf("container properties %+v", m)
	}
	if _, ok := m.Hooks["postStartCommand"].([]any); !ok {
		t.Errorf("hooks %v", m.Hooks)
	}
	entry := m.MetadataEntry("example.com/ns/x:1")
	for _, k := range []string{"id", "init", "privileged", "capAdd", "securityOpt", "entrypoint", "mounts", "customizations", "postStartCommand"} {
		if _, ok := entry[k]; !ok {
			t.Errorf("metadata entry lacks %s: %v", k, entry)
		}
	}
	if got, want := string(m.MetadataEntryJSON("./x")), `{"id":"./x","postStartCommand":["echo","hi"],"init":true,"privileged":false,"capAdd":["SYS_PTRACE"],"securityOpt":["seccomp=unconfined"],"entrypoint":"/usr/local/share/x-init.sh","mounts":["source=v,target=/v,type=volume",{"source":"w","target":"/w","type":"volume"}],"customizations":{"vscode":{"extensions":["a.b"]}}}`; got != want {
		t.Errorf("metadata entry JSON:\n got %s\nwant %s", got, want)
	}
	if _, ok := entry["containerEnv"]; ok {
		t.Errorf("feature containerEnv must not be in the metadata entry (it is image ENV)")
	}
}

func TestParseMetadataErrors(t *testing.T) {
	for doc, want := range map[string]string{
		`{"version": "1"}`: `invalid devcontainer-feature.json: f.json: property "id": is required`,
		`{"id": "../x"}`:   `invalid devcontainer-feature.json: f.json: property "id": "../x" must be letters, digits, '_', '-' or '.', not starting with '.'`,
		`{"id": 3}`:        `invalid devcontainer-feature.json: f.json: property "id": expected a string, got number 3`,
		`[1]`:              `invalid devcontainer-feature.json: f.json: expected a JSON object`,
		`{"id": "a",}x`:    `invalid devcontainer-feature.json: parse f.json: hujson: line 1, column 13: invalid character 'x' after top-level value`,
		`{"id": "a", "options": {"o": {"type": "number"}}}`:                     `invalid devcontainer-feature.json: f.json: property "options.o.type": expected "string" or "boolean", got "number"`,
		`{"id": "a", "options": {"o": {"type": "boolean", "default": "true"}}}`: `invalid devcontainer-feature.json: f.json: property "options.o.default": expected a boolean, got string "true"`,
		`{"id": "a", "containerEnv": {"X": 1}}`:                                 `invalid devcontainer-feature.json: f.json: property "containerEnv.X": expected a string, got number 1`,
		`{"id": "a", "installsAfter": "x"}`:                                     `invalid devcontainer-feature.json: f.json: property "installsAfter": expected an array of strings, got string "x"`,
		`{"id": "a", "mounts": [1]}`:                                            `invalid devcontainer-feature.json: f.json: property "mounts[0]": expected a string or an object, got number 1`,
	} {
		_, err := ParseMetadata("f.json", []byte(doc))
		if !errors.Is(err, ErrInvalidMetadata) || err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", doc, err, want)
		}
	}
}
