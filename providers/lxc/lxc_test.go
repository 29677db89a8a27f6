package lxc_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/lxc"
	"github.com/mochi-dev/mochi/providers/providertest"
)

const testImage = "mochi-test/busybox:latest"

// newProvider returns a provider whose state (containers, volumes, image cache) lives in a
// test folder, skipping the test unless MOCHI_TEST_ENGINES names lxc and failing it when LXC
// is then unusable (tools, root, bridge).
func newProvider(t *testing.T) (*lxc.Provider, string) {
	t.Helper()
	state := t.TempDir()
	p, err := lxc.New(lxc.Options{StateDir: state})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "lxc", p.Check)
	// Removed containers' folders are deleted by a detached rm: let it finish before the
	// test's folder goes.
	t.Cleanup(func() { waitEmpty(t, filepath.Join(state, "trash")) })
	return p, state
}

// waitEmpty waits until dir is empty or gone.
func waitEmpty(t *testing.T, dir string) {
	for range 300 {
		if entries, err := os.ReadDir(dir); err != nil || len(entries) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%s still holds removed containers after 30s", dir)
}

func TestConformance(t *testing.T) {
	p, _ := newProvider(t)
	providertest.Run(t, p, providertest.Options{
		Image:  testImage,
		Labels: map[string]string{"mochi.test": "1"},
		User:   "1000:1000",
	})
}
