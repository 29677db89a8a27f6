// Package testenv decides whether engine-backed tests run. MOCHI_TEST_ENGINES lists the engines
// a run requires (for example "docker,lxc"); a test for a listed engine that is missing fails,
// and a test for an engine not listed is skipped.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Wanted reports whether MOCHI_TEST_ENGINES names the engine.
func Wanted(engine string) bool {
	for _, e := range strings.Split(os.Getenv("MOCHI_TEST_ENGINES"), ",") {
		if strings.TrimSpace(e) == engine {
			return true
		}
	}
	return false
}

// RequireEngine skips the test unless MOCHI_TEST_ENGINES names engine; when it does, probe is
// called and a non-nil error fails the test, so a missing engine is never a silent skip.
func RequireEngine(t testing.TB, engine string, probe func() error) {
	t.Helper()
	if !Wanted(engine) {
		t.Skipf("engine %s not requested (set MOCHI_TEST_ENGINES=%s)", engine, engine)
	}
	if probe == nil {
		return
	}
	if err := probe(); err != nil {
		t.Fatalf("MOCHI_TEST_ENGINES asks for %s but it is not usable: %v", engine, err)
	}
}

// Short reports whether only quick tests should run.
func Short() bool { return testing.Short() }
