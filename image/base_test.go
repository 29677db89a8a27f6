package image

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// An image built on a cached one starts from a hard-linked clone of the cached root and gets
// only its own layers; the cached root is not changed by them; an image with the same layers
// (another config) is cloned without reading its layers at all.
func TestBaseImageReuse(t *testing.T) {
	a := testImage(t)
	b3 := layerTar(t, file("etc/os-release", "ID=changed\n"), whiteout("bin"), file("new", "n")).Bytes()
	l3, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b3)), nil })
	if err != nil {
		t.Fatal(err)
	}
	b, err := mutate.AppendLayers(a, l3)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]v1.Image{"a": a, "b": b} {
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refNameAnnotation: name})); err != nil {
			t.Fatal(err)
		}
	}
	s := newStore(t, Options{})
	ctx := context.Background()
	rootfs := func(ref string) string {
		t.Helper()
		img, err := s.Lookup(ctx, "oci:"+dir+":"+ref)
		if err != nil {
			t.Fatalf("Lookup(%s): %v", ref, err)
		}
		r, err := s.Rootfs(ctx, img)
		if err != nil {
			t.Fatalf("Rootfs(%s): %v", ref, err)
		}
		return r
	}
	sameFile := func(x, y string) bool {
		t.Helper()
		fx, err1 := os.Lstat(x)
		fy, err2 := os.Lstat(y)
		return err1 == nil && err2 == nil && os.SameFile(fx, fy)
	}

	ra := rootfs("a")
	rb := rootfs("b")
	if diff := cmp.Diff([]string{"etc/", "etc/os-release=ID=changed\n", "new=n", "opt/", "opt/upper=u"}, tree(t, rb)); diff != "" {
		t.Errorf("root of the image built on the cached one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantTree, tree(t, ra)); diff != "" {
		t.Errorf("the cached root changed (-want +got):\n%s", diff)
	}
	if !sameFile(filepath.Join(ra, "opt/upper"), filepath.Join(rb, "opt/upper")) {
		t.Error("opt/upper is not shared with the cached root: the base was not reused")
	}
	if sameFile(filepath.Join(ra, "etc/os-release"), filepath.Join(rb, "etc/os-release")) {
		t.Error("etc/os-release, replaced by the new layer, is shared with the cached root")
	}

	// Same layers as a, another config: no layers needed (open is nil).
	aImg, err := s.Lookup(ctx, "oci:"+dir+":a")
	if err != nil {
		t.Fatal(err)
	}
	c := &Image{Ref: "c", ID: "sha256:" + string(bytes.Repeat([]byte("c"), 64)), diffIDs: aImg.diffIDs}
	rc, err := s.Rootfs(ctx, c)
	if err != nil {
		t.Fatalf("Rootfs of an image with the same layers: %v", err)
	}
	if diff := cmp.Diff(wantTree, tree(t, rc)); diff != "" {
		t.Errorf("root of the image with the same layers (-want +got):\n%s", diff)
	}
	if !sameFile(filepath.Join(ra, "opt/upper"), filepath.Join(rc, "opt/upper")) {
		t.Error("opt/upper is not shared between images with the same layers")
	}
}
