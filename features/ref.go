package features

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Kind says where a feature comes from.
type Kind int

// The three kinds of feature reference.
const (
	KindOCI Kind = iota + 1
	KindTarball
	KindLocal
)

func (k Kind) String() string {
	switch k {
	case KindOCI:
		return "oci"
	case KindTarball:
		return "tarball"
	case KindLocal:
		return "local"
	}
	return "unknown"
}

// Ref is a parsed feature reference. Input is the string as the user wrote it.
type Ref struct {
	Kind  Kind
	Input string

	// OCI: Registry "host[:port]", Namespace "owner/repo", ID the last path element, Resource
	// "registry/namespace/id" (lower-cased), Path "namespace/id", and exactly one of Tag or
	// Digest ("sha256:<hex>"); Tag defaults to "latest".
	Registry  string
	Namespace string
	ID        string
	Resource  string
	Path      string
	Tag       string
	Digest    string

	// Tarball: URL is the normalised https URL; ID comes from devcontainer-feature-<id>.tgz.
	URL string

	// Local: RelPath is the path as written ("./a", "../x/a"); ID is its base name.
	RelPath string
}

// Version returns the most specific version of an OCI reference: its digest or tag.
func (r Ref) Version() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// String returns the canonical form: registry/path:tag or @digest, the URL, or the path.
func (r Ref) String() string {
	switch r.Kind {
	case KindOCI:
		if r.Digest != "" {
			return r.Registry + "/" + r.Path + "@" + r.Digest
		}
		return r.Registry + "/" + r.Path + ":" + r.Tag
	case KindTarball:
		return r.URL
	}
	return r.RelPath
}

var (
	ociPathRe      = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$`)
	ociTagRe       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	tarballNameRe  = regexp.MustCompile(`devcontainer-feature-(.*).tgz`)
	featureIDRe    = regexp.MustCompile(`^[a-zA-Z0-9_-]*$`)
	withoutVersion = regexp.MustCompile(`[:@][^/]*$`)
)

// ParseRef parses a feature reference in one of the three forms: an OCI reference
// (host/namespace/id[:tag|@sha256:hex]), an https URL of devcontainer-feature-<id>.tgz, or a
// local path starting with ./ or ../. It follows the reference CLI's rules (lower-casing, tag
// "latest" by default, registry host must contain a dot or start with "localhost").
func ParseRef(s string) (Ref, error) {
	switch {
	case s == "":
		return Ref{}, fmt.Errorf("%w: empty reference", ErrInvalidRef)
	case !strings.Contains(s, "/") && !strings.Contains(s, `\`):
		return Ref{}, fmt.Errorf("%w %q: legacy short feature ids are not supported; use a full OCI reference (host/namespace/%s:version) or %q for a local feature", ErrInvalidRef, s, s, "./"+s)
	case strings.HasPrefix(s, "https://"):
		return parseTarballRef(s)
	case strings.HasPrefix(s, "http://"):
		return Ref{}, fmt.Errorf("%w %q: tarball features must be fetched over https", ErrInvalidRef, s)
	case strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../"):
		id := path.Base(filepath.ToSlash(s))
		return Ref{Kind: KindLocal, Input: s, RelPath: s, ID: id}, nil
	case strings.HasPrefix(s, "/") || filepath.IsAbs(s):
		return Ref{}, fmt.Errorf("%w %q: an absolute path to a local feature is not allowed; use a path relative to devcontainer.json starting with ./", ErrInvalidRef, s)
	}
	return parseOCIRef(s)
}

func parseTarballRef(s string) (Ref, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Ref{}, fmt.Errorf("%w %q: %v", ErrInvalidRef, s, err)
	}
	name := u.Path[strings.LastIndex(u.Path, "/")+1:]
	m := tarballNameRe.FindStringSubmatch(name)
	if m == nil {
		return Ref{}, fmt.Errorf("%w %q: expected the file name to be devcontainer-feature-<id>.tgz, got %q", ErrInvalidRef, s, name)
	}
	if m[1] == "" || !featureIDRe.MatchString(m[1]) {
		return Ref{}, fmt.Errorf("%w %q: feature id %q must be letters, digits, '-' or '_'", ErrInvalidRef, s, m[1])
	}
	return Ref{Kind: KindTarball, Input: s, URL: u.String(), ID: m[1]}, nil
}

func parseOCIRef(s string) (Ref, error) {
	in := strings.ToLower(s)
	if strings.HasPrefix(in, ".") {
		return Ref{}, fmt.Errorf("%w %q: must not start with '.'", ErrInvalidRef, s)
	}
	r := Ref{Kind: KindOCI, Input: s}
	lastColon := strings.LastIndex(in, ":")
	lastAt := strings.LastIndex(in, "@")
	switch {
	case lastAt != -1:
		r.Resource = in[:lastAt]
		d := in[lastAt+1:]
		alg, hex, ok := strings.Cut(d, ":")
		if !ok || strings.Contains(hex, ":") {
			return Ref{}, fmt.Errorf("%w %q: digest %q is not of the form sha256:<hex>", ErrInvalidRef, s, d)
		}
		if alg != "sha256" {
			return Ref{}, fmt.Errorf("%w %q: digest algorithm must be sha256", ErrInvalidRef, s)
		}
		if !ociTagRe.MatchString(hex) {
			return Ref{}, fmt.Errorf("%w %q: digest %q is not valid", ErrInvalidRef, s, d)
		}
		r.Digest = d
	case lastColon != -1 && lastColon > strings.LastIndex(in, "/"):
		r.Resource = in[:lastColon]
		r.Tag = in[lastColon+1:]
		if !ociTagRe.MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("%w %q: tag %q must match %s", ErrInvalidRef, s, r.Tag, ociTagRe)
		}
	default:
		r.Resource = in
		r.Tag = "latest"
	}
	parts := strings.Split(r.Resource, "/")
	if len(parts) > 1 && parts[1] == "devcontainers-contrib" {
		// The reference CLI silently redirects this retired namespace.
		parts[1] = "devcontainers-extra"
	}
	r.Registry = parts[0]
	r.ID = parts[len(parts)-1]
	if len(parts) > 2 {
		r.Namespace = strings.Join(parts[1:len(parts)-1], "/")
	}
	r.Path = r.Namespace + "/" + r.ID
	if !ociPathRe.MatchString(r.Path) {
		return Ref{}, fmt.Errorf("%w %q: repository path %q must match %s (host/namespace/id)", ErrInvalidRef, s, r.Path, ociPathRe)
	}
	if !strings.Contains(r.Registry, ".") && !strings.HasPrefix(r.Registry, "localhost") {
		return Ref{}, fmt.Errorf("%w %q: registry host %q must contain a '.' or be localhost (GitHub-release features owner/repo/id are not supported)", ErrInvalidRef, s, r.Registry)
	}
	return r, nil
}

// WithoutVersion returns the reference string without its trailing :tag or @digest, as the
// reference CLI does for display and matching.
func WithoutVersion(s string) string {
	if loc := withoutVersion.FindStringIndex(s); loc != nil {
		return s[:loc[0]]
	}
	return s
}

// LocalDir resolves a local reference against the folder of devcontainer.json. Like the
// reference CLI it requires the result to stay inside <workspaceFolder>/.devcontainer.
func (r Ref) LocalDir(configDir, workspaceFolder string) (string, error) {
	if r.Kind != KindLocal {
		return "", fmt.Errorf("%w %q: not a local feature", ErrInvalidRef, r.Input)
	}
	dir := filepath.Join(configDir, filepath.FromSlash(r.RelPath))
	parent := filepath.Join(workspaceFolder, ".devcontainer")
	rel, err := filepath.Rel(parent, dir)
	if err != nil || strings.Contains(rel, "..") {
		return "", fmt.Errorf("%w %q: a local feature must be inside %s (resolved to %s)", ErrInvalidRef, r.Input, parent, dir)
	}
	return dir, nil
}
