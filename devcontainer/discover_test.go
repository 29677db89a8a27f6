package devcontainer

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDiscover(t *testing.T) {
	ws := t.TempDir()
	_, err := Discover(ws, "")
	want := "Dev container config (" + filepath.Join(ws, ".devcontainer", "devcontainer.json") + ") not found."
	if !errors.Is(err, ErrNotFound) || err.Error() != want {
		t.Errorf("empty workspace: %v, want %s", err, want)
	}

	root := filepath.Join(ws, ".devcontainer.json")
	writeFile(t, root, []byte(`{}`))
	if got, err := Discover(ws, ""); err != nil || got != root {
		t.Errorf("Discover = %s, %v, want %s", got, err, root)
	}
	inner := filepath.Join(ws, ".devcontainer", "devcontainer.json")
	writeFile(t, inner, []byte(`{}`))
	if got, err := Discover(ws, ""); err != nil || got != inner {
		t.Errorf("Discover = %s, %v, want %s (checked first)", got, err, inner)
	}

	// An explicit path is relative to the working directory and wins.
	other := filepath.Join(ws, "cfg", "devcontainer.json")
	writeFile(t, other, []byte(`{}`))
	t.Chdir(ws)
	if got, err := Discover("/elsewhere", filepath.Join("cfg", "devcontainer.json")); err != nil || got != other {
		t.Errorf("Discover explicit = %s, %v, want %s", got, err, other)
	}
	_, err = Discover(ws, "missing.json")
	if want := "Dev container config (" + filepath.Join(ws, "missing.json") + ") not found."; err == nil || err.Error() != want {
		t.Errorf("missing explicit: %v, want %s", err, want)
	}
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Discover(ws, other); !errors.Is(err, ErrNotFound) {
		t.Errorf("directory as config: %v", err)
	}
}

func TestLoadOverride(t *testing.T) {
	ws := t.TempDir()
	cfg := filepath.Join(ws, ".devcontainer", "devcontainer.json")
	over := filepath.Join(ws, "elsewhere", "override.json")
	writeFile(t, over, []byte(`{"build": {"dockerfile": "Dockerfile"}}`))
	c, err := LoadOverride(cfg, over)
	if err != nil {
		t.Fatal(err)
	}
	if c.File != cfg || c.DockerfilePath() != filepath.Join(ws, ".devcontainer", "Dockerfile") || c.ContextPath() != filepath.Join(ws, ".devcontainer") {
		t.Errorf("File %s Dockerfile %s context %s", c.File, c.DockerfilePath(), c.ContextPath())
	}
	writeFile(t, over, []byte("{\n  \"image\": 1\n}"))
	if _, err := LoadOverride(cfg, over); err == nil || err.Error() != over+`:2:12: "image" must be a string` {
		t.Errorf("override error %v names the wrong file", err)
	}
}

func TestBuildPaths(t *testing.T) {
	tests := []struct {
		src, dockerfile, context string
	}{
		{`{"build": {"dockerfile": "Dockerfile"}}`, "/p/.devcontainer/Dockerfile", "/p/.devcontainer"},
		{`{"build": {"dockerfile": "../docker/Dockerfile"}}`, "/p/docker/Dockerfile", "/p/docker"},
		{`{"build": {"dockerfile": "Dockerfile", "context": ".."}}`, "/p/.devcontainer/Dockerfile", "/p"},
		{`{"dockerFile": "D", "context": "..", "build": {"context": "ignored"}}`, "/p/.devcontainer/D", "/p"},
		{`{"dockerFile": "/abs/D"}`, "/abs/D", "/abs"},
		{`{"image": "x"}`, "", ""},
	}
	for _, tt := range tests {
		c, err := Parse("/p/.devcontainer/devcontainer.json", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if c.DockerfilePath() != tt.dockerfile || c.ContextPath() != tt.context {
			t.Errorf("%s: Dockerfile %q context %q, want %q %q", tt.src, c.DockerfilePath(), c.ContextPath(), tt.dockerfile, tt.context)
		}
	}
}

func TestKinds(t *testing.T) {
	tests := []struct {
		src                        string
		image, dockerfile, compose bool
	}{
		{`{"image": "x"}`, true, false, false},
		{`{"build": {"dockerfile": "D"}}`, false, true, false},
		{`{"dockerFile": "D"}`, false, true, false},
		{`{"dockerComposeFile": "c.yml", "service": "s"}`, false, false, true},
		// The reference checks Dockerfile, then image, then compose.
		{`{"image": "x", "build": {"dockerfile": "D"}}`, false, true, false},
		{`{"image": "x", "dockerComposeFile": "c.yml"}`, true, false, false},
		{`{"build": {"args": {}}, "image": "x"}`, true, false, false},
		{`{"name": "none"}`, false, false, false},
	}
	for _, tt := range tests {
		c, err := Parse("/p/devcontainer.json", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if c.IsImage() != tt.image || c.IsDockerfile() != tt.dockerfile || c.IsCompose() != tt.compose {
			t.Errorf("%s: image=%v dockerfile=%v compose=%v", tt.src, c.IsImage(), c.IsDockerfile(), c.IsCompose())
		}
	}
}

func TestCheckConfigName(t *testing.T) {
	for _, ok := range []string{"/w/.devcontainer/devcontainer.json", "/w/.devcontainer.json", "/w/.devcontainer/py/devcontainer.json"} {
		if err := CheckConfigName(ok); err != nil {
			t.Errorf("CheckConfigName(%s) = %v", ok, err)
		}
	}
	err := CheckConfigName("/tmp/empty/cfg.json")
	// The reference's `up --config /tmp/empty/cfg.json` message.
	if want := "Filename must be devcontainer.json or .devcontainer.json (/tmp/empty/cfg.json)."; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	if CheckConfigName("/w/xdevcontainer.json") == nil {
		t.Error("xdevcontainer.json accepted")
	}
}
