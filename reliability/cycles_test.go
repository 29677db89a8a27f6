package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestReliabilityStopUpCycles stops and brings up one workspace repeatedly, with a few
// `mochi up` on the running workspace in between: one container throughout, onCreateCommand
// once, postStartCommand once per start, one agent process inside (no leak per up), and
// `mochi exec` working after every cycle.
func TestReliabilityStopUpCycles(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	ws := e.workspace(cli, "cycles", `{
		"image": "`+workspaceImage+`",
		"onCreateCommand": "echo oncreate >> /workspaces/cycles/.hooks",
		"postStartCommand": "echo poststart >> /workspaces/cycles/.hooks"
	}`)
	const cycles = 5
	first := e.up(ws)
	for i := range cycles {
		if r := e.run("stop", "--workspace-folder", ws); r.code != 0 {
			t.Fatalf("cycle %d: stop: exit %d %s", i, r.code, tail(r.stderr, 800))
		}
		res := e.up(ws)
		e.up(ws) // an up of a running workspace changes nothing
		if res.ContainerID != first.ContainerID {
			t.Errorf("cycle %d: container %.12s, first was %.12s", i, res.ContainerID, first.ContainerID)
		}
		r := e.run("exec", "--workspace-folder", ws, "sh", "-c", fmt.Sprintf("echo cycle-%d; exit 3", i))
		if r.code != 3 || strings.TrimSpace(r.stdout) != fmt.Sprintf("cycle-%d", i) {
			t.Errorf("cycle %d: exec: exit %d %q %s", i, r.code, r.stdout, tail(r.stderr, 500))
		}
		agents := strings.TrimSpace(execIn(t, cli, res.ContainerID, `n=0; for f in /proc/[0-9]*/cmdline; do { tr '\0' ' ' < $f; } 2>/dev/null | grep -q '^/.mochi/bin/mochi agent serve' && n=$((n+1)); done; echo $n`))
		if agents != "1" {
			t.Errorf("cycle %d: %s agent processes in the container, want 1", i, agents)
		}
	}
	if cs := containersOf(t, cli, ws); len(cs) != 1 {
		t.Errorf("%d containers after %d cycles", len(cs), cycles)
	}
	hooks, _ := os.ReadFile(filepath.Join(ws, ".hooks"))
	if n := countLines(string(hooks), "oncreate"); n != 1 {
		t.Errorf("onCreateCommand ran %d times:\n%s", n, hooks)
	}
	if n := countLines(string(hooks), "poststart"); n != cycles+1 {
		t.Errorf("postStartCommand ran %d times for %d starts:\n%s", n, cycles+1, hooks)
	}
}

// TestReliabilityManyExecs runs 30 `mochi exec` processes on one workspace at once, each
// with its own output and exit code.
func TestReliabilityManyExecs(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	ws := e.workspace(cli, "execs", `{"image": "`+workspaceImage+`"}`)
	e.up(ws)
	const n = 30
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.run("exec", "--workspace-folder", ws, "sh", "-c", fmt.Sprintf("head -c %d /dev/zero | wc -c; exit %d", 1000*i, i%5))
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != i%5 || strings.TrimSpace(r.stdout) != fmt.Sprint(1000*i) {
			t.Errorf("exec %d: exit %d (want %d), output %q (want %d)\n%s", i, r.code, i%5, r.stdout, 1000*i, tail(r.stderr, 500))
		}
	}
}
