package devcontainer

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestParseErrorGoldens checks the exact error text for every file in
// testdata/parse-errors (NAME.jsonc -> NAME.err; refresh with -update).
func TestParseErrorGoldens(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "parse-errors", "*.jsonc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no parse error cases: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".jsonc")
		t.Run(name, func(t *testing.T) {
			_, err := Load(file)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %T %q is not an *Error", err, err)
			}
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is neither ErrSyntax nor ErrInvalid", err)
			}
			golden := strings.TrimSuffix(file, ".jsonc") + ".err"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestParseErrorPositions(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"wrong type names path", "{\n  \"image\": \"x\",\n  \"runArgs\": \"-it\"\n}", `.devcontainer/devcontainer.json:3:14: "runArgs" must be an array of strings`},
		{"nested path", "{\"build\": {\"dockerfile\": \"D\", \"options\": [1]}}", `.devcontainer/devcontainer.json:1:43: "build.options[0]" must be a string`},
		{"remoteEnv key", "{\"remoteEnv\": {\"A\": []}}", `.devcontainer/devcontainer.json:1:21: "remoteEnv.A" must be a string or null`},
		{"syntax", "{\n\"a\": }", `.devcontainer/devcontainer.json:2:6: invalid character '}' at start of value`},
		{"root", "\n\n  [1]", `.devcontainer/devcontainer.json:3:3: dev container config must contain a JSON object literal`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(".devcontainer/devcontainer.json", []byte(tt.src))
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestParseEmptyIsNotFound(t *testing.T) {
	// The reference treats an empty file like a missing one.
	_, err := Parse("/ws/.devcontainer/devcontainer.json", nil)
	if !errors.Is(err, ErrNotFound) || err.Error() != "Dev container config (/ws/.devcontainer/devcontainer.json) not found." {
		t.Errorf("Parse(empty) = %v", err)
	}
}

func TestCorpusParses(t *testing.T) {
	for _, file := range corpusFiles(t) {
		t.Run(corpusName(file), func(t *testing.T) {
			c, err := Load(file)
			if err != nil {
				t.Fatal(err)
			}
			kinds := 0
			for _, k := range []bool{c.IsImage(), c.IsDockerfile(), c.IsCompose()} {
				if k {
					kinds++
				}
			}
			if kinds != 1 {
				t.Errorf("image=%v dockerfile=%v compose=%v, want exactly one", c.IsImage(), c.IsDockerfile(), c.IsCompose())
			}
			if c.Raw["name"] != nil && c.Name == "" {
				t.Error("name not decoded")
			}
			if c.IsCompose() && (c.Service == "" || len(c.DockerComposeFile) == 0) {
				t.Errorf("compose config without service or files: %q %q", c.Service, c.DockerComposeFile)
			}
			if c.IsDockerfile() && !strings.HasPrefix(c.DockerfilePath(), filepath.Dir(c.File)) && !filepath.IsAbs(c.Build.Dockerfile) {
				t.Errorf("Dockerfile path %s not under the config folder", c.DockerfilePath())
			}
		})
	}
}

func TestDecodeProperties(t *testing.T) {
	src := `{
		"name": "n",
		"image": "registry.example.com/img",
		"build": {"dockerfile": "D", "context": "..", "args": {"A": "1"}, "target": "t", "cacheFrom": "c", "options": ["--network=host"]},
		"workspaceFolder": "/w",
		"workspaceMount": "type=bind,source=/s,target=/w",
		"mounts": ["source=v,target=/v,type=volume", {"type": "bind", "source": "/a", "target": "/b"}],
		"containerEnv": {"C": "1"},
		"remoteEnv": {"R": "2", "N": null},
		"containerUser": "cu", "remoteUser": "ru", "updateRemoteUserUID": false, "userEnvProbe": "none",
		"overrideCommand": true, "runArgs": ["--init"], "appPort": [3000, "8080:80"],
		"capAdd": ["NET_ADMIN"], "securityOpt": ["x"], "init": true, "privileged": true,
		"shutdownAction": "none",
		"forwardPorts": [8000, "db:5432"],
		"portsAttributes": {"8000": {"label": "web", "protocol": "https", "onAutoForward": "notify", "requireLocalPort": true, "elevateIfNeeded": false}},
		"otherPortsAttributes": {"onAutoForward": "silent"},
		"hostRequirements": {"cpus": 4, "memory": "8gb", "storage": "32gb", "gpu": {"cores": 2, "memory": "4gb"}},
		"customizations": {"vscode": {"extensions": ["e"]}},
		"features": {"b/f:1": {"o": "v"}, "a/g:2": "1.2", "./l": true},
		"overrideFeatureInstallOrder": ["a/g"],
		"initializeCommand": "i", "onCreateCommand": ["o", "c"], "updateContentCommand": {"x": "u"},
		"postCreateCommand": "p", "postStartCommand": "s", "postAttachCommand": "a",
		"waitFor": "postCreateCommand"
	}`
	c, err := Parse("/ws/.devcontainer/devcontainer.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	two := "2"
	want := &Config{
		File: "/ws/.devcontainer/devcontainer.json", Name: "n", Image: "registry.example.com/img",
		Build:           &Build{Dockerfile: "D", Context: "..", Args: map[string]string{"A": "1"}, Target: "t", CacheFrom: []string{"c"}, Options: []string{"--network=host"}},
		WorkspaceFolder: "/w", WorkspaceMount: strPtr("type=bind,source=/s,target=/w"),
		Mounts: []Mount{
			{Type: "volume", Source: "v", Target: "/v", Spec: "source=v,target=/v,type=volume"},
			{Type: "bind", Source: "/a", Target: "/b"},
		},
		ContainerEnv: map[string]string{"C": "1"}, RemoteEnv: map[string]*string{"R": &two, "N": nil},
		ContainerUser: "cu", RemoteUser: "ru", UpdateRemoteUserUID: &no, UserEnvProbe: "none",
		OverrideCommand: &yes, RunArgs: []string{"--init"}, AppPort: []string{"127.0.0.1:3000:3000", "8080:80"},
		CapAdd: []string{"NET_ADMIN"}, SecurityOpt: []string{"x"}, Init: &yes, Privileged: &yes,
		ShutdownAction: "none", ForwardPorts: []string{"8000", "db:5432"},
		PortsAttributes:      map[string]PortAttributes{"8000": {Label: "web", Protocol: "https", OnAutoForward: "notify", RequireLocalPort: &yes, ElevateIfNeeded: &no}},
		OtherPortsAttributes: &PortAttributes{OnAutoForward: "silent"},
		HostRequirements:     &HostRequirements{CPUs: 4, Memory: "8gb", Storage: "32gb", GPU: &GPURequirements{Cores: 2, Memory: "4gb"}},
		Customizations:       map[string]any{"vscode": map[string]any{"extensions": []any{"e"}}},
		Features: []FeatureRef{
			{ID: "b/f:1", Options: map[string]any{"o": "v"}, Value: map[string]any{"o": "v"}},
			{ID: "a/g:2", Value: "1.2"},
			{ID: "./l", Value: true},
		},
		OverrideFeatureInstallOrder: []string{"a/g"},
		InitializeCommand:           &Command{Form: ShellForm, Shell: "i"},
		OnCreateCommand:             &Command{Form: ArgsForm, Args: []string{"o", "c"}},
		UpdateContentCommand:        &Command{Form: ParallelForm, Parallel: []NamedCommand{{Name: "x", Command: &Command{Form: ShellForm, Shell: "u"}}}},
		PostCreateCommand:           &Command{Form: ShellForm, Shell: "p"},
		PostStartCommand:            &Command{Form: ShellForm, Shell: "s"},
		PostAttachCommand:           &Command{Form: ShellForm, Shell: "a"},
		WaitFor:                     "postCreateCommand",
	}
	opts := cmp.Options{cmpopts.IgnoreUnexported(Config{}, Build{}), cmpopts.IgnoreFields(Config{}, "Raw")}
	if diff := cmp.Diff(want, c, opts); diff != "" {
		t.Errorf("decoded config (-want +got):\n%s", diff)
	}
	if !c.IsDockerfile() || c.IsImage() || c.IsCompose() {
		t.Errorf("kinds: dockerfile=%v image=%v compose=%v, want dockerfile (checked first, as the reference)", c.IsDockerfile(), c.IsImage(), c.IsCompose())
	}
	if got := c.ForwardPortValues(); !cmp.Equal(got, []any{8000, "db:5432"}) {
		t.Errorf("ForwardPortValues = %#v", got)
	}
	if c.Raw["name"] != "n" || c.Raw["runArgs"].([]any)[0] != "--init" {
		t.Errorf("Raw not filled: %v", c.Raw)
	}
}

func strPtr(s string) *string { return &s }
