package features

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "dockerfile", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", name, diff)
	}
}

// comparisonBuild resolves testdata/dockerfile/ws, the configuration that was also built with
// the reference CLI 0.89.0 (`devcontainer build --workspace-folder ws`, image
// mochi-test/debian:bookworm): reference.Dockerfile.extended is its generated Dockerfile,
// reference-record.txt what the two features' install.sh recorded in that image, and
// reference-image-env.json the image's Config.Env.
func comparisonBuild(t *testing.T) (*Set, *BuildContext) {
	t.Helper()
	ws, _ := filepath.Abs("testdata/dockerfile/ws")
	set, err := (&Resolver{CacheDir: t.TempDir()}).Resolve(context.Background(), loadConfigInput(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	var entries []json.RawMessage
	for _, f := range set.Features {
		entries = append(entries, f.Metadata.MetadataEntryJSON(f.UserID))
	}
	// The configuration's own entry, as the devcontainer package writes it.
	entries = append(entries, json.RawMessage(`{"containerEnv":{"CFG_ENV":"a \"quoted\" $HOME value"}}`))
	bc, err := GenerateDockerfile(set, DockerfileOptions{
		BaseImage:    "mochi-test/debian:bookworm",
		Users:        Users{ContainerUser: "root", RemoteUser: "root", ImageUser: "root"},
		ContainerEnv: []EnvVar{{"CFG_ENV", `a "quoted" $HOME value`}},
		Metadata:     entries,
	})
	if err != nil {
		t.Fatal(err)
	}
	return set, bc
}

func TestDockerfileMatchesReference(t *testing.T) {
	set, bc := comparisonBuild(t)
	golden(t, "Dockerfile.golden", bc.Dockerfile)

	// Same install order and folder names as the reference (featA's folder is named after the
	// id in its devcontainer-feature.json, not after the folder).
	var ids []string
	for _, f := range set.Features {
		ids = append(ids, f.ConsecutiveID())
	}
	if want := []string{"featB_0", "featA-json-id_1"}; !cmp.Equal(ids, want) {
		t.Errorf("consecutive ids %v, want %v", ids, want)
	}
	// Every ENV and LABEL line of the reference's Dockerfile is in ours, in the same order.
	ref, err := os.ReadFile("testdata/dockerfile/reference.Dockerfile.extended")
	if err != nil {
		t.Fatal(err)
	}
	ours := string(bc.Dockerfile)
	pos := 0
	inLabel := false
	for _, line := range strings.Split(string(ref), "\n") {
		if strings.HasPrefix(line, "LABEL ") {
			inLabel = true
		}
		if !strings.HasPrefix(line, "ENV ") && !inLabel {
			continue
		}
		if line == "]\"" {
			inLabel = false
		}
		i := strings.Index(ours[pos:], line+"\n")
		if i < 0 {
			t.Errorf("reference line missing or out of order: %s", line)
			continue
		}
		pos += i + len(line)
	}
	// The env files are the ones the reference wrote (recorded in the image it built).
	record, err := os.ReadFile("testdata/dockerfile/reference-record.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range set.Features {
		want := "--- devcontainer-features.env\n" + string(f.EnvFile()) + "\n--- "
		if !strings.Contains(string(record), want) {
			t.Errorf("env file of %s not as the reference wrote it:\n%s", f.UserID, f.EnvFile())
		}
		golden(t, f.ConsecutiveID()+".install.sh", InstallWrapper(f))
	}
}

func TestBuildContextTarIsDeterministic(t *testing.T) {
	_, bc := comparisonBuild(t)
	var a, b bytes.Buffer
	if err := bc.WriteTar(&a); err != nil {
		t.Fatal(err)
	}
	_, bc2 := comparisonBuild(t) // a fresh cache and resolution
	if err := bc2.WriteTar(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("two builds of the same configuration give different build contexts")
	}
	var names []string
	tr := tar.NewReader(&a)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(contextTime) {
			t.Errorf("%s: owner %d:%d time %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		names = append(names, h.Name)
	}
	want := []string{
		".mochi-features/",
		".mochi-features/Dockerfile",
		".mochi-features/devcontainer-features.builtin.env",
		".mochi-features/featA-json-id_1/",
		".mochi-features/featA-json-id_1/devcontainer-feature.json",
		".mochi-features/featA-json-id_1/devcontainer-features-install.sh",
		".mochi-features/featA-json-id_1/devcontainer-features.env",
		".mochi-features/featA-json-id_1/install.sh",
		".mochi-features/featB_0/",
		".mochi-features/featB_0/devcontainer-feature.json",
		".mochi-features/featB_0/devcontainer-features-install.sh",
		".mochi-features/featB_0/devcontainer-features.env",
		".mochi-features/featB_0/install.sh",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("build context (-want +got):\n%s", diff)
	}
}

func TestGenerateDockerfileRefusesSyntaxDirective(t *testing.T) {
	_, err := GenerateDockerfile(&Set{}, DockerfileOptions{BaseImage: "stage", Prefix: "# syntax=docker/dockerfile:1.4\nFROM x AS stage\n"})
	if err == nil {
		t.Fatal("a prefix with a syntax directive was accepted")
	}
}

func TestBuildContextWithUserContext(t *testing.T) {
	_, bc := comparisonBuild(t)
	user := t.TempDir()
	os.WriteFile(filepath.Join(user, "app.txt"), []byte("app"), 0o644)
	bc.Dirs[""] = user
	var buf bytes.Buffer
	if err := bc.WriteTar(&buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
	if len(names) < 2 || names[0] != ".mochi-features/" || names[len(names)-1] != "app.txt" {
		t.Errorf("entries %v", names)
	}
}

func TestGenerateDockerfileWithoutFeatures(t *testing.T) {
	bc, err := GenerateDockerfile(&Set{}, DockerfileOptions{
		BaseImage: "dev_container_auto_added_stage_label",
		Prefix:    "FROM example.com/base:1 AS dev_container_auto_added_stage_label\nRUN true",
		Metadata:  []json.RawMessage{json.RawMessage(`{"remoteUser":"dev"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `ARG _DEV_CONTAINERS_BASE_IMAGE=dev_container_auto_added_stage_label

FROM example.com/base:1 AS dev_container_auto_added_stage_label
RUN true

FROM $_DEV_CONTAINERS_BASE_IMAGE AS dev_containers_target_stage
LABEL devcontainer.metadata="[ \
{\"remoteUser\":\"dev\"} \
]"
`
	if diff := cmp.Diff(want, string(bc.Dockerfile)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(bc.Files) != 1 || len(bc.Dirs) != 0 {
		t.Errorf("context files %v dirs %v", bc.Files, bc.Dirs)
	}
}
