package features

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPackageCollection(t *testing.T) {
	out := t.TempDir()
	pkgs, err := Package("testdata/collection", out)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range pkgs {
		ids = append(ids, p.ID)
	}
	if !cmp.Equal(ids, []string{"app", "hello", "renamed"}) {
		t.Errorf("packaged %v", ids)
	}
	data, err := os.ReadFile(filepath.Join(out, "devcontainer-feature-renamed.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		t.Errorf("archive is gzip-compressed; the reference writes a plain tar")
	}
	var names []string
	var meta []byte
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "./devcontainer-feature.json" {
			meta, _ = io.ReadAll(tr)
		}
	}
	if !cmp.Equal(names, []string{"./", "./devcontainer-feature.json", "./install.sh"}) {
		t.Errorf("archive entries %v", names)
	}
	wantMeta := "{\n    \"id\": \"renamed\",\n    \"version\": \"0.1.0\",\n    \"name\": \"Renamed\",\n    \"legacyIds\": [\n        \"old-name\"\n    ],\n    \"currentId\": \"renamed\"\n}"
	if string(meta) != wantMeta {
		t.Errorf("packaged metadata:\n%s\nwant\n%s", meta, wantMeta)
	}
	var coll struct {
		SourceInformation map[string]string `json:"sourceInformation"`
		Features          []map[string]any  `json:"features"`
	}
	collData, _ := os.ReadFile(filepath.Join(out, CollectionFile))
	if err := json.Unmarshal(collData, &coll); err != nil {
		t.Fatal(err)
	}
	if len(coll.Features) != 3 || coll.Features[1]["id"] != "hello" || coll.Features[2]["currentId"] != "renamed" {
		t.Errorf("collection %s", collData)
	}
	// The packaged archive unpacks safely and resolves as a feature.
	dir := filepath.Join(t.TempDir(), "x")
	if err := extractArchive(bytes.NewReader(data), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "install.sh")); err != nil {
		t.Error(err)
	}
}

func TestPackageErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, MetadataFile), []byte(`{"id": "x", "version": "1.0.0", "name": "X"}`), 0o644)
	if _, err := Package(dir, t.TempDir()); err == nil || !strings.Contains(err.Error(), `feature "x" has no install.sh`) {
		t.Errorf("missing install.sh: %v", err)
	}
	os.WriteFile(filepath.Join(dir, MetadataFile), []byte(`{"id": "x"}`), 0o644)
	if _, err := Package(dir, t.TempDir()); !errors.Is(err, ErrInvalidMetadata) {
		t.Errorf("missing version: %v", err)
	}
	if _, err := Package(t.TempDir(), t.TempDir()); err == nil {
		t.Errorf("empty folder packaged")
	}
}

func TestSemanticTags(t *testing.T) {
	for _, tc := range []struct {
		version   string
		published []string
		want      []string
	}{
		{"1.2.3", nil, []string{"1", "1.2", "1.2.3", "latest"}},
		{"1.2.3", []string{"1", "1.2", "1.2.2", "latest"}, []string{"1", "1.2", "1.2.3", "latest"}},
		{"1.2.3", []string{"1.2.3"}, nil},
		{"1.2.4", []string{"1.3.0", "2.0.0", "latest"}, []string{"1.2", "1.2.4"}},
		{"1.4.0", []string{"1.3.0", "2.0.0"}, []string{"1", "1.4", "1.4.0"}},
		{"3.0.0-beta.1", []string{"2.0.0"}, []string{"3", "3.0", "3.0.0-beta.1", "latest"}},
	} {
		got, err := SemanticTags(tc.version, tc.published)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("SemanticTags(%s, %v) = %v, %v; want %v", tc.version, tc.published, got, err, tc.want)
		}
	}
	if _, err := SemanticTags("1.2", nil); err == nil {
		t.Error("1.2 accepted as a version")
	}
}
