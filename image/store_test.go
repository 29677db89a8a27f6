package image

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/docker/docker/client"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// testImage is a two-layer image whose second layer deletes and hides lower content.
func testImage(t *testing.T) v1.Image {
	t.Helper()
	var layers []v1.Layer
	for _, entries := range [][]entry{
		{dir("etc"), file("etc/os-release", "ID=test\n"), dir("opt"), file("opt/lower", "l"), file("gone", "g")},
		{opaque("opt"), file("opt/upper", "u"), whiteout("gone"), symlink("bin", "/usr/bin")},
	} {
		b := layerTar(t, entries...).Bytes()
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Env = []string{"PATH=/usr/bin:/bin", "FROM_IMAGE=yes"}
	cf.Config.User = "1000:1000"
	cf.Config.Labels = map[string]string{"devcontainer.metadata": "[]"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var wantTree = []string{"bin -> /usr/bin", "etc/", "etc/os-release=ID=test\n", "opt/", "opt/upper=u"}

func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	opts.Dir = filepath.Join(t.TempDir(), "images")
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkResolved extracts img and compares its files and config with testImage's.
func checkResolved(t *testing.T, s *Store, img *Image, want v1.Image) string {
	t.Helper()
	id, _ := want.ConfigName()
	if img.ID != id.String() {
		t.Errorf("ID = %s, want %s", img.ID, id)
	}
	if img.Config.Config.User != "1000:1000" || !slices.Contains(img.Config.Config.Env, "FROM_IMAGE=yes") {
		t.Errorf("config = %+v", img.Config.Config)
	}
	rootfs, err := s.Rootfs(context.Background(), img)
	if err != nil {
		t.Fatalf("Rootfs: %v", err)
	}
	if diff := cmp.Diff(wantTree, tree(t, rootfs)); diff != "" {
		t.Errorf("rootfs (-want +got):\n%s", diff)
	}
	if !s.Cached(img) {
		t.Error("Cached = false after Rootfs")
	}
	return rootfs
}

func TestOCILayoutRoundTrip(t *testing.T) {
	want := testImage(t)
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(want, layout.WithAnnotations(map[string]string{refNameAnnotation: "v1"})); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, Options{})
	ctx := context.Background()
	for _, ref := range []string{"oci:" + dir, "oci:" + dir + ":v1"} {
		img, err := s.Lookup(ctx, ref)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", ref, err)
		}
		if img.Source != "oci" {
			t.Errorf("Source = %q", img.Source)
		}
		checkResolved(t, s, img, want)
	}
	if _, err := s.Lookup(ctx, "oci:"+dir+":v2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a missing name: %v, want ErrNotFound", err)
	}
	if _, err := s.Lookup(ctx, "oci:"+filepath.Join(dir, "nope")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a missing layout: %v, want ErrNotFound", err)
	}
}

func TestDockerArchive(t *testing.T) {
	want := testImage(t)
	file := filepath.Join(t.TempDir(), "img.tar")
	tag, _ := name.NewTag("example.com/test/img:1")
	if err := tarball.WriteToFile(file, tag, want); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, Options{})
	img, err := s.Lookup(context.Background(), "docker-archive:"+file)
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	rootfs := checkResolved(t, s, img, want)
	// Once extracted, the rootfs is reused (same folder, no second extraction).
	again, err := s.Rootfs(context.Background(), &Image{Ref: "again", ID: img.ID})
	if err != nil || again != rootfs {
		t.Errorf("cached Rootfs = %q, %v; want %q", again, err, rootfs)
	}
}

func TestRegistryPull(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	ref := u.Host + "/test/img:1"
	want := testImage(t)
	r, _ := name.ParseReference(ref)
	if err := remote.Write(r, want); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, Options{Keychain: authn.NewMultiKeychain()})
	ctx := context.Background()
	if _, err := s.Lookup(ctx, ref); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Lookup before pull: %v, want ErrNotFound", err)
	}
	img, err := s.Pull(ctx, ref)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	checkResolved(t, s, img, want)
	// Found offline afterwards, from the cache, also by ID.
	srv.Close()
	for _, r := range []string{ref, img.ID} {
		cached, err := s.Lookup(ctx, r)
		if err != nil {
			t.Fatalf("Lookup(%s) after pull: %v", r, err)
		}
		if cached.Source != "cache" || cached.ID != img.ID || cached.Config.Config.User != "1000:1000" {
			t.Errorf("cached image = %+v", cached)
		}
	}
	if err := s.Forget(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after Forget: %v, want ErrNotFound", err)
	}
	if _, err := s.Pull(ctx, u.Host+"/test/missing:1"); err == nil {
		t.Error("Pull from a closed registry succeeded")
	}
}

func TestRegistryPullMissing(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	s := newStore(t, Options{Keychain: authn.NewMultiKeychain()})
	if _, err := s.Pull(context.Background(), u.Host+"/test/missing:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pull of a missing image: %v, want ErrNotFound", err)
	}
}

func TestDockerEngine(t *testing.T) {
	testenv.RequireEngine(t, "docker", nil)
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	s := newStore(t, Options{Docker: cli})
	ctx := context.Background()
	img, err := s.Lookup(ctx, "mochi-test/busybox:latest")
	if err != nil {
		t.Fatalf("Lookup: %v", err)
	}
	if img.Source != "docker" || img.ID == "" {
		t.Errorf("image = %+v", img)
	}
	rootfs, err := s.Rootfs(ctx, img)
	if err != nil {
		t.Fatalf("Rootfs: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(rootfs, "bin", "sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("bin/sh in the exported rootfs: %v, %v", fi, err)
	}
	if _, err := s.Lookup(ctx, "mochi-test/no-such-image:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a missing image: %v, want ErrNotFound", err)
	}
}
