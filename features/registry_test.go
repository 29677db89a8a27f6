package features

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// testRegistry is an in-process OCI registry on 127.0.0.1 that counts the requests it serves.
type testRegistry struct {
	srv      *httptest.Server
	host     string
	requests atomic.Int64
}

func newTestRegistry(t *testing.T, wrap func(http.Handler) http.Handler) *testRegistry {
	t.Helper()
	tr := &testRegistry{}
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	tr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.srv.Close)
	tr.host = strings.TrimPrefix(tr.srv.URL, "http://")
	return tr
}

// copyCollection copies testdata/collection into a temp folder with REGISTRY replaced by host.
func copyCollection(t *testing.T, host string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.Walk("testdata/collection", func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/collection", p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, []byte(strings.ReplaceAll(string(data), "REGISTRY", host)), info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// emptyKeychain keeps tests away from the developer's ~/.docker/config.json.
var emptyKeychain = authn.NewMultiKeychain()

func publishCollection(t *testing.T, reg *testRegistry) *PublishResult {
	t.Helper()
	r := &Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}
	res, err := r.Publish(context.Background(), copyCollection(t, reg.host), reg.host, "mochi/features")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// workspace makes a workspace whose .devcontainer/devcontainer.json lists features.
func workspace(t *testing.T) (ws, configFile string) {
	t.Helper()
	ws = t.TempDir()
	if err := os.MkdirAll(filepath.Join(ws, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	return ws, filepath.Join(ws, ".devcontainer", "devcontainer.json")
}

func TestPublishTags(t *testing.T) {
	reg := newTestRegistry(t, nil)
	res := publishCollection(t, reg)
	if got := res.Features["hello"].Tags; !cmp.Equal(got, []string{"1", "1.0", "1.0.0", "latest"}) {
		t.Errorf("hello tags = %v", got)
	}
	if got := res.Features["renamed"].LegacyIDs; !cmp.Equal(got, []string{"old-name"}) {
		t.Errorf("renamed legacy ids = %v", got)
	}
	r := &Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}
	info, err := r.Info(context.Background(), reg.host+"/mochi/features/hello:1")
	if err != nil {
		t.Fatal(err)
	}
	if info.Digest != res.Features["hello"].Digest || info.CanonicalID != reg.host+"/mochi/features/hello@"+info.Digest {
		t.Errorf("info digest %s canonical %s, published %s", info.Digest, info.CanonicalID, res.Features["hello"].Digest)
	}
	if info.Metadata == nil || info.Metadata.ID != "hello" || !cmp.Equal(info.Versions, []string{"1.0.0"}) {
		t.Errorf("info metadata %+v versions %v", info.Metadata, info.Versions)
	}
	var man map[string]any
	if err := json.Unmarshal(info.Manifest, &man); err != nil {
		t.Fatal(err)
	}
	layer := man["layers"].([]any)[0].(map[string]any)
	if layer["mediaType"] != MediaTypeLayer || man["config"].(map[string]any)["mediaType"] != MediaTypeConfig {
		t.Errorf("manifest media types: %s", info.Manifest)
	}
	if !strings.HasPrefix(string(info.Manifest), `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{`) {
		t.Errorf("manifest key order differs from the reference: %s", info.Manifest)
	}
	// Publishing the same version again pushes nothing; the legacy id is not re-published.
	res2 := publishCollection(t, reg)
	if got := res2.Features["hello"]; got.Digest != "" || len(got.Tags) != 0 {
		t.Errorf("republish pushed %+v", got)
	}
	// The renamed feature is also available under its legacy id.
	if _, err := r.Info(context.Background(), reg.host+"/mochi/features/old-name:0.1"); err != nil {
		t.Errorf("legacy id: %v", err)
	}
}

func TestResolveOCIWithCacheLockfileAndOffline(t *testing.T) {
	reg := newTestRegistry(t, nil)
	publishCollection(t, reg)
	ws, cfg := workspace(t)
	cacheDir := t.TempDir()
	appRef := reg.host + "/mochi/features/app:2"
	in := Input{ConfigFile: cfg, WorkspaceFolder: ws, Features: []Requested{{ID: appRef, Options: map[string]any{"level": "3"}}}}
	ctx := context.Background()

	r := &Resolver{CacheDir: cacheDir, Keychain: emptyKeychain}
	set, err := r.Resolve(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	helloRef := reg.host + "/mochi/features/hello:1"
	var got []string
	for _, f := range set.Features {
		got = append(got, f.UserID+" "+string(f.EnvFile()))
	}
	want := []string{
		helloRef + " GREETING=\"from app\"\nCOLOR=\"red\"\nLOUD=\"true\"",
		appRef + " LEVEL=\"3\"",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("install order and env files (-want +got):\n%s", diff)
	}
	hello := set.Features[0]
	if hello.ID != "hello" || hello.Version != "1.0.0" || !strings.HasPrefix(hello.Dir, cacheDir) || !digestRe.MatchString(hello.Digest) {
		t.Errorf("hello feature = %+v", hello)
	}
	if _, err := os.Stat(filepath.Join(hello.Dir, "install.sh")); err != nil {
		t.Errorf("extracted folder: %v", err)
	}
	lock := set.Lock
	if e := lock.Features[appRef]; e.Version != "2.3.4" || e.Integrity != set.Features[1].Digest ||
		e.Resolved != reg.host+"/mochi/features/app@"+e.Integrity || !cmp.Equal(e.DependsOn, []string{helloRef}) {
		t.Errorf("lock entry for app = %+v", e)
	}
	if len(lock.Features) != 2 {
		t.Errorf("lock has %d entries, want 2", len(lock.Features))
	}
	lockFile := LockfilePath(cfg)
	if changed, err := WriteLockfile(lockFile, lock, false); err != nil || !changed {
		t.Fatalf("write lockfile: changed=%v err=%v", changed, err)
	}
	readBack, _, err := ReadLockfile(lockFile)
	if err != nil {
		t.Fatal(err)
	}

	// Second build with the lockfile: nothing is downloaded, not even a manifest.
	before := reg.requests.Load()
	in.Lock = readBack
	r2 := &Resolver{CacheDir: cacheDir, Keychain: emptyKeychain}
	set2, err := r2.Resolve(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.requests.Load() - before; n != 0 {
		t.Errorf("second resolve with lockfile made %d registry requests, want 0", n)
	}
	if changed, err := WriteLockfile(lockFile, set2.Lock, true); err != nil || changed {
		t.Errorf("frozen lockfile check: changed=%v err=%v", changed, err)
	}

	// No network at all: the registry is gone.
	reg.srv.Close()
	for _, lk := range []*Lockfile{readBack, nil} {
		in.Lock = lk
		r3 := &Resolver{CacheDir: cacheDir, Offline: true, Keychain: emptyKeychain}
		set3, err := r3.Resolve(ctx, in)
		if err != nil {
			t.Fatalf("offline resolve (lock %v): %v", lk != nil, err)
		}
		if set3.Features[1].Digest != set2.Features[1].Digest {
			t.Errorf("offline resolved %s, want %s", set3.Features[1].Digest, set2.Features[1].Digest)
		}
	}

	// Not in offline mode, no lockfile, registry unreachable: the tags resolve to what they
	// resolved to last time (the reference cannot start an already-built container then).
	in.Lock = nil
	set6, err := (&Resolver{CacheDir: cacheDir, Keychain: emptyKeychain}).Resolve(ctx, in)
	if err != nil {
		t.Fatalf("resolve with the registry down: %v", err)
	}
	if set6.Features[1].Digest != set2.Features[1].Digest {
		t.Errorf("fallback resolved %s, want %s", set6.Features[1].Digest, set2.Features[1].Digest)
	}
	in.Lock = readBack

	// Offline and not cached: a clear error naming the feature.
	r4 := &Resolver{CacheDir: t.TempDir(), Offline: true, Keychain: emptyKeychain}
	_, err = r4.Resolve(ctx, in)
	if !errors.Is(err, ErrOffline) || !strings.Contains(err.Error(), `feature "`+appRef+`"`) {
		t.Errorf("offline without cache: %v", err)
	}

	// The registry is down and the tag is not pinned: a fetch error naming the feature.
	in.Lock = nil
	r5 := &Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}
	_, err = r5.Resolve(ctx, in)
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), `feature "`+appRef+`"`) {
		t.Errorf("registry down: %v", err)
	}
}

func TestFrozenLockfile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "devcontainer-lock.json")
	lock := &Lockfile{Features: map[string]LockEntry{
		"example.com/ns/b:1": {Version: "1.0.0", Resolved: "example.com/ns/b@sha256:" + strings.Repeat("b", 64), Integrity: "sha256:" + strings.Repeat("b", 64)},
		"example.com/ns/a:1": {Version: "1.2.0", Resolved: "example.com/ns/a@sha256:" + strings.Repeat("a", 64), Integrity: "sha256:" + strings.Repeat("a", 64), DependsOn: []string{"example.com/ns/b:1"}},
	}}
	if _, err := WriteLockfile(file, lock, true); !errors.Is(err, ErrLockfileMissing) {
		t.Errorf("frozen without file: %v", err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("frozen mode wrote the lockfile")
	}
	if _, err := WriteLockfile(file, lock, false); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	want := `{
  "features": {
    "example.com/ns/a:1": {
      "version": "1.2.0",
      "resolved": "example.com/ns/a@sha256:` + strings.Repeat("a", 64) + `",
      "integrity": "sha256:` + strings.Repeat("a", 64) + `",
      "dependsOn": [
        "example.com/ns/b:1"
      ]
    },
    "example.com/ns/b:1": {
      "version": "1.0.0",
      "resolved": "example.com/ns/b@sha256:` + strings.Repeat("b", 64) + `",
      "integrity": "sha256:` + strings.Repeat("b", 64) + `"
    }
  }
}
`
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("lockfile (-want +got):\n%s", diff)
	}
	// Reformatting (same keys in the same order) is not a change; a different digest is.
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, compact.Bytes(), 0o644)
	if changed, err := WriteLockfile(file, lock, true); err != nil || changed {
		t.Errorf("same lockfile: changed=%v err=%v", changed, err)
	}
	e := lock.Features["example.com/ns/b:1"]
	e.Integrity = "sha256:" + strings.Repeat("c", 64)
	lock.Features["example.com/ns/b:1"] = e
	if _, err := WriteLockfile(file, lock, true); !errors.Is(err, ErrLockfileMismatch) {
		t.Errorf("frozen with a change: %v", err)
	}
	if changed, err := WriteLockfile(file, lock, false); err != nil || !changed {
		t.Errorf("update: changed=%v err=%v", changed, err)
	}
}
