package difftest

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mochi-dev/mochi/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the reference CLI's observations")

const (
	// runLabel marks images built from fixture Dockerfiles (each stage sets it to @RUN@) so that a
	// case removes exactly its own images.
	runLabel = "mochi.test.run"
	// volumePrefix starts the name of every named volume a fixture mounts.
	volumePrefix = "mochi-difftest-"
	// defaultParallel is how many cases run at once unless -parallel is given: the work is mostly
	// waiting for Docker, so more than GOMAXPROCS (2 on the CI machines) keeps the run short.
	defaultParallel = "4"
)

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		p := os.Getenv("MOCHI_DIFFTEST_PARALLEL")
		if p == "" {
			p = defaultParallel
		}
		if err := flag.Set("test.parallel", p); err != nil {
			fmt.Fprintln(os.Stderr, "difftest: set -parallel:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// diffCase is one differential scenario.
type diffCase struct {
	name  string            // test name and fixture folder under testdata/
	needs []string          // the sub-commands the steps use, checked on mochi before its side runs
	cross bool              // also run reference-then-mochi and mochi-then-reference
	env   map[string]string // extra host environment for the tools (for ${localEnv:...})
	// compose marks a compose configuration: the reference needs a compose tool (its absence
	// fails the case), and each session's compose project is removed by its label.
	compose bool
	steps   func(s *session)
}

// variant says which tool runs the first and the second half of a case's steps.
type variant struct {
	name          string
	first, second *tool
}

// observation is one recorded, normalised result of a step.
type observation struct {
	Step  string
	Value string
}

// TestDifftest runs every case with the reference CLI and, where it implements the commands, with
// mochi, and compares what a user would observe.
func TestDifftest(t *testing.T) {
	testenv.RequireEngine(t, "docker", dockerProbe)
	root := repoRoot()
	ref, err := findReference(root)
	if err != nil {
		// RequireEngine returned, so docker was asked for: a missing oracle is a failure.
		t.Fatal(err)
	}
	mochi := findMochi(root)
	if mochi == nil {
		t.Logf("mochi binary not found (set MOCHI_BIN or run make build): only the reference side runs")
	} else {
		// A data folder of the run's own, and no server: the cases leave nothing in the
		// user's ~/.mochi (records, a server polling them, an Include in ~/.ssh/config).
		home := t.TempDir()
		if err := os.Chmod(home, 0o700); err != nil {
			t.Fatal(err)
		}
		mochi.env = []string{"MOCHI_HOME=" + home, "MOCHI_NO_SERVER=1"}
	}
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case %q", c.name)
		}
		names[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runCase(t, c, ref, mochi)
		})
	}
	if *update {
		pruneGolden(t, names)
	}
}

// runCase runs the variants of one case concurrently and compares their observations.
func runCase(t *testing.T, c diffCase, ref, mochi *tool) {
	ctx := context.Background()
	if c.compose {
		if err := composeTool(ctx); err != nil {
			// Docker was asked for (MOCHI_TEST_ENGINES), so the oracle must be complete.
			t.Fatal(err)
		}
	}
	variants := []variant{{"reference", ref, ref}}
	if reason := mochiMissing(ctx, mochi, c.needs); reason != "" {
		t.Run("mochi", func(t *testing.T) { t.Skip(reason) })
	} else {
		variants = append(variants, variant{"mochi", mochi, mochi})
		if c.cross {
			variants = append(variants,
				variant{"reference-then-mochi", ref, mochi},
				variant{"mochi-then-reference", mochi, ref})
		}
	}
	results := make([][]observation, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runSession(ctx, t, c, v)
		}()
	}
	wg.Wait()

	checkGolden(t, c.name, results[0])
	if len(variants) == 1 {
		return
	}
	differed := map[string]bool{} // knownDiffs keys that differed in some variant
	for i, v := range variants[1:] {
		compareObservations(t, c.name, v.name, results[0], results[i+1], differed)
	}
	for _, o := range results[0] {
		key := c.name + "/" + o.Step
		if _, known := knownDiffs[key]; known && !differed[key] {
			t.Logf("%q is listed in knownDiffs but no variant differs there any more: remove it from known_test.go", key)
		}
	}
}

// compareObservations fails the test where got differs from the reference's observations,
// except for steps listed in knownDiffs, which are only logged and noted in differed.
func compareObservations(t *testing.T, caseName, variant string, want, got []observation, differed map[string]bool) {
	t.Helper()
	if !slices.EqualFunc(want, got, func(a, b observation) bool { return a.Step == b.Step }) {
		t.Errorf("%s: the steps differ from the reference's (-reference +%s):\n%s", variant, variant, cmp.Diff(want, got))
		return
	}
	for i := range want {
		key := caseName + "/" + want[i].Step
		reason, known := knownDiffs[key]
		diff := cmp.Diff(want[i].Value, got[i].Value)
		switch {
		case diff != "" && known:
			differed[key] = true
			t.Logf("%s: known difference in %q (%s) (-reference +%s):\n%s", variant, want[i].Step, reason, variant, diff)
		case diff != "":
			t.Errorf("%s: %q differs from the reference (-reference +%s):\n%s", variant, want[i].Step, variant, diff)
		}
	}
}

// mochiMissing returns why mochi's side of a case cannot run, or "".
func mochiMissing(ctx context.Context, mochi *tool, needs []string) string {
	if mochi == nil {
		return "mochi binary not built"
	}
	for _, cmd := range needs {
		if !mochi.implements(ctx, cmd) {
			return fmt.Sprintf("mochi %s is not implemented yet (%s %s --help)", cmd, mochi.path, cmd)
		}
	}
	return ""
}

// runSession copies the fixture into a fresh workspace and runs the case's steps there.
func runSession(ctx context.Context, t *testing.T, c diffCase, v variant) []observation {
	s := &session{
		t: t, ctx: ctx, name: c.name + "/" + v.name,
		first: v.first, second: v.second,
		tmp:       t.TempDir(),
		runID:     newRunID(),
		ids:       map[string]string{},
		lastSteps: map[string]int{},
		lxc:       v.first.lxc,
	}
	s.ws = filepath.Join(s.tmp, c.name)
	for k, val := range c.env {
		s.env = append(s.env, k+"="+val)
	}
	t.Cleanup(func() {
		if err := s.removeWorkspace(); err != nil {
			t.Errorf("%s: %v", s.name, err)
		}
	})
	if c.compose {
		// The reference writes its compose override files and Feature build folders under
		// $TMPDIR/devcontainercli-<user>: in the session's folder they go when the test ends.
		s.env = append(s.env, "TMPDIR="+s.tmp)
		// Registered after the workspace's cleanup, so it runs first: the project's containers
		// go before the images they use.
		t.Cleanup(func() {
			if err := removeComposeProject(context.Background(), s.project()); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		})
	}
	if err := copyFixture(filepath.Join("testdata", c.name), s.ws, map[string]string{"@RUN@": s.runID}); err != nil {
		s.fail(err)
		return s.obs
	}
	c.steps(s)
	return s.obs
}

// checkGolden compares the reference's observations with testdata/golden/<case>.txt, or rewrites
// that file with -update.
func checkGolden(t *testing.T, name string, obs []observation) {
	path := filepath.Join("testdata", "golden", name+".txt")
	text := renderObservations(obs)
	if *update {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test ./difftest -update): %v", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(text, "\n")); diff != "" {
		t.Errorf("reference observations differ from %s (-golden +reference); if the fixture changed on purpose, rerun with -update:\n%s", path, diff)
	}
}

// renderObservations is the golden file format: one "=== step" header per observation.
func renderObservations(obs []observation) string {
	var b strings.Builder
	for _, o := range obs {
		fmt.Fprintf(&b, "=== %s\n%s", o.Step, o.Value)
		if !strings.HasSuffix(o.Value, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// pruneGolden removes golden files of cases that no longer exist (only with -update).
func pruneGolden(t *testing.T, names map[string]bool) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	for _, f := range files {
		if !names[strings.TrimSuffix(filepath.Base(f), ".txt")] {
			if err := os.Remove(f); err != nil {
				t.Error(err)
			}
		}
	}
}

// copyFixture copies the fixture tree src to dst, replacing placeholders in file contents.
func copyFixture(src, dst string, repl map[string]string) error {
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := string(data)
		for k, v := range repl {
			text = strings.ReplaceAll(text, k, v)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, []byte(text), info.Mode().Perm())
	})
}

// newRunID names one session's images and volumes.
func newRunID() string { return strings.ToLower(rand.Text()[:12]) }
