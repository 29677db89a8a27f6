// Package initcfg writes a starter .devcontainer/devcontainer.json for `mochi init`: it
// detects a project's language from the files at its root and suggests that language's
// tooling in comments, never naming a public registry host.
package initcfg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DefaultImage is the image of a starter configuration when none is given: a plain name
// the user's engine resolves with its own registry settings.
const DefaultImage = "debian:bookworm"

// ErrExists is returned when a configuration already exists and overwriting was not asked.
var ErrExists = errors.New("already exists (use --force to overwrite)")

// Language is a project kind mochi recognises.
type Language struct {
	// Name is shown in the generated comment ("Go", "Node", ...; "generic" when unknown).
	Name string
	// Markers are the root files that identify it, in order.
	Markers []string
	// Feature is the dev container feature (without a registry host) that installs its
	// tooling; "" for none.
	Feature string
	// Extensions are suggested editor extension ids.
	Extensions []string
	// Ports are commonly forwarded ports.
	Ports []int
	// PostCreate is a suggested postCreateCommand.
	PostCreate string
}

// languages in detection order: the first whose marker exists wins.
var languages = []Language{
	{Name: "Go", Markers: []string{"go.mod"}, Feature: "devcontainers/features/go:1", Extensions: []string{"golang.go"}, PostCreate: "go mod download"},
	{Name: "Rust", Markers: []string{"Cargo.toml"}, Feature: "devcontainers/features/rust:1", Extensions: []string{"rust-lang.rust-analyzer"}, PostCreate: "cargo fetch"},
	{Name: "Node", Markers: []string{"package.json"}, Feature: "devcontainers/features/node:1", Extensions: []string{"dbaeumer.vscode-eslint"}, Ports: []int{3000}, PostCreate: "npm install"},
	{Name: "Python", Markers: []string{"pyproject.toml", "requirements.txt"}, Feature: "devcontainers/features/python:1", Extensions: []string{"ms-python.python"}, PostCreate: "pip install -r requirements.txt"},
	{Name: "Java", Markers: []string{"pom.xml", "build.gradle", "build.gradle.kts"}, Feature: "devcontainers/features/java:1", Extensions: []string{"vscjava.vscode-java-pack"}, Ports: []int{8080}},
}

var generic = Language{Name: "generic"}

// Detect returns the language of the project at dir (generic when nothing matches) and the
// marker file that decided it.
func Detect(dir string) (Language, string) {
	for _, l := range languages {
		for _, m := range l.Markers {
			if st, err := os.Stat(filepath.Join(dir, m)); err == nil && !st.IsDir() {
				if l.Name == "Python" && m == "pyproject.toml" {
					l.PostCreate = "pip install -e ."
				}
				return l, m
			}
		}
	}
	return generic, ""
}

// Options are the inputs of Write.
type Options struct {
	// Folder is the project folder.
	Folder string
	// Image replaces DefaultImage.
	Image string
	// Features are feature references added (with empty options) to "features".
	Features []string
	// Force overwrites an existing configuration.
	Force bool
}

// Result says what Write did.
type Result struct {
	Path     string
	Language Language
	Marker   string
}

// Write writes <Folder>/.devcontainer/devcontainer.json, refusing to replace an existing
// one (or a .devcontainer.json at the root) unless o.Force.
func Write(o Options) (*Result, error) {
	st, err := os.Stat(o.Folder)
	if err != nil {
		return nil, fmt.Errorf("workspace folder %s: %w", o.Folder, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("workspace folder %s: not a directory", o.Folder)
	}
	path := filepath.Join(o.Folder, ".devcontainer", "devcontainer.json")
	if !o.Force {
		for _, p := range []string{path, filepath.Join(o.Folder, ".devcontainer.json")} {
			if _, err := os.Lstat(p); err == nil {
				return nil, fmt.Errorf("%s: %w", p, ErrExists)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("check %s: %w", p, err)
			}
		}
	}
	for _, f := range o.Features {
		if strings.TrimSpace(f) == "" || strings.ContainsAny(f, " \t\n\"") {
			return nil, fmt.Errorf("--feature %q: not a feature reference", f)
		}
	}
	lang, marker := Detect(o.Folder)
	image := o.Image
	if image == "" {
		image = DefaultImage
	}
	text := Render(filepath.Base(o.Folder), image, lang, marker, o.Features)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Result{Path: path, Language: lang, Marker: marker}, nil
}
