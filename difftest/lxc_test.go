package difftest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// TestDifftestLXC runs every case with mochi on the LXC provider and compares what a user
// observes with the reference CLI on Docker, as pinned in the golden files (TestDifftest checks
// those against the reference itself). Both halves of a cross-tool case run with mochi: the
// reference cannot reach an LXC container. Engine observations (labels, mounts, environment,
// start times) come from the LXC provider's view of the container, files and shell snippets
// from lxc-attach; lxcKnownDiffs lists the steps where LXC cannot match, with the reason.
func TestDifftestLXC(t *testing.T) {
	testenv.RequireEngine(t, "docker", dockerProbe) // images are built and exported there
	home := t.TempDir()
	if err := os.Chmod(home, 0o700); err != nil { // mochi refuses a data folder others can read
		t.Fatal(err)
	}
	eng, err := newLXCEngine(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before home goes: removed containers' folders go in the background
		trash := filepath.Join(home, "lxc", "trash")
		for i := 0; i < 300; i++ {
			if entries, err := os.ReadDir(trash); err != nil || len(entries) == 0 {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("%s still holds removed containers after 30s", trash)
	})
	testenv.RequireEngine(t, "lxc", eng.p.Check)
	mochi := findMochi(repoRoot())
	if mochi == nil {
		t.Skip("mochi binary not found (set MOCHI_BIN or run make build)")
	}
	// Every mochi command of these sessions picks LXC from the settings of its own MOCHI_HOME,
	// so the steps run unchanged; the image cache in it is shared by the cases.
	if err := os.WriteFile(filepath.Join(home, "settings.json"), []byte(`{"provider": "lxc"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	lx := &tool{name: "mochi", path: mochi.path, env: []string{"MOCHI_HOME=" + home}, lxc: eng}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.compose {
				t.Skip("compose configurations run on Docker only: mochi's LXC provider has no compose engine (issue #7 covers image, Dockerfile and Features configurations)")
			}
			if reason := mochiMissing(context.Background(), lx, c.needs); reason != "" {
				t.Skip(reason)
			}
			want, err := readGolden(c.name)
			if err != nil {
				t.Fatal(err)
			}
			got := runSession(context.Background(), t, c, variant{name: "mochi-lxc", first: lx, second: lx})
			compareLXC(t, c.name, want, parseObservations(renderObservations(got)))
		})
	}
}

// compareLXC fails the test where mochi on LXC observed something else than the reference on
// Docker, except for the steps listed in knownDiffs or lxcKnownDiffs (logged only).
func compareLXC(t *testing.T, caseName string, want, got []observation) {
	t.Helper()
	steps := func(obs []observation) []string {
		var out []string
		for _, o := range obs {
			out = append(out, o.Step)
		}
		return out
	}
	if diff := cmp.Diff(steps(want), steps(got)); diff != "" {
		t.Errorf("mochi-lxc: the steps differ from the golden file's (-reference +mochi-lxc):\n%s", diff)
		return
	}
	for i := range want {
		key := caseName + "/" + want[i].Step
		diff := cmp.Diff(want[i].Value, got[i].Value)
		if diff == "" {
			if _, ok := lxcKnownDiffs[key]; ok {
				t.Logf("%q is listed in lxcKnownDiffs but does not differ: remove it from lxc_known_test.go", key)
			}
			continue
		}
		reason, known := lxcKnownDiffs[key]
		if !known {
			reason, known = knownDiffs[key]
		}
		if known {
			t.Logf("mochi-lxc: known difference in %q (%s) (-reference +mochi-lxc):\n%s", want[i].Step, reason, diff)
			continue
		}
		t.Errorf("mochi-lxc: %q differs from the reference on Docker (-reference +mochi-lxc):\n%s", want[i].Step, diff)
	}
}

// readGolden reads the reference's observations of a case from its golden file.
func readGolden(name string) ([]observation, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name+".txt"))
	if err != nil {
		return nil, err
	}
	return parseObservations(string(b)), nil
}

// parseObservations reads the golden file format back (see renderObservations).
func parseObservations(text string) []observation {
	var out []observation
	for _, line := range strings.SplitAfter(text, "\n") {
		if step, ok := strings.CutPrefix(line, "=== "); ok {
			out = append(out, observation{Step: strings.TrimSuffix(step, "\n")})
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].Value += line
		}
	}
	return out
}
