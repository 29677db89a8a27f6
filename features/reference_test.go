package features

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// refCLI returns the reference CLI (@devcontainers/cli) to compare with, from MOCHI_REFCLI or
// its usual install path, or skips the test.
func refCLI(t *testing.T) string {
	t.Helper()
	p := os.Getenv("MOCHI_REFCLI")
	if p == "" {
		p = "/opt/refcli/node_modules/.bin/devcontainer"
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("reference CLI not available (%v); set MOCHI_REFCLI", err)
	}
	return p
}

func runRef(t *testing.T, cli string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", cli, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestOCIOrderMatchesReferenceCLI is a differential test: features published by the reference
// CLI to an in-process registry (reached as localhost:<port>, the host name the reference
// speaks plain http to) are resolved by `devcontainer features resolve-dependencies` and by
// mochi, and the install orders must be identical. The case exercises the OCI tie-break:
// override priority, the same feature under several tags, digests and options, a dependency
// with options, and installsAfter through a legacy id. It also checks that mochi writes the
// same lockfile and serialises a feature manifest byte for byte like the reference.
func TestOCIOrderMatchesReferenceCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test with the reference CLI")
	}
	cli := refCLI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := newTestRegistry(t, nil)
	srv := &http.Server{Handler: reg.srv.Config.Handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host := "localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")

	root := t.TempDir()
	feature := func(dir, meta string) {
		d := filepath.Join(root, dir)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, MetadataFile), []byte(strings.ReplaceAll(meta, "HOST", host)), 0o644)
		os.WriteFile(filepath.Join(d, "install.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	}
	feature("f1/alpha", `{"id":"alpha","version":"1.0.0","name":"Alpha","options":{"opt":{"type":"string","default":"d"}},"dependsOn":{"HOST/ns/f/base:1":{"opt":"from-alpha"}}}`)
	feature("f2/alpha", `{"id":"alpha","version":"1.1.0","name":"Alpha","options":{"opt":{"type":"string","default":"d"}},"dependsOn":{"HOST/ns/f/base:1":{"opt":"from-alpha"}}}`)
	feature("f1/base", `{"id":"base","version":"1.2.0","name":"Base","options":{"opt":{"type":"string","default":"d"}}}`)
	feature("f1/zeta", `{"id":"zeta","version":"2.0.0","name":"Zeta","installsAfter":["HOST/ns/f/mid"]}`)
	feature("f1/mid", `{"id":"mid","version":"1.0.0","name":"Mid","legacyIds":["old-mid"]}`)
	feature("g/beta", `{"id":"beta","version":"1.0.0","name":"Beta","description":"It's \"B\" $x"}`)
	for _, p := range []struct{ dir, ns string }{{"f1", "ns/f"}, {"f2", "ns/f"}, {"g", "ns/g"}} {
		runRef(t, cli, "features", "publish", "-r", host, "-n", p.ns, filepath.Join(root, p.dir))
	}
	ws := filepath.Join(root, "ws")
	os.MkdirAll(filepath.Join(ws, ".devcontainer"), 0o755)
	cfg := strings.ReplaceAll(`{"image": "example.com/x", "features": {
		"HOST/ns/f/zeta:2": {},
		"HOST/ns/f/alpha:1.0": {"opt": "x"},
		"HOST/ns/f/alpha:1": {"opt": "x"},
		"HOST/ns/f/old-mid:1": {},
		"HOST/ns/g/beta": {},
		"HOST/ns/f/base:1": {},
		"HOST/ns/f/base:latest": {"opt": "b"}
	}, "overrideFeatureInstallOrder": ["HOST/ns/g/beta"]}`, "HOST", host)
	os.WriteFile(filepath.Join(ws, ".devcontainer", "devcontainer.json"), []byte(cfg), 0o644)

	out := runRef(t, cli, "features", "resolve-dependencies", "--workspace-folder", ws)
	var want struct {
		InstallOrder []OrderEntry `json:"installOrder"`
	}
	if err := json.Unmarshal(out[bytes.Index(out, []byte("\n{"))+1:], &want); err != nil {
		t.Fatalf("reference output: %v\n%s", err, out)
	}
	set, err := (&Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}).Resolve(context.Background(), loadConfigInput(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(set.InstallOrder())
	var got []OrderEntry
	json.Unmarshal(gotJSON, &got)
	if diff := cmp.Diff(want.InstallOrder, got); diff != "" {
		t.Errorf("install order (-reference +mochi):\n%s", diff)
	}

	// The lockfile: `devcontainer upgrade --dry-run` prints the one the reference would write.
	refLock := runRef(t, cli, "upgrade", "--workspace-folder", ws, "--dry-run")
	if diff := cmp.Diff(string(refLock), string(set.Lock.Marshal())); diff != "" {
		t.Errorf("lockfile (-reference +mochi):\n%s", diff)
	}

	// Manifest bytes: serialise beta's manifest the way mochi publishes it, with the
	// reference's layer digest and size (the layer bytes themselves differ: file times).
	info, err := (&Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}).Info(context.Background(), host+"/ns/g/beta:1")
	if err != nil {
		t.Fatal(err)
	}
	beta := set.Features[0]
	if beta.Ref.ID != "beta" {
		t.Fatalf("first feature is %s", beta.UserID)
	}
	man, err := parseManifest(info.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	ann := newObject()
	ann.set(AnnotationMetadata, stringify(beta.Metadata.doc, 0))
	placeholder := []byte("x")
	mine := featureManifest(placeholder, MediaTypeLayer, "devcontainer-feature-beta.tgz", ann)
	mine = bytes.Replace(mine, []byte(digestOf(placeholder)), []byte(man.Layers[0].Digest.String()), 1)
	mine = bytes.Replace(mine, []byte(`"size":1,`), []byte(`"size":`+strconv.FormatInt(man.Layers[0].Size, 10)+`,`), 1)
	if !bytes.Equal(mine, info.Manifest) {
		t.Errorf("manifest serialisation differs:\nreference %s\nmochi     %s", info.Manifest, mine)
	}
}

// TestMixedKindsOrderMatchesReferenceCLI compares the install order and lockfile of a
// configuration mixing a local feature, an https tarball and OCI features (features of
// different kinds in one round are ordered by their reference strings) with the reference.
func TestMixedKindsOrderMatchesReferenceCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test with the reference CLI")
	}
	cli := refCLI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := newTestRegistry(t, nil)
	srv := &http.Server{Handler: reg.srv.Config.Handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host := "localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	publishCollectionTo(t, host)

	pkgDir := t.TempDir()
	if _, err := Package("testdata/collection/hello", pkgDir); err != nil {
		t.Fatal(err)
	}
	tgz, err := os.ReadFile(filepath.Join(pkgDir, "devcontainer-feature-hello.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	files := serveFiles(t, map[string][]byte{"/r/devcontainer-feature-hello.tgz": tgz})
	tarURL := files.URL + "/r/devcontainer-feature-hello.tgz"

	ws := t.TempDir()
	dc := filepath.Join(ws, ".devcontainer")
	os.MkdirAll(filepath.Join(dc, "local"), 0o755)
	os.WriteFile(filepath.Join(dc, "local", MetadataFile), []byte(`{"id": "local", "version": "1.0.0", "name": "Local", "installsAfter": ["`+tarURL+`"]}`), 0o644)
	os.WriteFile(filepath.Join(dc, "local", "install.sh"), []byte("#!/bin/sh\n"), 0o755)
	cfg := `{"image": "example.com/x", "features": {
		"./local": {},
		"` + tarURL + `": {"greeting": "tar"},
		"` + host + `/mochi/features/hello:1": {"greeting": "oci"},
		"` + host + `/mochi/features/renamed:0": {}
	}}`
	os.WriteFile(filepath.Join(dc, "devcontainer.json"), []byte(cfg), 0o644)

	// The reference downloads tarballs with Node, which must accept the test server's
	// certificate.
	t.Setenv("NODE_TLS_REJECT_UNAUTHORIZED", "0")
	out := runRef(t, cli, "features", "resolve-dependencies", "--workspace-folder", ws)
	var want struct {
		InstallOrder []OrderEntry `json:"installOrder"`
	}
	if err := json.Unmarshal(out[bytes.Index(out, []byte("\n{"))+1:], &want); err != nil {
		t.Fatalf("reference output: %v\n%s", err, out)
	}
	set, err := (&Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain, HTTP: files.Client()}).Resolve(context.Background(), loadConfigInput(t, ws))
	if err != nil {
		t.Fatal(err)
	}
	gotJSON, _ := json.Marshal(set.InstallOrder())
	var got []OrderEntry
	json.Unmarshal(gotJSON, &got)
	if diff := cmp.Diff(want.InstallOrder, got); diff != "" {
		t.Errorf("install order (-reference +mochi):\n%s", diff)
	}
	if len(got) != 4 || got[len(got)-1].ID != "./local" {
		t.Errorf("expected the local feature last (after the tarball): %s", gotJSON)
	}
	refLock := runRef(t, cli, "upgrade", "--workspace-folder", ws, "--dry-run")
	if diff := cmp.Diff(string(refLock), string(set.Lock.Marshal())); diff != "" {
		t.Errorf("lockfile (-reference +mochi):\n%s", diff)
	}
}

// publishCollectionTo publishes testdata/collection with mochi to a registry at host.
func publishCollectionTo(t *testing.T, host string) {
	t.Helper()
	r := &Resolver{CacheDir: t.TempDir(), Keychain: emptyKeychain}
	if _, err := r.Publish(context.Background(), copyCollection(t, host), host, "mochi/features"); err != nil {
		t.Fatal(err)
	}
}
