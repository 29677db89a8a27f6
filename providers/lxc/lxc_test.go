package lxc_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/lxc"
	"github.com/mochi-dev/mochi/providers/providertest"
)

const testImage = "mochi-test/busybox:latest"

// newProvider returns a provider whose state lives in a test folder, skipping the test unless
// MOCHI_TEST_ENGINES names lxc (and failing it when LXC is then unusable).
func newProvider(t *testing.T) *lxc.Provider {
	t.Helper()
	// The image cache is shared between tests and runs: extracting is the slow part.
	images := filepath.Join(os.TempDir(), "mochi-lxc-test-images")
	p, err := lxc.New(lxc.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "lxc", p.Check)
	_ = images
	return p
}

func TestConformance(t *testing.T) {
	p := newProvider(t)
	providertest.Run(t, p, providertest.Options{
		Image:  testImage,
		Labels: map[string]string{"mochi.test": "1"},
		User:   "1000:1000",
	})
}
