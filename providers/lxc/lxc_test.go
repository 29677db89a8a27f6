package lxc_test

import (
	"testing"

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
	return p, state
}

func TestConformance(t *testing.T) {
	p, _ := newProvider(t)
	providertest.Run(t, p, providertest.Options{
		Image:  testImage,
		Labels: map[string]string{"mochi.test": "1"},
		User:   "1000:1000",
	})
}
