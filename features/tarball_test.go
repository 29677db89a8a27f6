package features

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type tarEntry struct {
	name, body, link string
	typ              byte
}

func makeTar(t *testing.T, entries []tarEntry, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755, Typeflag: e.typ, Linkname: e.link}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if !gz {
		return buf.Bytes()
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(buf.Bytes())
	zw.Close()
	return z.Bytes()
}

const tarballMeta = `{"id": "tool", "version": "0.2.0", "name": "Tool", "options": {"version": {"type": "string", "default": "stable"}}}`

func serveFiles(t *testing.T, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTarballFeature(t *testing.T) {
	good := []tarEntry{
		{name: "./", typ: tar.TypeDir},
		{name: "./devcontainer-feature.json", body: tarballMeta},
		{name: "./install.sh", body: "#!/bin/sh\necho $VERSION\n"},
		{name: "./lib/", typ: tar.TypeDir},
		{name: "./lib/helper.sh", body: "echo helper\n"},
		{name: "./lib/link.sh", typ: tar.TypeSymlink, link: "helper.sh"},
	}
	plainTar, gzTar := makeTar(t, good, false), makeTar(t, good, true)
	srv := serveFiles(t, map[string][]byte{
		"/plain/devcontainer-feature-tool.tgz": plainTar,
		"/gz/devcontainer-feature-tool.tgz":    gzTar,
	})
	ws, cfg := workspace(t)
	cacheDir := t.TempDir()
	for _, kind := range []string{"plain", "gz"} {
		u := srv.URL + "/" + kind + "/devcontainer-feature-tool.tgz"
		r := &Resolver{CacheDir: cacheDir, HTTP: srv.Client()}
		in := Input{ConfigFile: cfg, WorkspaceFolder: ws, Features: []Requested{{ID: u, Options: "1.2"}}}
		set, err := r.Resolve(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		f := set.Features[0]
		if f.ID != "tool" || string(f.EnvFile()) != `VERSION="1.2"` {
			t.Errorf("%s: feature %s env %q", kind, f.ID, f.EnvFile())
		}
		want := digestOf(map[string][]byte{"plain": plainTar, "gz": gzTar}[kind])
		if e := set.Lock.Features[u]; e.Integrity != want || e.Resolved != u || e.Version != "0.2.0" {
			t.Errorf("%s: lock entry %+v, want integrity %s", kind, e, want)
		}
		if target, err := os.Readlink(filepath.Join(f.Dir, "lib", "link.sh")); err != nil || target != "helper.sh" {
			t.Errorf("%s: symlink inside the folder: %q %v", kind, target, err)
		}
		// A pinned digest that does not match is refused.
		in.Lock = &Lockfile{Features: map[string]LockEntry{u: {Integrity: "sha256:" + strings.Repeat("0", 64)}}}
		if _, err := (&Resolver{CacheDir: t.TempDir(), HTTP: srv.Client()}).Resolve(context.Background(), in); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("%s: pinned wrong digest: %v", kind, err)
		}
	}
	// A name that is not devcontainer-feature-<id>.tgz is refused before any download.
	if _, err := ParseRef(srv.URL + "/plain/tool.tgz"); !errors.Is(err, ErrInvalidRef) {
		t.Errorf("bad tarball name: %v", err)
	}
	// A 404 names the feature.
	u := srv.URL + "/missing/devcontainer-feature-tool.tgz"
	_, err := (&Resolver{CacheDir: t.TempDir(), HTTP: srv.Client()}).Resolve(context.Background(),
		Input{ConfigFile: cfg, WorkspaceFolder: ws, Features: []Requested{{ID: u}}})
	if !errors.Is(err, ErrFetch) || err.Error() != `feature "`+u+`": download `+u+`: HTTP 404 Not Found` {
		t.Errorf("missing tarball: %v", err)
	}
}

// TestUnsafeArchivesRejected is a security regression test: no archive entry may be written
// outside the feature's folder in the cache.
func TestUnsafeArchivesRejected(t *testing.T) {
	meta := tarEntry{name: "./devcontainer-feature.json", body: tarballMeta}
	cases := map[string]struct {
		entries []tarEntry
		want    string
	}{
		"dotdot":          {[]tarEntry{meta, {name: "../evil.sh", body: "x"}}, `entry "../evil.sh": path escapes the feature folder`},
		"nested-dotdot":   {[]tarEntry{meta, {name: "./lib/../../evil.sh", body: "x"}}, `entry "./lib/../../evil.sh": path escapes the feature folder`},
		"absolute":        {[]tarEntry{meta, {name: "/tmp/evil.sh", body: "x"}}, `entry "/tmp/evil.sh": absolute path`},
		"symlink-out":     {[]tarEntry{meta, {name: "./link", typ: tar.TypeSymlink, link: "../../outside"}}, `entry "./link": symlink target "../../outside" points outside the feature folder`},
		"symlink-abs":     {[]tarEntry{meta, {name: "./etc", typ: tar.TypeSymlink, link: "/etc"}}, `entry "./etc": symlink to the absolute path "/etc"`},
		"through-symlink": {[]tarEntry{meta, {name: "./d", typ: tar.TypeSymlink, link: "."}, {name: "./d/x", body: "x"}}, `entry "./d/x": is below the symlink "d"`},
		"symlink-climb":   {[]tarEntry{meta, {name: "./self", typ: tar.TypeSymlink, link: "."}, {name: "./up", typ: tar.TypeSymlink, link: "self/.."}}, `entry "./up": symlink target "self/.." has ".." after a folder name`},
		"hardlink-out":    {[]tarEntry{meta, {name: "./h", typ: tar.TypeLink, link: "../../etc/passwd"}}, `entry "./h": hard link target "../../etc/passwd" is outside the feature folder`},
		"device":          {[]tarEntry{meta, {name: "./dev", typ: tar.TypeChar}}, `entry "./dev": unsupported type '3'`},
	}
	ws, cfg := workspace(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			data := makeTar(t, tc.entries, name == "dotdot")
			srv := serveFiles(t, map[string][]byte{"/x/devcontainer-feature-tool.tgz": data})
			u := srv.URL + "/x/devcontainer-feature-tool.tgz"
			root := t.TempDir()
			cacheDir := filepath.Join(root, "a", "b", "cache")
			r := &Resolver{CacheDir: cacheDir, HTTP: srv.Client()}
			_, err := r.Resolve(context.Background(), Input{ConfigFile: cfg, WorkspaceFolder: ws, Features: []Requested{{ID: u}}})
			if !errors.Is(err, ErrUnsafeArchive) {
				t.Fatalf("error = %v, want ErrUnsafeArchive", err)
			}
			want := `feature "` + u + `": extract ` + u + `: unsafe feature archive: ` + tc.want
			if err.Error() != want {
				t.Errorf("error:\n got %s\nwant %s", err, want)
			}
			// Nothing outside the cache, and no half-extracted feature inside it.
			filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() && !strings.HasPrefix(p, cacheDir+string(filepath.Separator)) {
					t.Errorf("file outside the cache: %s", p)
				}
				if err == nil && strings.Contains(p, string(filepath.Separator)+"features"+string(filepath.Separator)) {
					t.Errorf("unsafe archive left in the cache: %s", p)
				}
				return nil
			})
		})
	}
}
