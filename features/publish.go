package features

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// emptyConfig is the config blob of every feature manifest.
var emptyConfig = []byte("{}")

// Published reports what Publish pushed for one feature. It marshals like an entry of the
// reference's publish summary.
type Published struct {
	ID      string   `json:"-"`
	Tags    []string `json:"publishedTags,omitempty"`
	Digest  string   `json:"digest,omitempty"`
	Version string   `json:"version,omitempty"`
	// LegacyIDs lists the legacy ids the feature was also published under.
	LegacyIDs []string `json:"publishedLegacyIds,omitempty"`
}

// PublishResult is the outcome of Publish: per feature id, and the collection's digest.
type PublishResult struct {
	Features   map[string]Published
	Collection string
}

// featureManifest serialises a feature manifest byte for byte as the reference does (compact,
// keys in the order schemaVersion, mediaType, config, layers, annotations), so the same archive
// gets the same digest.
func featureManifest(layer []byte, layerMediaType, title string, annotations *object) []byte {
	cfg := newObject()
	cfg.set("mediaType", MediaTypeConfig)
	cfg.set("digest", digestOf(emptyConfig))
	cfg.set("size", len(emptyConfig))
	l := newObject()
	l.set("mediaType", layerMediaType)
	l.set("digest", digestOf(layer))
	l.set("size", len(layer))
	la := newObject()
	la.set(AnnotationTitle, title)
	l.set("annotations", la)
	m := newObject()
	m.set("schemaVersion", 2)
	m.set("mediaType", MediaTypeManifest)
	m.set("config", cfg)
	m.set("layers", []any{l})
	if annotations != nil {
		m.set("annotations", annotations)
	}
	return []byte(stringify(m, 0))
}

// push uploads the blobs and puts the manifest under each tag; it returns the manifest digest.
func (g registry) push(ctx context.Context, r Ref, layer []byte, layerMediaType string, manifest []byte, tags []string) (string, error) {
	repo, err := g.repo(r)
	if err != nil {
		return "", err
	}
	for _, blob := range []struct {
		data []byte
		mt   string
	}{{emptyConfig, MediaTypeConfig}, {layer, layerMediaType}} {
		if err := remote.WriteLayer(repo, static.NewLayer(blob.data, types.MediaType(blob.mt)), g.options(ctx)...); err != nil {
			return "", fmt.Errorf("upload blob %s: %w", digestOf(blob.data), err)
		}
	}
	for _, tag := range tags {
		if err := remote.Put(repo.Tag(tag), rawManifest{manifest, MediaTypeManifest}, g.options(ctx)...); err != nil {
			return "", fmt.Errorf("put manifest %s:%s: %w", repo, tag, err)
		}
	}
	return digestOf(manifest), nil
}

// Publish packages dir (a feature or a collection) and pushes every feature to
// <registryHost>/<namespace>/<id> with the semantic tags of its version (x.y.z, and x, x.y,
// latest when it is the newest in that range), also under each of its legacyIds, then pushes
// devcontainer-collection.json to <registryHost>/<namespace>:latest.
func (r *Resolver) Publish(ctx context.Context, dir, registryHost, namespace string) (*PublishResult, error) {
	r, err := r.session()
	if err != nil {
		return nil, err
	}
	if r.Offline {
		return nil, fmt.Errorf("publish: %w", ErrOffline)
	}
	out, err := os.MkdirTemp("", "mochi-publish-")
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	defer os.RemoveAll(out)
	pkgs, err := Package(dir, out)
	if err != nil {
		return nil, err
	}
	res := &PublishResult{Features: map[string]Published{}}
	for _, p := range pkgs {
		layer, err := os.ReadFile(p.Archive)
		if err != nil {
			return nil, fmt.Errorf("publish %s: %w", p.ID, err)
		}
		ann := newObject()
		ann.set(AnnotationMetadata, stringify(p.doc, 0))
		manifest := featureManifest(layer, MediaTypeLayer, filepath.Base(p.Archive), ann)
		pub := Published{ID: p.ID}
		for i, id := range append([]string{p.ID}, p.LegacyIDs...) {
			ref, err := ParseRef(registryHost + "/" + namespace + "/" + id)
			if err != nil {
				return nil, fmt.Errorf("publish %s: %w", id, err)
			}
			published, err := r.registry.tags(ctx, ref)
			if err != nil {
				return nil, fmt.Errorf("publish %s: list tags of %s: %w", id, ref.Resource, err)
			}
			tags, err := SemanticTags(p.Version, published)
			if err != nil {
				return nil, fmt.Errorf("publish %s: %w", id, err)
			}
			if len(tags) == 0 {
				r.log.Warn("version already published, skipping", "feature", id, "version", p.Version)
				if i == 0 {
					break // like the reference: legacy ids only follow a new publication
				}
				continue
			}
			d, err := r.registry.push(ctx, ref, layer, MediaTypeLayer, manifest, tags)
			if err != nil {
				return nil, fmt.Errorf("publish %s: %w", id, err)
			}
			r.log.Info("published feature", "feature", ref.Resource, "tags", tags, "digest", d)
			if i == 0 {
				pub.Version, pub.Digest, pub.Tags = p.Version, d, tags
			} else {
				pub.LegacyIDs = append(pub.LegacyIDs, id)
			}
		}
		res.Features[p.ID] = pub
	}
	coll, err := os.ReadFile(filepath.Join(out, CollectionFile))
	if err != nil {
		return nil, fmt.Errorf("publish collection: %w", err)
	}
	// The collection lives at <registry>/<namespace>:latest.
	cref := Ref{Kind: KindOCI, Registry: registryHost, Path: namespace}
	manifest := featureManifest(coll, MediaTypeCollectionLayer, CollectionFile, nil)
	d, err := r.registry.push(ctx, cref, coll, MediaTypeCollectionLayer, manifest, []string{"latest"})
	if err != nil {
		return nil, fmt.Errorf("publish collection %s/%s: %w", registryHost, namespace, err)
	}
	res.Collection = d
	return res, nil
}
