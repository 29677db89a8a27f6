// Package image turns container images into root file systems for the providers that do not
// run images themselves (LXC, later QEMU). An image comes from the local Docker engine (saved
// through the API), a `docker save` archive ("docker-archive:PATH[:REF]"), an OCI layout folder
// ("oci:DIR[:REF]") or an OCI registry; its layers are applied in order into a cache folder
// keyed by the image's config digest (the Docker image ID), once per image.
package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mochi-dev/mochi/internal/flock"
)

// DockerAPI is the subset of the Docker client the store uses.
type DockerAPI interface {
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (image.InspectResponse, error)
	ImageSave(ctx context.Context, refs []string, opts ...client.ImageSaveOption) (io.ReadCloser, error)
}

// Options configure a Store.
type Options struct {
	// Dir is the cache folder (created when missing).
	Dir string
	// Docker is the local engine to export images from; nil means there is none.
	Docker DockerAPI
	// Keychain gives registry credentials; nil means Docker's (~/.docker/config.json and
	// credential helpers).
	Keychain authn.Keychain
	// Platform selects an image from a multi-platform index; zero means linux on this machine's
	// architecture.
	Platform v1.Platform
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Store resolves image references and keeps their extracted root file systems.
// It is safe for concurrent use, also by several processes sharing Dir.
type Store struct {
	dir      string
	docker   DockerAPI
	keychain authn.Keychain
	platform v1.Platform
	log      *slog.Logger
}

// Image is a resolved image: its identity and configuration. Its layers are read only when
// its root file system is not cached yet.
type Image struct {
	// Ref is the reference the image was resolved from.
	Ref string
	// ID is the config digest ("sha256:..."), which is also the Docker image ID.
	ID string
	// Source says where the image was found: "docker", "docker-archive", "oci", "registry"
	// or "cache" (pulled earlier).
	Source string
	Config v1.ConfigFile
	// diffIDs are the image's layers' diff ids, when known before its layers are read (from
	// the engine's inspect or the config's rootfs section).
	diffIDs []string
	// open returns the image's layers (nil when the image is only known from the cache).
	open func(ctx context.Context) (v1.Image, func(), error)
}

// New returns a store caching under opts.Dir.
func New(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, errors.New("image store: no cache folder given")
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	s := &Store{dir: opts.Dir, docker: opts.Docker, keychain: opts.Keychain, platform: opts.Platform, log: opts.Logger}
	if s.keychain == nil {
		s.keychain = authn.DefaultKeychain
	}
	if s.platform.OS == "" {
		s.platform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Dir is the cache folder.
func (s *Store) Dir() string { return s.dir }

// Lookup resolves ref without any network access: a "docker-archive:" or "oci:" reference,
// else the local Docker engine (when there is one), else an image pulled earlier. The error
// wraps ErrNotFound when none has it.
func (s *Store) Lookup(ctx context.Context, ref string) (*Image, error) {
	if rest, ok := strings.CutPrefix(ref, "docker-archive:"); ok {
		return s.fromArchive(ref, rest)
	}
	if rest, ok := strings.CutPrefix(ref, "oci:"); ok {
		return s.fromLayout(ref, rest)
	}
	if s.docker != nil {
		img, err := s.fromDocker(ctx, ref)
		if err == nil || !errors.Is(err, ErrNotFound) {
			return img, err
		}
	}
	img, err := s.fromCache(ref)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// Rootfs returns the folder holding img's extracted root file system, extracting it first
// when it is not cached. The folder must be treated as read-only (it is shared).
func (s *Store) Rootfs(ctx context.Context, img *Image) (string, error) {
	dir, err := s.imageDir(img.ID)
	if err != nil {
		return "", err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if _, err := os.Stat(rootfs); err == nil {
		return rootfs, nil
	}
	lock, err := flock.Acquire(ctx, dir+".lock")
	if err != nil {
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(rootfs); err == nil {
		return rootfs, nil // another process extracted it meanwhile
	}
	partial := filepath.Join(dir, "rootfs.partial")
	if err := os.RemoveAll(partial); err != nil {
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	if err := os.MkdirAll(partial, 0o755); err != nil {
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	diffIDs, err := s.fill(ctx, img, dir, partial)
	if err != nil {
		os.RemoveAll(partial)
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	if err := s.writeConfig(dir, img); err != nil {
		return "", err
	}
	if err := writeLayers(dir, diffIDs); err != nil {
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	if err := os.Rename(partial, rootfs); err != nil {
		return "", fmt.Errorf("extract image %s: %w", img.Ref, err)
	}
	return rootfs, nil
}

// fill makes img's root in the empty folder dst (dir is img's cache folder) and returns the
// diff ids of its layers. When a cached image has the same layers, its root is cloned and the
// image's own layers are not even read; when it has the first ones, only the rest is applied.
func (s *Store) fill(ctx context.Context, img *Image, dir, dst string) ([]string, error) {
	if base, n := s.findBase(img.diffIDs, dir); n > 0 && n == len(img.diffIDs) {
		if err := cloneTree(ctx, base, dst); err == nil {
			s.log.Debug("image root cloned from an image with the same layers", "image", img.Ref, "from", base)
			return img.diffIDs, nil
		} else if err := resetDir(dst, err); err != nil {
			return nil, err
		}
	}
	if img.open == nil {
		return nil, fmt.Errorf("%w: its layers are not available (pull it again)", ErrNotFound)
	}
	v1img, cleanup, err := img.open(ctx)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	layers, err := v1img.Layers()
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	diffIDs := make([]string, len(layers))
	for i, l := range layers {
		h, err := l.DiffID()
		if err != nil {
			return nil, fmt.Errorf("layer %d: diff id: %w", i+1, err)
		}
		diffIDs[i] = h.String()
	}
	start := 0
	if base, n := s.findBase(diffIDs, dir); n > 0 {
		if err := cloneTree(ctx, base, dst); err == nil {
			s.log.Debug("image root started from a cached image's", "image", img.Ref, "from", base, "layers", n, "of", len(diffIDs))
			start = n
		} else if err := resetDir(dst, err); err != nil {
			return nil, err
		}
	}
	return diffIDs, s.extract(ctx, layers, start, dst)
}

// resetDir empties dst after a failed clone (whose error is cause), for a full extraction.
func resetDir(dst string, cause error) error {
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("%v; then: %w", cause, err)
	}
	return os.MkdirAll(dst, 0o755)
}

// extract applies layers[start:] in order onto dst.
func (s *Store) extract(ctx context.Context, layers []v1.Layer, start int, dst string) error {
	for i := start; i < len(layers); i++ {
		l := layers[i]
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, err := l.Uncompressed()
		if err != nil {
			return fmt.Errorf("open layer %d: %w", i+1, err)
		}
		skipped, err := ApplyLayer(dst, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
		if len(skipped) > 0 {
			s.log.Warn("layer entries skipped", "layer", i+1, "entries", skipped)
		}
	}
	return nil
}

// imageDir is the cache folder of the image with the given config digest.
func (s *Store) imageDir(id string) (string, error) {
	h, err := v1.NewHash(id)
	if err != nil {
		return "", fmt.Errorf("image id %q: %w", id, err)
	}
	return filepath.Join(s.dir, h.Algorithm+"-"+h.Hex), nil
}

func (s *Store) writeConfig(dir string, img *Image) error {
	b, err := json.Marshal(img.Config)
	if err != nil {
		return fmt.Errorf("store config of %s: %w", img.Ref, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		return fmt.Errorf("store config of %s: %w", img.Ref, err)
	}
	return nil
}

// Cached reports whether img's root file system is already extracted.
func (s *Store) Cached(img *Image) bool {
	dir, err := s.imageDir(img.ID)
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "rootfs"))
	return err == nil
}
