package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/mochi-dev/mochi/internal/flock"
)

// refsFile maps references pulled from registries to image IDs, inside the cache folder.
const refsFile = "refs.json"

// Pull fetches ref from its registry (credentials as Docker's), extracts its root file system
// into the cache and remembers the reference so that Lookup finds it without the network.
func (s *Store) Pull(ctx context.Context, ref string) (*Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("pull image %s: %w", ref, err)
	}
	desc, err := remote.Get(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(s.keychain), remote.WithPlatform(s.platform))
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && (terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode)) {
			return nil, fmt.Errorf("pull image %s: %w: %w", ref, ErrNotFound, err)
		}
		return nil, fmt.Errorf("pull image %s: %w", ref, err)
	}
	var v1img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("pull image %s: %w", ref, err)
		}
		if v1img, err = s.pickPlatform(idx); err != nil {
			return nil, fmt.Errorf("pull image %s: %w", ref, err)
		}
	} else if v1img, err = desc.Image(); err != nil {
		return nil, fmt.Errorf("pull image %s: %w", ref, err)
	}
	img, err := fromV1(ref, "registry", v1img, nil)
	if err != nil {
		return nil, err
	}
	if _, err := s.Rootfs(ctx, img); err != nil {
		return nil, err
	}
	if err := s.updateRefs(ctx, func(refs map[string]string) { refs[ref] = img.ID }); err != nil {
		return nil, err
	}
	return img, nil
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// Forget drops a pulled reference (the extracted files stay cached for other references).
// The error wraps ErrNotFound when ref was never pulled.
func (s *Store) Forget(ctx context.Context, ref string) error {
	found := false
	err := s.updateRefs(ctx, func(refs map[string]string) {
		_, found = refs[ref]
		delete(refs, ref)
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("forget image %s: %w", ref, ErrNotFound)
	}
	return nil
}

// fromCache resolves a reference pulled earlier, or an image ID extracted earlier.
func (s *Store) fromCache(ref string) (*Image, error) {
	refs, err := s.readRefs()
	if err != nil {
		return nil, err
	}
	id, ok := refs[ref]
	if !ok {
		if _, err := v1.NewHash(ref); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
		}
		id = ref
	}
	dir, err := s.imageDir(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("image %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(b, &cfg); err != nil {
		return nil, fmt.Errorf("image %s: cached config: %w", ref, err)
	}
	return &Image{Ref: ref, ID: id, Source: "cache", Config: cfg}, nil
}

func (s *Store) readRefs() (map[string]string, error) {
	refs := map[string]string{}
	b, err := os.ReadFile(filepath.Join(s.dir, refsFile))
	if errors.Is(err, os.ErrNotExist) {
		return refs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pulled images: %w", err)
	}
	if err := json.Unmarshal(b, &refs); err != nil {
		return nil, fmt.Errorf("read pulled images %s: %w", filepath.Join(s.dir, refsFile), err)
	}
	return refs, nil
}

// updateRefs changes the pulled-references file under a lock, replacing it atomically.
func (s *Store) updateRefs(ctx context.Context, change func(map[string]string)) error {
	lock, err := flock.Acquire(ctx, filepath.Join(s.dir, refsFile+".lock"))
	if err != nil {
		return fmt.Errorf("update pulled images: %w", err)
	}
	defer lock.Unlock()
	refs, err := s.readRefs()
	if err != nil {
		return err
	}
	change(refs)
	b, err := json.MarshalIndent(refs, "", "  ")
	if err != nil {
		return fmt.Errorf("update pulled images: %w", err)
	}
	tmp := filepath.Join(s.dir, refsFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("update pulled images: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, refsFile)); err != nil {
		return fmt.Errorf("update pulled images: %w", err)
	}
	return nil
}
