package docker

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/docker/docker/api/types/build"
	"github.com/google/go-cmp/cmp"

	"github.com/mochi-dev/mochi/providers"
)

func TestParseBuildOptions(t *testing.T) {
	t.Setenv("MOCHI_TEST_ARG", "from host")
	opts := build.ImageBuildOptions{BuildArgs: map[string]*string{}, Labels: map[string]string{"keep": "1"}, Target: "spec"}
	err := parseBuildOptions(&opts, []string{
		"--build-arg", "A=1", "--build-arg=MOCHI_TEST_ARG", "--build-arg", "MOCHI_TEST_UNSET_ARG",
		"--label", "x=y", "--target", "dev", "--network=host", "--add-host", "h=10.1.1.1",
		"--no-cache", "--pull", "--cache-from", "example.com/cache:1", "--progress=plain",
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	for k, v := range opts.BuildArgs {
		if v == nil {
			args[k] = "<nil>"
			continue
		}
		args[k] = *v
	}
	if d := cmp.Diff(map[string]string{"A": "1", "MOCHI_TEST_ARG": "from host", "MOCHI_TEST_UNSET_ARG": "<nil>"}, args); d != "" {
		t.Errorf("build args (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"keep": "1", "x": "y"}, opts.Labels); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	if opts.Target != "dev" || opts.NetworkMode != "host" || !opts.NoCache || !opts.PullParent {
		t.Errorf("target %q network %q no-cache %v pull %v", opts.Target, opts.NetworkMode, opts.NoCache, opts.PullParent)
	}
	if !cmp.Equal(opts.ExtraHosts, []string{"h:10.1.1.1"}) || !cmp.Equal(opts.CacheFrom, []string{"example.com/cache:1"}) {
		t.Errorf("extra hosts %q cache from %q", opts.ExtraHosts, opts.CacheFrom)
	}
}

func TestParseBuildOptionsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--squash"}, `build.options: unsupported docker build flag "--squash"`},
		{[]string{"-q"}, `build.options: unsupported docker build flag "-q"`},
		{[]string{"--no-cache=maybe"}, `build.options: --no-cache "maybe": want true or false, got "maybe"`},
		{[]string{"--target"}, `build.options: --target needs a value`},
		{[]string{"."}, `build.options: unexpected argument "." (build.options holds flags only)`},
		{[]string{"--add-host", "nohost"}, `build.options: --add-host "nohost": want host:ip`},
	}
	for _, tt := range tests {
		opts := build.ImageBuildOptions{BuildArgs: map[string]*string{}, Labels: map[string]string{}}
		err := parseBuildOptions(&opts, tt.args, slog.New(slog.DiscardHandler))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.args, err, tt.want)
		}
	}
}

// writeTree creates files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTar returns the regular files of a tar (name -> content) and its folder names.
func readTar(t *testing.T, r io.Reader) (map[string]string, []string) {
	t.Helper()
	files := map[string]string{}
	var dirs []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			dirs = append(dirs, hdr.Name)
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = string(b)
		}
	}
	sort.Strings(dirs)
	return files, dirs
}

func TestBuildContextDockerignore(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".dockerignore":        "# comment\nnode_modules\n*.log\n!keep.log\nbuild/\nDockerfile\n",
		"Dockerfile":           "FROM scratch\n",
		"main.go":              "package main\n",
		"debug.log":            "noise",
		"keep.log":             "signal",
		"node_modules/x/a.js":  "x",
		"build/out.bin":        "bin",
		"src/app/handler.go":   "package app\n",
		"features/f/old.sh":    "old",
		"features/f/other.txt": "other",
	})
	extra := t.TempDir()
	writeTree(t, extra, map[string]string{"install.sh": "#!/bin/sh\n", "lib/x": "lib"})
	bc, dockerfile, err := prepareContext(providers.BuildSpec{
		ContextDir: dir,
		ExtraFiles: map[string][]byte{"gen/env": []byte("A=1\n")},
		ExtraDirs:  map[string]string{"features/f": extra},
	})
	if err != nil {
		t.Fatal(err)
	}
	if dockerfile != "Dockerfile" {
		t.Errorf("dockerfile = %q", dockerfile)
	}
	var buf bytes.Buffer
	if err := bc.write(&buf); err != nil {
		t.Fatal(err)
	}
	files, _ := readTar(t, &buf)
	want := map[string]string{
		".dockerignore":         ".dockerignore",
		"Dockerfile":            "FROM scratch\n",
		"main.go":               "package main\n",
		"keep.log":              "signal",
		"src/app/handler.go":    "package app\n",
		"features/f/install.sh": "#!/bin/sh\n",
		"features/f/lib/x":      "lib",
		"gen/env":               "A=1\n",
	}
	got := map[string]string{}
	for k, v := range files {
		if k == ".dockerignore" {
			v = k
		}
		got[k] = v
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("context files (-want +got):\n%s", d)
	}
}

func TestBuildContextGeneratedDockerfile(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.txt": "a"})
	outside := filepath.Join(t.TempDir(), "Containerfile")
	writeTree(t, filepath.Dir(outside), map[string]string{"Containerfile": "FROM outside\n"})

	for _, spec := range []providers.BuildSpec{
		{ContextDir: dir, DockerfileContent: []byte("FROM inline\n")},
		{ContextDir: dir, Dockerfile: outside},
	} {
		bc, name, err := prepareContext(spec)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := bc.write(&buf); err != nil {
			t.Fatal(err)
		}
		files, dirs := readTar(t, &buf)
		wantContent := string(spec.DockerfileContent)
		if spec.DockerfileContent == nil {
			wantContent = "FROM outside\n"
		}
		if files[name] != wantContent || files["a.txt"] != "a" {
			t.Errorf("dockerfile %q: files %q", name, files)
		}
		if !cmp.Equal(dirs, []string{".mochi/"}) {
			t.Errorf("dirs = %q", dirs)
		}
	}
	if _, _, err := prepareContext(providers.BuildSpec{ContextDir: dir, Dockerfile: "missing/Dockerfile"}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing Dockerfile: err = %v", err)
	}
}
