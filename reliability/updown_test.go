package reliability

import (
	"fmt"
	"sync"
	"testing"
)

// TestReliabilityUpDownRace runs `mochi up` and `mochi down` on one workspace at the same
// moment, several rounds, and checks after each that mochi's record and the engine agree:
// a container exists exactly when a record names it, and a final `up` always recovers.
func TestReliabilityUpDownRace(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	ws := e.workspace(cli, "updown", `{"image": "`+workspaceImage+`"}`)
	name := e.up(ws).Workspace
	mismatches := 0
	for round := range 5 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		var up, down result
		wg.Add(2)
		go func() { defer wg.Done(); <-start; up = e.run("up", "--no-server", "--workspace-folder", ws) }()
		go func() { defer wg.Done(); <-start; down = e.run("down", "--workspace-folder", ws) }()
		close(start)
		wg.Wait()
		cs := containersOf(t, cli, ws)
		rec, recErr := readRecord(e, name)
		state := fmt.Sprintf("round %d: up exit %d, down exit %d, %d containers, record %v", round, up.code, down.code, len(cs), rec != nil)
		t.Log(state)
		for what, r := range map[string]result{"up": up, "down": down} {
			if r.code != 0 {
				t.Logf("  %s: %s", what, tail(lastLine(r.stdout+r.stderr), 300))
			}
		}
		if len(cs) > 1 {
			t.Errorf("%s: more than one container", state)
		}
		switch {
		case len(cs) == 1 && (recErr != nil || rec.ContainerID != cs[0].ID):
			mismatches++
			t.Logf("%s: the container has no record naming it (%v)", state, recErr)
		case len(cs) == 0 && recErr == nil:
			mismatches++
			t.Logf("%s: a record names container %.12s, which is gone", state, rec.ContainerID)
		}
		if up.code != 0 && down.code != 0 {
			t.Errorf("%s: both failed\nup: %s\ndown: %s", state, tail(up.stderr, 500), tail(down.stderr, 500))
		}
	}
	res := e.up(ws)
	if cs := containersOf(t, cli, ws); len(cs) != 1 || cs[0].ID != res.ContainerID {
		t.Errorf("final up: %d containers", len(cs))
	}
	if rec, err := readRecord(e, res.Workspace); err != nil || rec.ContainerID != res.ContainerID {
		t.Errorf("final up: record %+v %v", rec, err)
	}
	knownBug(t, mismatches > 0, "`mochi up` and `mochi down` racing on one workspace leave the record and the engine disagreeing in %d of 5 rounds (down takes no workspace lock)", mismatches)
}

func lastLine(s string) string {
	lines := splitLines(s)
	return lines[len(lines)-1]
}
