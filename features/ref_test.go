package features

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestParseRefOCI(t *testing.T) {
	for _, tc := range []struct {
		in                                             string
		registry, namespace, id, tag, digest, resource string
	}{
		{"example.com/devcontainers/features/node", "example.com", "devcontainers/features", "node", "latest", "", "example.com/devcontainers/features/node"},
		{"example.com/devcontainers/features/node:1", "example.com", "devcontainers/features", "node", "1", "", "example.com/devcontainers/features/node"},
		{"Example.COM/Owner/Repo/Node:1.2.3", "example.com", "owner/repo", "node", "1.2.3", "", "example.com/owner/repo/node"},
		{"localhost:5000/ns/hello", "localhost:5000", "ns", "hello", "latest", "", "localhost:5000/ns/hello"},
		{"127.0.0.1:5000/a/b/c:x_y", "127.0.0.1:5000", "a/b", "c", "x_y", "", "127.0.0.1:5000/a/b/c"},
		{"example.com:8443/ns/f@sha256:" + hex64, "example.com:8443", "ns", "f", "", "sha256:" + hex64, "example.com:8443/ns/f"},
		{"example.com/devcontainers-contrib/features/x:1", "example.com", "devcontainers-extra/features", "x", "1", "", "example.com/devcontainers-contrib/features/x"},
	} {
		r, err := ParseRef(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if r.Kind != KindOCI || r.Registry != tc.registry || r.Namespace != tc.namespace || r.ID != tc.id || r.Tag != tc.tag || r.Digest != tc.digest || r.Resource != tc.resource || r.Input != tc.in {
			t.Errorf("%s: got %+v", tc.in, r)
		}
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseRefErrors(t *testing.T) {
	for in, want := range map[string]string{
		"node":                                       `invalid feature reference "node": legacy short feature ids are not supported; use a full OCI reference (host/namespace/node:version) or "./node" for a local feature`,
		"owner/repo/feature":                         `invalid feature reference "owner/repo/feature": registry host "owner" must contain a '.' or be localhost (GitHub-release features owner/repo/id are not supported)`,
		"example.com/ns/f@md5:abc":                   `invalid feature reference "example.com/ns/f@md5:abc": digest algorithm must be sha256`,
		"example.com/ns/f:bad:tag!":                  `invalid feature reference "example.com/ns/f:bad:tag!": tag "tag!" must match ^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`,
		"example.com/f":                              `invalid feature reference "example.com/f": repository path "/f" must match ^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$ (host/namespace/id)`,
		"/abs/feature":                               `invalid feature reference "/abs/feature": an absolute path to a local feature is not allowed; use a path relative to devcontainer.json starting with ./`,
		"http://example.com/x.tgz":                   `invalid feature reference "http://example.com/x.tgz": tarball features must be fetched over https`,
		"https://example.com/x.tgz":                  `invalid feature reference "https://example.com/x.tgz": expected the file name to be devcontainer-feature-<id>.tgz, got "x.tgz"`,
		"https://e.com/devcontainer-feature-a.b.tgz": `invalid feature reference "https://e.com/devcontainer-feature-a.b.tgz": feature id "a.b" must be letters, digits, '-' or '_'`,
	} {
		_, err := ParseRef(in)
		if !errors.Is(err, ErrInvalidRef) || err.Error() != want {
			t.Errorf("ParseRef(%q):\n got %v\nwant %s", in, err, want)
		}
	}
}

func TestParseRefTarball(t *testing.T) {
	r, err := ParseRef("https://example.com/releases/download/v1/devcontainer-feature-my_tool-2.tgz")
	if err != nil || r.Kind != KindTarball || r.ID != "my_tool-2" || r.URL != "https://example.com/releases/download/v1/devcontainer-feature-my_tool-2.tgz" {
		t.Errorf("got %+v %v", r, err)
	}
}

// TestLocalDir checks the local-path rules against what the reference CLI 0.89.0 does
// (checked with `devcontainer features resolve-dependencies`): paths resolve against the
// folder of devcontainer.json and must stay inside <workspace>/.devcontainer, so "../b" from
// .devcontainer/devcontainer.json and "./a" from a root .devcontainer.json are refused while
// "../.devcontainer/a" is accepted.
func TestLocalDir(t *testing.T) {
	ws := "/w"
	dc := filepath.Join(ws, ".devcontainer")
	for _, tc := range []struct {
		configDir, ref, want string
	}{
		{dc, "./a", "/w/.devcontainer/a"},
		{dc, "./a/", "/w/.devcontainer/a"},
		{dc, "../.devcontainer/a", "/w/.devcontainer/a"},
		{filepath.Join(dc, "sub"), "../a", "/w/.devcontainer/a"},
		{dc, "../b", ""},
		{dc, "./a/../../b", ""},
		{ws, "./a", ""}, // config is /w/.devcontainer.json
	} {
		r, err := ParseRef(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.LocalDir(tc.configDir, ws)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidRef) {
				t.Errorf("%s from %s: got %q, %v; want an error", tc.ref, tc.configDir, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s from %s: got %q, %v; want %s", tc.ref, tc.configDir, got, err, tc.want)
		}
	}
}

func TestWithoutVersion(t *testing.T) {
	for in, want := range map[string]string{
		"example.com/ns/f:1":               "example.com/ns/f",
		"example.com/ns/f@sha256:" + hex64: "example.com/ns/f",
		"localhost:5000/ns/f":              "localhost:5000/ns/f",
		"./local":                          "./local",
	} {
		if got := WithoutVersion(in); got != want {
			t.Errorf("WithoutVersion(%q) = %q, want %q", in, got, want)
		}
	}
}
