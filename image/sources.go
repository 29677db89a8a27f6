package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// refNameAnnotation is the OCI annotation naming a manifest in an index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// splitPathRef splits "PATH[:REF]": when PATH alone exists, the whole is the path.
func splitPathRef(s string) (string, string) {
	if _, err := os.Stat(s); err == nil {
		return s, ""
	}
	if i := strings.LastIndex(s, ":"); i > 0 && !strings.Contains(s[i+1:], "/") {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// fromArchive resolves "docker-archive:PATH[:REF]" (a `docker save` tar).
func (s *Store) fromArchive(ref, rest string) (*Image, error) {
	file, tagStr := splitPathRef(rest)
	var tag *name.Tag
	if tagStr != "" {
		t, err := name.NewTag(tagStr)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		tag = &t
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("image %s: %w: %w", ref, ErrNotFound, err)
	}
	img, err := tarball.ImageFromPath(file, tag)
	if err != nil {
		return nil, fmt.Errorf("image %s: read archive: %w", ref, err)
	}
	return fromV1(ref, "docker-archive", img, nil)
}

// fromLayout resolves "oci:DIR[:REF]"; without REF the layout must hold one image.
func (s *Store) fromLayout(ref, rest string) (*Image, error) {
	dir, want := splitPathRef(rest)
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, fmt.Errorf("image %s: %w: no OCI layout (index.json) at %s", ref, ErrNotFound, dir)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		if want == "" || d.Annotations[refNameAnnotation] == want {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("image %s: %w: no manifest named %q in %s", ref, ErrNotFound, want, dir)
	case len(found) > 1:
		return nil, fmt.Errorf("image %s: %s holds %d images: name one as oci:%s:REF", ref, dir, len(found), dir)
	}
	d := found[0]
	if d.MediaType.IsIndex() {
		sub, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		img, err := s.pickPlatform(sub)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		return fromV1(ref, "oci", img, nil)
	}
	img, err := idx.Image(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return fromV1(ref, "oci", img, nil)
}

// pickPlatform returns the image of the store's platform from an index.
func (s *Store) pickPlatform(idx v1.ImageIndex) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range m.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(s.platform) {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("%w: no image for %s in the index", ErrNotFound, s.platform.String())
}

// fromV1 wraps an image whose layers are at hand.
func fromV1(ref, source string, img v1.Image, cleanup func()) (*Image, error) {
	id, err := img.ConfigName()
	if err != nil {
		return nil, fmt.Errorf("image %s: config digest: %w", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", ref, err)
	}
	if cleanup == nil {
		cleanup = func() {}
	}
	var diffIDs []string
	for _, h := range cfg.RootFS.DiffIDs {
		diffIDs = append(diffIDs, h.String())
	}
	return &Image{
		Ref: ref, ID: id.String(), Source: source, Config: *cfg, diffIDs: diffIDs,
		open: func(context.Context) (v1.Image, func(), error) { return img, cleanup, nil },
	}, nil
}

// fromDocker resolves ref in the local engine; an unreachable engine counts as not found.
func (s *Store) fromDocker(ctx context.Context, ref string) (*Image, error) {
	resp, err := s.docker.ImageInspect(ctx, ref)
	if err != nil {
		if cerrdefs.IsNotFound(err) || client.IsErrConnectionFailed(err) {
			s.log.Debug("image not in docker engine", "image", ref, "err", err)
			return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
		}
		return nil, fmt.Errorf("inspect image %s in docker: %w", ref, err)
	}
	img := &Image{Ref: ref, ID: resp.ID, Source: "docker", Config: dockerConfig(resp)}
	if resp.RootFS.Type == "layers" {
		img.diffIDs = resp.RootFS.Layers
	}
	id := resp.ID
	img.open = func(ctx context.Context) (v1.Image, func(), error) { return s.saveFromDocker(ctx, ref, id) }
	return img, nil
}

// saveFromDocker writes `docker save` of the image to a temporary file and opens it.
func (s *Store) saveFromDocker(ctx context.Context, ref, id string) (v1.Image, func(), error) {
	rc, err := s.docker.ImageSave(ctx, []string{id})
	if err != nil {
		return nil, nil, fmt.Errorf("save image %s from docker: %w", ref, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(s.dir, "docker-save-*.tar")
	if err != nil {
		return nil, nil, fmt.Errorf("save image %s from docker: %w", ref, err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(f, rc); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("save image %s from docker: %w", ref, err)
	}
	img, err := tarball.ImageFromPath(f.Name(), nil)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read saved image %s: %w", ref, err)
	}
	return img, cleanup, nil
}

// dockerConfig converts the engine's view of an image config.
func dockerConfig(r image.InspectResponse) v1.ConfigFile {
	cf := v1.ConfigFile{OS: r.Os, Architecture: r.Architecture, Variant: r.Variant, Author: r.Author}
	if c := r.Config; c != nil {
		cf.Config = v1.Config{
			User:       c.User,
			Env:        c.Env,
			Entrypoint: c.Entrypoint,
			Cmd:        c.Cmd,
			WorkingDir: c.WorkingDir,
			Labels:     c.Labels,
			StopSignal: c.StopSignal,
		}
		if len(c.ExposedPorts) > 0 {
			cf.Config.ExposedPorts = map[string]struct{}{}
			for p := range c.ExposedPorts {
				cf.Config.ExposedPorts[p] = struct{}{}
			}
		}
		if len(c.Volumes) > 0 {
			cf.Config.Volumes = c.Volumes
		}
	}
	return cf
}
