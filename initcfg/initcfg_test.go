package initcfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/devcontainer"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{"go.mod", "package.json"}, "Go"},
		{[]string{"package.json"}, "Node"},
		{[]string{"pyproject.toml"}, "Python"},
		{[]string{"requirements.txt"}, "Python"},
		{[]string{"Cargo.toml"}, "Rust"},
		{[]string{"pom.xml"}, "Java"},
		{[]string{"build.gradle"}, "Java"},
		{[]string{"README.md"}, "generic"},
		{nil, "generic"},
	} {
		dir := t.TempDir()
		for _, f := range tc.files {
			if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := Detect(dir); got.Name != tc.want {
			t.Errorf("Detect(%v) = %s, want %s", tc.files, got.Name, tc.want)
		}
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "go.mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, _ := Detect(dir); got.Name != "generic" {
		t.Errorf("a folder named go.mod detected as %s", got.Name)
	}
}

// TestWriteParses: every generated file is a valid devcontainer.json with the image and
// features asked for, and names no registry host.
func TestWriteParses(t *testing.T) {
	for _, marker := range []string{"go.mod", "package.json", "pyproject.toml", "Cargo.toml", "pom.xml", ""} {
		dir := filepath.Join(t.TempDir(), "proj")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if marker != "" {
			if err := os.WriteFile(filepath.Join(dir, marker), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		res, err := Write(Options{Folder: dir, Features: []string{"127.0.0.1:5000/f/a:1", "./local-feature"}})
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := devcontainer.Load(res.Path)
		if err != nil {
			data, _ := os.ReadFile(res.Path)
			t.Fatalf("%s: generated file does not parse: %v\n%s", marker, err, data)
		}
		if cfg.Image != DefaultImage || len(cfg.Features) != 2 || cfg.Features[0].ID != "127.0.0.1:5000/f/a:1" || cfg.Features[1].ID != "./local-feature" {
			t.Errorf("%s: image %q features %+v", marker, cfg.Image, cfg.Features)
		}
		data, _ := os.ReadFile(res.Path)
		for _, host := range []string{"ghcr.io", "docker.io", "mcr.microsoft.com", "http://", "https://"} {
			if strings.Contains(string(data), host) {
				t.Errorf("%s: generated file names %s:\n%s", marker, host, data)
			}
		}
		if res.Language.Feature != "" && !strings.Contains(string(data), res.Language.Feature) {
			t.Errorf("%s: the %s tooling is not suggested:\n%s", marker, res.Language.Name, data)
		}
	}
}

func TestWriteRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(Options{Folder: dir, Image: "example.com/base:1"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ".devcontainer", "devcontainer.json")
	if err := os.WriteFile(path, []byte(`{"image":"mine"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(Options{Folder: dir}); !errors.Is(err, ErrExists) {
		t.Fatalf("second Write = %v, want ErrExists", err)
	}
	if data, _ := os.ReadFile(path); string(data) != `{"image":"mine"}` {
		t.Errorf("refused Write changed the file: %s", data)
	}
	if _, err := Write(Options{Folder: dir, Force: true, Image: "example.com/base:2"}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := devcontainer.Load(path); err != nil || cfg.Image != "example.com/base:2" {
		t.Errorf("forced Write: %v image %q", err, cfg.Image)
	}

	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".devcontainer.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(Options{Folder: root}); !errors.Is(err, ErrExists) {
		t.Errorf("Write beside a root .devcontainer.json = %v, want ErrExists", err)
	}
	if _, err := Write(Options{Folder: filepath.Join(root, "missing")}); err == nil {
		t.Error("Write into a missing folder succeeded")
	}
	if _, err := Write(Options{Folder: t.TempDir(), Features: []string{"bad ref"}}); err == nil {
		t.Error("a feature reference with a space was accepted")
	}
}
