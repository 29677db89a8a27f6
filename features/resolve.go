package features

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Resolver fetches features and computes their install order. CacheDir is the feature cache
// (a folder under mochi's data folder); it is content-addressed, so a second build of the same
// configuration downloads nothing, and with Offline set nothing touches the network: features
// resolve from the lockfile (or the last digest seen for a tag) and the cache.
type Resolver struct {
	CacheDir string
	Logger   *slog.Logger
	// HTTP downloads tarball features; its Transport (if any) is also used for registries.
	HTTP    *http.Client
	Offline bool
	// Keychain supplies registry credentials; nil means DEVCONTAINERS_OCI_AUTH
	// ("registry|user|token,...") and then ~/.docker/config.json (DOCKER_CONFIG honoured,
	// credential helpers included), as the reference CLI looks them up.
	Keychain authn.Keychain

	cache    cache
	registry registry
	log      *slog.Logger
	memo     map[string]*artifact
}

// Requested is one entry of the configuration's "features": the reference as the user wrote
// it and its value (an options object, a version string or a boolean). Options may be
// map[string]any, string, bool, nil or json.RawMessage (which keeps the key order as written).
type Requested struct {
	ID      string
	Options any
}

// Input is what Resolve needs from a configuration.
type Input struct {
	// ConfigFile is the devcontainer.json path; local features resolve against its folder.
	ConfigFile string
	// WorkspaceFolder is the workspace root; local features must stay inside its .devcontainer.
	WorkspaceFolder string
	Features        []Requested
	// OverrideOrder is overrideFeatureInstallOrder.
	OverrideOrder []string
	// Lock pins OCI and tarball features to digests (nil: resolve tags afresh).
	Lock *Lockfile
}

// Feature is one feature to install, at its place in the install order.
type Feature struct {
	// UserID is the reference as written in the configuration (or in dependsOn).
	UserID string
	Ref    Ref
	// ID is the feature's id from its metadata.
	ID string
	// Index is the position in the install order.
	Index int
	// Version is the metadata version; Digest the OCI manifest digest or the tarball's sha256
	// (empty for local features); Resolved the lockfile's "resolved".
	Version  string
	Digest   string
	Resolved string
	// Dir is the feature's folder (in the cache, or the local folder). Treat it as read-only.
	Dir      string
	Metadata *Metadata
	// UserOptions is the value as written; Options the resolved values (defaults applied).
	UserOptions any
	Options     []OptionValue
	// DependsOn lists the UserIDs of the features this one depends on; InstallsAfter those
	// of the features in the set it installs after (soft dependencies that matched).
	DependsOn     []string
	InstallsAfter []string

	dependsOnIdx, installsAfterIdx []int
}

// ConsecutiveID names the feature's folder in the build: "<id>_<index>".
func (f *Feature) ConsecutiveID() string { return fmt.Sprintf("%s_%d", f.ID, f.Index) }

// EnvFile returns the content of the feature's devcontainer-features.env.
func (f *Feature) EnvFile() []byte { return EnvFile(f.Options) }

// Set is the resolved features in install order plus the lockfile that pins them.
type Set struct {
	Features []*Feature
	Lock     *Lockfile
}

// session returns a copy of r prepared for one call, so a Resolver can be shared by
// goroutines: the only shared state is the cache folder, which is written atomically.
func (r *Resolver) session() (*Resolver, error) {
	if r.CacheDir == "" {
		return nil, fmt.Errorf("resolve features: no cache folder")
	}
	s := *r
	s.cache = cache{root: r.CacheDir}
	s.log = r.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "features")
	kc := r.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain(envKeychain{}, authn.DefaultKeychain)
	}
	s.registry = registry{keychain: kc}
	if r.HTTP != nil {
		s.registry.transport = r.HTTP.Transport
	}
	s.memo = map[string]*artifact{}
	return &s, nil
}

func (r *Resolver) client() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return http.DefaultClient
}

// newNode parses a reference for the graph; local paths resolve against the config folder.
func (r *Resolver) newNode(in Input, userID string, options any) (*node, error) {
	ref, err := ParseRef(userID)
	if err != nil {
		return nil, err
	}
	opts, err := normalizeUserOptions(options)
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w", userID, err)
	}
	n := &node{userID: userID, options: opts, ref: ref}
	if ref.Kind == KindLocal {
		if n.localDir, err = ref.LocalDir(filepath.Dir(in.ConfigFile), in.WorkspaceFolder); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Resolve fetches the requested features and their dependencies, orders them, validates
// their options and returns them with the lockfile that pins them.
func (r *Resolver) Resolve(ctx context.Context, in Input) (*Set, error) {
	r, err := r.session()
	if err != nil {
		return nil, err
	}
	o := newOrderer()
	var worklist, acc []*node
	for _, f := range in.Features {
		n, err := r.newNode(in, f.ID, f.Options)
		if err != nil {
			return nil, err
		}
		worklist = append(worklist, n)
	}
	for len(worklist) > 0 {
		cur := worklist[0]
		worklist = worklist[1:]
		pin := in.Lock.integrity(cur.userID)
		if cur.ref.Kind == KindTarball && pin == "" {
			pin = in.Lock.integrity(cur.ref.URL)
		}
		a, err := r.fetch(ctx, cur, pin)
		if err != nil {
			if cur.parent != nil {
				return nil, fmt.Errorf("%w (in dependsOn of %q)", err, cur.parent.userID)
			}
			return nil, err
		}
		cur.art, cur.digest = a, a.digest
		dup := false
		for _, x := range acc {
			if o.equals(x, cur) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		m := a.meta
		cur.aliases = append([]string{firstNonEmpty(m.CurrentID, m.ID)}, m.LegacyIDs...)
		for _, d := range m.DependsOn {
			dn, err := r.newNode(in, d.Ref, d.ordered)
			if err != nil {
				return nil, fmt.Errorf("feature %q: dependsOn: %w", cur.userID, err)
			}
			dn.parent = cur
			cur.dependsOn = append(cur.dependsOn, dn)
			worklist = append(worklist, dn)
		}
		for _, s := range m.InstallsAfter {
			sn, err := r.newNode(in, s, nil)
			if err != nil {
				// The reference fails here too; name the feature that asked.
				return nil, fmt.Errorf("feature %q: installsAfter: %w", cur.userID, err)
			}
			cur.installsAfter = append(cur.installsAfter, sn)
		}
		acc = append(acc, cur)
	}
	if len(in.OverrideOrder) > 0 {
		var overrides []*node
		for _, s := range in.OverrideOrder {
			on, err := r.newNode(in, s, nil)
			if err != nil {
				return nil, fmt.Errorf("overrideFeatureInstallOrder: %w", err)
			}
			overrides = append(overrides, on)
		}
		o.applyOverrides(acc, overrides)
	}
	ordered, err := o.installOrder(acc)
	if err != nil {
		return nil, fmt.Errorf("compute feature install order: %w", err)
	}
	return r.buildSet(ordered)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (r *Resolver) buildSet(ordered []*node) (*Set, error) {
	o := newOrderer()
	set := &Set{Lock: &Lockfile{Features: map[string]LockEntry{}}}
	for i, n := range ordered {
		m := n.art.meta
		opts, err := ResolveOptions(n.userID, m, n.options)
		if err != nil {
			return nil, err
		}
		f := &Feature{
			UserID: n.userID, Ref: n.ref, ID: m.ID, Index: i, Version: m.Version,
			Digest: n.art.digest, Resolved: n.art.resolved, Dir: n.art.dir, Metadata: m,
			UserOptions: plain(n.options), Options: opts,
		}
		for _, d := range n.dependsOn {
			f.DependsOn = append(f.DependsOn, d.userID)
			for j, m := range ordered {
				if o.equals(m, d) {
					f.dependsOnIdx = append(f.dependsOnIdx, j)
				}
			}
		}
		for _, d := range n.installsAfter {
			for j, m := range ordered {
				if o.softMatch(m, d) && !contains(f.InstallsAfter, m.userID) {
					f.InstallsAfter = append(f.InstallsAfter, m.userID)
					f.installsAfterIdx = append(f.installsAfterIdx, j)
				}
			}
		}
		set.Features = append(set.Features, f)
		if n.ref.Kind == KindOCI || n.ref.Kind == KindTarball {
			e := LockEntry{Version: m.Version, Resolved: n.art.resolved, Integrity: n.art.digest}
			for _, d := range m.DependsOn {
				e.DependsOn = append(e.DependsOn, d.Ref)
			}
			set.Lock.Features[n.userID] = e
		}
	}
	return set, nil
}

// OrderEntry is one line of `features resolve-dependencies`: the reference and its options.
type OrderEntry struct {
	ID      string `json:"id"`
	Options any    `json:"options"`
}

// InstallOrder lists the features in install order as resolve-dependencies prints them: OCI
// features as resource@digest, others by the reference as written.
func (s *Set) InstallOrder() []OrderEntry {
	out := make([]OrderEntry, len(s.Features))
	for i, f := range s.Features {
		id := f.UserID
		if f.Ref.Kind == KindOCI {
			id = f.Ref.Resource + "@" + f.Digest
		}
		out[i] = OrderEntry{ID: id, Options: f.UserOptions}
	}
	return out
}

// Mermaid renders the dependency graph as a Mermaid flowchart, as resolve-dependencies prints
// it: "-->" for dependsOn, "-.->" for installsAfter. Nodes are numbered in install order.
func (s *Set) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart\n")
	name := func(f *Feature) string {
		return fmt.Sprintf("n%d[%s]", f.Index, strings.NewReplacer("[", "(", "]", ")").Replace(f.String()))
	}
	for _, f := range s.Features {
		b.WriteString(name(f) + "\n")
		for _, j := range f.dependsOnIdx {
			b.WriteString(name(f) + " --> " + name(s.Features[j]) + "\n")
		}
		for _, j := range f.installsAfterIdx {
			b.WriteString(name(f) + " -.-> " + name(s.Features[j]) + "\n")
		}
	}
	return b.String()
}

// String names the feature: its reference, and its options when the user gave any.
func (f *Feature) String() string {
	n := &node{userID: f.UserID}
	n.options, _ = normalizeUserOptions(f.UserOptions)
	return n.String()
}

// LockfileFor returns a copy of the set's lockfile without the entries for references in
// exclude (the reference CLI leaves out features that came only from --additional-features).
func (s *Set) LockfileFor(exclude ...string) *Lockfile {
	l := &Lockfile{Features: map[string]LockEntry{}}
	for _, k := range sortedKeys(s.Lock.Features) {
		if !contains(exclude, k) {
			l.Features[k] = s.Lock.Features[k]
		}
	}
	return l
}
