package workspace_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/providers/lxc"
)

// TestLifecycleLXC runs the Docker lifecycle scenario unchanged on the LXC provider (images
// exported from the local Docker engine, which also builds): same hooks, env, folder, user.
func TestLifecycleLXC(t *testing.T) {
	dk, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A state folder shared by the tests, so the image is extracted once.
	state := filepath.Join(os.TempDir(), "mochi-test-lxc")
	be, err := lxc.New(lxc.Options{StateDir: state, Builder: dk})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "lxc", be.Check)
	testLifecycleOn(t, newHarnessOn(t, map[string]string{".devcontainer/devcontainer.json": lifecycleConfig}, true, be, nil))
}
