package features

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Media types and annotations of features stored as OCI artifacts.
const (
	MediaTypeConfig          = "application/vnd.devcontainers"
	MediaTypeLayer           = "application/vnd.devcontainers.layer.v1+tar"
	MediaTypeCollectionLayer = "application/vnd.devcontainers.collection.layer.v1+json"
	MediaTypeManifest        = "application/vnd.oci.image.manifest.v1+json"
	AnnotationMetadata       = "dev.containers.metadata"
	AnnotationTitle          = "org.opencontainers.image.title"
)

// Manifest is the part of an OCI manifest a feature needs.
type Manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// registry talks to OCI registries with go-containerregistry: anonymous first, then the
// credentials of ~/.docker/config.json (DOCKER_CONFIG honoured, credential helpers included)
// through the token or basic exchange the registry asks for. localhost and loopback
// registries are spoken to over plain http.
type registry struct {
	transport http.RoundTripper
	keychain  authn.Keychain
}

func (g registry) options(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(g.keychain)}
	if g.transport != nil {
		opts = append(opts, remote.WithTransport(g.transport))
	}
	return opts
}

func nameOptions(r Ref) []name.Option {
	host := r.Registry
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	if host == "localhost" || strings.HasPrefix(host, "127.") || host == "[::1]" {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (g registry) repo(r Ref) (name.Repository, error) {
	return name.NewRepository(r.Registry+"/"+r.Path, nameOptions(r)...)
}

// getManifest fetches a manifest by tag or digest (version) and returns its bytes and digest.
func (g registry) getManifest(ctx context.Context, r Ref, version string) ([]byte, string, error) {
	repo, err := g.repo(r)
	if err != nil {
		return nil, "", err
	}
	var ref name.Reference
	if strings.HasPrefix(version, "sha256:") {
		ref = repo.Digest(version)
	} else {
		ref = repo.Tag(version)
	}
	desc, err := remote.Get(ref, g.options(ctx)...)
	if err != nil {
		return nil, "", err
	}
	d := digestOf(desc.Manifest)
	if strings.HasPrefix(version, "sha256:") && d != version {
		return nil, "", fmt.Errorf("%w: manifest is %s, want %s", ErrDigestMismatch, d, version)
	}
	return desc.Manifest, d, nil
}

// getBlob downloads a blob and checks its digest.
func (g registry) getBlob(ctx context.Context, r Ref, d string) ([]byte, error) {
	repo, err := g.repo(r)
	if err != nil {
		return nil, err
	}
	l, err := remote.Layer(repo.Digest(d), g.options(ctx)...)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxArchiveBytes))
	if err != nil {
		return nil, err
	}
	if got := digestOf(data); got != d {
		return nil, fmt.Errorf("%w: blob is %s, want %s", ErrDigestMismatch, got, d)
	}
	return data, nil
}

// tags lists a repository's tags; a repository that does not exist has none.
func (g registry) tags(ctx context.Context, r Ref) ([]string, error) {
	repo, err := g.repo(r)
	if err != nil {
		return nil, err
	}
	tags, err := remote.List(repo, g.options(ctx)...)
	var te *transport.Error
	if errors.As(err, &te) && te.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	return tags, err
}

// parseManifest decodes a feature manifest and checks its config media type.
func parseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if string(m.Config.MediaType) != MediaTypeConfig {
		return nil, fmt.Errorf("unexpected manifest config media type %q (want %s)", m.Config.MediaType, MediaTypeConfig)
	}
	if len(m.Layers) == 0 {
		return nil, fmt.Errorf("manifest has no layers")
	}
	return &m, nil
}

// rawManifest lets remote.Put send bytes we serialised ourselves.
type rawManifest struct {
	data      []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.data, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
