package features

import (
	"context"
	"fmt"
	"sort"
)

// Info describes a published feature, as `features info` shows it.
type Info struct {
	Ref Ref
	// Manifest is the raw manifest and Digest its digest; CanonicalID is resource@digest.
	Manifest    []byte
	Digest      string
	CanonicalID string
	// Metadata is the dev.containers.metadata annotation parsed (nil if absent).
	Metadata *Metadata
	// Tags are the repository's tags; Versions the semantic-version tags, oldest first.
	Tags     []string
	Versions []string
}

// Info fetches a feature's manifest and published tags from its registry.
func (r *Resolver) Info(ctx context.Context, refString string) (*Info, error) {
	r, err := r.session()
	if err != nil {
		return nil, err
	}
	ref, err := ParseRef(refString)
	if err != nil {
		return nil, err
	}
	if ref.Kind != KindOCI {
		return nil, fmt.Errorf("%w %q: features info needs an OCI reference", ErrInvalidRef, refString)
	}
	if r.Offline {
		return nil, fmt.Errorf("feature %q: %w", refString, ErrOffline)
	}
	data, d, err := r.registry.getManifest(ctx, ref, ref.Version())
	if err != nil {
		return nil, mark(ErrFetch, fmt.Errorf("feature %q: fetch manifest: %w", refString, err))
	}
	man, err := parseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w", refString, err)
	}
	info := &Info{Ref: ref, Manifest: data, Digest: d, CanonicalID: ref.Resource + "@" + d}
	if a, ok := man.Annotations[AnnotationMetadata]; ok {
		if info.Metadata, err = ParseMetadata(refString+" annotation "+AnnotationMetadata, []byte(a)); err != nil {
			return nil, err
		}
	}
	if info.Tags, err = r.registry.tags(ctx, ref); err != nil {
		return nil, mark(ErrFetch, fmt.Errorf("feature %q: list tags: %w", refString, err))
	}
	var vs []semver
	byVersion := map[string]string{}
	for _, t := range info.Tags {
		if v, err := parseSemver(t); err == nil {
			vs = append(vs, v)
			byVersion[fmt.Sprint(v)] = t
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].compare(vs[j]) < 0 })
	for _, v := range vs {
		info.Versions = append(info.Versions, byVersion[fmt.Sprint(v)])
	}
	return info, nil
}
