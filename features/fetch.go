package features

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// artifact is a fetched feature: its folder, metadata and identity.
type artifact struct {
	dir      string
	meta     *Metadata
	digest   string // OCI manifest digest or tarball sha256; empty for local features
	resolved string // lockfile "resolved"
	manifest *Manifest
}

// fetch returns the artifact for a node, from the cache when it can. pin is the lockfile's
// integrity for this reference, if any.
func (r *Resolver) fetch(ctx context.Context, n *node, pin string) (*artifact, error) {
	key := n.ref.Kind.String() + " " + n.localDir + n.ref.URL + n.ref.Resource + "@" + n.ref.Version() + "#" + pin
	if a, ok := r.memo[key]; ok {
		return a, nil
	}
	var a *artifact
	var err error
	switch n.ref.Kind {
	case KindLocal:
		a, err = r.fetchLocal(n)
	case KindOCI:
		a, err = r.fetchOCI(ctx, n, pin)
	case KindTarball:
		a, err = r.fetchTarball(ctx, n, pin)
	}
	if err != nil {
		return nil, err
	}
	r.memo[key] = a
	return a, nil
}

func readMetadata(userID, dir string) (*Metadata, error) {
	file := filepath.Join(dir, MetadataFile)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, mark(ErrInvalidMetadata, fmt.Errorf("feature %q: %s not found in %s", userID, MetadataFile, dir))
	}
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w", userID, err)
	}
	m, err := ParseMetadata(file, data)
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w", userID, err)
	}
	return m, nil
}

func (r *Resolver) fetchLocal(n *node) (*artifact, error) {
	st, err := os.Stat(n.localDir)
	if err != nil || !st.IsDir() {
		return nil, mark(ErrFetch, fmt.Errorf("feature %q: folder %s does not exist", n.userID, n.localDir))
	}
	m, err := readMetadata(n.userID, n.localDir)
	if err != nil {
		return nil, err
	}
	return &artifact{dir: n.localDir, meta: m}, nil
}

func (r *Resolver) fetchOCI(ctx context.Context, n *node, pin string) (*artifact, error) {
	ref := n.ref
	fail := func(what string, err error) error {
		if errors.Is(err, ErrOffline) || errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrUnsafeArchive) {
			return fmt.Errorf("feature %q: %s: %w", n.userID, what, err)
		}
		return mark(ErrFetch, fmt.Errorf("feature %q: %s: %w", n.userID, what, err))
	}
	mdigest := pin
	if mdigest == "" {
		mdigest = ref.Digest
	}
	if mdigest == "" && r.Offline {
		d, ok := r.cache.pointer(r.cache.tagFile(ref))
		if !ok {
			return nil, fail("resolve "+ref.String(), fmt.Errorf("%w: tag not in the cache", ErrOffline))
		}
		mdigest = d
	}
	var data []byte
	if mdigest != "" {
		var ok bool
		if data, ok = r.cache.manifest(mdigest); !ok {
			if r.Offline {
				return nil, fail("manifest "+mdigest, fmt.Errorf("%w: not in the cache", ErrOffline))
			}
			r.log.Debug("fetch feature manifest", "feature", n.userID, "digest", mdigest)
			var err error
			if data, _, err = r.registry.getManifest(ctx, ref, mdigest); err != nil {
				return nil, fail("fetch manifest "+ref.Registry+"/"+ref.Path+"@"+mdigest, err)
			}
			if _, err := r.cache.putManifest(data); err != nil {
				return nil, fail("cache manifest", err)
			}
		}
	} else {
		r.log.Debug("fetch feature manifest", "feature", n.userID, "tag", ref.Tag)
		var err error
		data, mdigest, err = r.registry.getManifest(ctx, ref, ref.Tag)
		switch {
		case err == nil:
			if _, err := r.cache.putManifest(data); err != nil {
				return nil, fail("cache manifest", err)
			}
			if err := r.cache.setPointer(r.cache.tagFile(ref), mdigest); err != nil {
				return nil, fail("cache tag", err)
			}
		case unreachable(err):
			// The registry cannot be reached: use what this tag resolved to last time.
			d, ok := r.cache.pointer(r.cache.tagFile(ref))
			if cached, cok := r.cache.manifest(d); ok && cok {
				r.log.Warn("registry unreachable, using the cached feature", "feature", n.userID, "digest", d, "error", err)
				data, mdigest = cached, d
				break
			}
			return nil, fail("fetch manifest "+ref.String(), err)
		default:
			return nil, fail("fetch manifest "+ref.String(), err)
		}
	}
	man, err := parseManifest(data)
	if err != nil {
		return nil, fail("manifest "+mdigest, err)
	}
	layer := man.Layers[0].Digest.String()
	dir, ok := r.cache.featureDir(layer)
	if !ok {
		if r.Offline {
			return nil, fail("layer "+layer, fmt.Errorf("%w: not in the cache", ErrOffline))
		}
		r.log.Debug("fetch feature layer", "feature", n.userID, "digest", layer)
		blob, err := r.registry.getBlob(ctx, ref, layer)
		if err != nil {
			return nil, fail("fetch layer "+layer, err)
		}
		if dir, _, err = r.cache.putArchive(blob, layer); err != nil {
			return nil, fail("extract layer "+layer, err)
		}
	}
	m, err := readMetadata(n.userID, dir)
	if err != nil {
		return nil, err
	}
	return &artifact{dir: dir, meta: m, digest: mdigest, resolved: ref.Registry + "/" + ref.Path + "@" + mdigest, manifest: man}, nil
}

func (r *Resolver) fetchTarball(ctx context.Context, n *node, pin string) (*artifact, error) {
	u := n.ref.URL
	fail := func(what string, err error) error {
		if errors.Is(err, ErrOffline) || errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrUnsafeArchive) {
			return fmt.Errorf("feature %q: %s: %w", n.userID, what, err)
		}
		return mark(ErrFetch, fmt.Errorf("feature %q: %s: %w", n.userID, what, err))
	}
	d := pin
	if d == "" && r.Offline {
		d, _ = r.cache.pointer(r.cache.urlFile(u))
	}
	dir, ok := r.cache.featureDir(d)
	if !ok {
		if r.Offline {
			return nil, fail("download "+u, fmt.Errorf("%w: not in the cache", ErrOffline))
		}
		r.log.Debug("download feature tarball", "feature", n.userID, "url", u)
		data, err := r.download(ctx, u)
		if err != nil {
			last, _ := r.cache.pointer(r.cache.urlFile(u))
			cached, ok := r.cache.featureDir(last)
			if !unreachable(err) || !ok || (pin != "" && pin != last) {
				return nil, fail("download "+u, err)
			}
			r.log.Warn("tarball unreachable, using the cached feature", "feature", n.userID, "digest", last, "error", err)
			dir, d = cached, last
		} else {
			if dir, d, err = r.cache.putArchive(data, pin); err != nil {
				return nil, fail("extract "+u, err)
			}
			if err := r.cache.setPointer(r.cache.urlFile(u), d); err != nil {
				return nil, fail("cache url", err)
			}
		}
	}
	m, err := readMetadata(n.userID, dir)
	if err != nil {
		return nil, err
	}
	return &artifact{dir: dir, meta: m, digest: d, resolved: u}, nil
}

func (r *Resolver) download(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, httpStatusError{resp.Status}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxArchiveBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxArchiveBytes {
		return nil, fmt.Errorf("tarball larger than %d bytes", maxArchiveBytes)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("empty response")
	}
	return data, nil
}

// httpStatusError is a download answered with an unexpected HTTP status.
type httpStatusError struct{ status string }

func (e httpStatusError) Error() string { return "HTTP " + e.status }

// unreachable reports whether err means the server could not be reached at all (as opposed to
// an answer such as 404 or 401, or content that failed verification).
func unreachable(err error) bool {
	var te *transport.Error
	var he httpStatusError
	if errors.As(err, &te) || errors.As(err, &he) || errors.Is(err, ErrDigestMismatch) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF)
}
