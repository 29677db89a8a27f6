package workspace_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/mochi-dev/mochi/features"
	"github.com/mochi-dev/mochi/workspace"
)

// TestOCIFeatureOffline publishes a feature to an in-process registry on 127.0.0.1, installs
// it through up, then shuts the registry down: a rebuild of the same config still works,
// from the lockfile and mochi's feature cache.
func TestOCIFeatureOffline(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	host := strings.TrimPrefix(reg.URL, "http://")
	src := t.TempDir()
	files := map[string]string{
		"hello/devcontainer-feature.json": `{"id": "hello", "version": "1.2.3", "name": "Hello", "options": {"who": {"type": "string", "default": "world"}},
			"containerEnv": {"HELLO_FEATURE": "installed"}}`,
		"hello/install.sh": "#!/bin/sh\necho \"hello $WHO\" > /usr/local/hello.txt\necho installing-hello\n",
	}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ref := host + "/mochi/features/hello:1"
	h := newHarness(t, map[string]string{".devcontainer/devcontainer.json": `{"image": "mochi-test/debian:bookworm",
		"features": {"` + ref + `": {"who": "mochi"}}}`}, true)
	pub := &features.Resolver{CacheDir: t.TempDir()}
	if _, err := pub.Publish(context.Background(), filepath.Join(src, "hello"), host, "mochi/features"); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if _, err := h.up(workspace.UpOptions{}); err != nil {
		t.Fatalf("up: %v\n%s", err, h.out)
	}
	if out, code := h.exec("sh", "-c", "cat /usr/local/hello.txt; echo $HELLO_FEATURE"); code != 0 || out != "hello mochi\ninstalled\n" {
		t.Errorf("feature from the registry: %q (exit %d)", out, code)
	}
	lock, err := os.ReadFile(filepath.Join(h.folder, ".devcontainer", "devcontainer-lock.json"))
	if err != nil || !strings.Contains(string(lock), `"version": "1.2.3"`) || !strings.Contains(string(lock), "sha256:") {
		t.Errorf("lockfile = %s, %v; want the version and digest pinned", lock, err)
	}

	reg.Close() // no network from here on
	h.out.Reset()
	if _, err := h.up(workspace.UpOptions{RemoveExisting: true}); err != nil {
		t.Fatalf("up without the registry: %v\n%s", err, h.out)
	}
	if out, _ := h.exec("cat", "/usr/local/hello.txt"); out != "hello mochi\n" {
		t.Errorf("after the offline rebuild: %q", out)
	}
	if strings.Contains(h.out.String(), "installing-hello") {
		t.Errorf("the offline rebuild ran the installer again instead of reusing the layer")
	}
}
