package reliability

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// hookConfig is a workspace whose once-only hooks log their start and end (with the
// container's host name) into the workspace folder, slowly enough to be killed inside.
func hookConfig(name, base string) string {
	log := "/workspaces/" + name + "/.hooks"
	hook := func(h string) string {
		return fmt.Sprintf(`"echo start-%s $(hostname) >> %s; sleep 2; echo end-%s $(hostname) >> %s"`, h, log, h, log)
	}
	return `{` + base + `,
		"onCreateCommand": ` + hook("onCreate") + `,
		"postCreateCommand": ` + hook("postCreate") + `,
		"postStartCommand": ` + hook("postStart") + `
	}`
}

// killPoint says when to SIGKILL a running `mochi up`.
type killPoint struct {
	name string
	// ready reports whether the moment has come; it is polled every 20ms.
	ready func(t *testing.T, cli *client.Client, ws string, started time.Time) bool
}

func afterDelay(d time.Duration) func(*testing.T, *client.Client, string, time.Time) bool {
	return func(_ *testing.T, _ *client.Client, _ string, started time.Time) bool {
		return time.Since(started) >= d
	}
}

func containerExists(t *testing.T, cli *client.Client, ws string, _ time.Time) bool {
	return len(containersOf(t, cli, ws)) > 0
}

func hookStarted(hook string) func(*testing.T, *client.Client, string, time.Time) bool {
	return func(_ *testing.T, _ *client.Client, ws string, _ time.Time) bool {
		data, _ := os.ReadFile(filepath.Join(ws, ".hooks"))
		return bytes.Contains(data, []byte("start-"+hook))
	}
}

// upKilled starts `mochi up` and SIGKILLs it at the kill point (or lets it finish if it ends
// first); it reports whether the kill happened.
func upKilled(t *testing.T, e *env, cli *client.Client, ws string, kp killPoint) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := e.command(ctx, "up", "--no-server", "--workspace-folder", ws)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	started := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			t.Logf("%s: up finished before the kill point", kp.name)
			return false
		case <-tick.C:
			if kp.ready(t, cli, ws, started) {
				cmd.Process.Signal(syscall.SIGKILL)
				<-done
				t.Logf("%s: killed after %v", kp.name, time.Since(started).Round(time.Millisecond))
				return true
			}
		}
	}
}

// TestReliabilityCrashDuringUp kills `mochi up` with SIGKILL at several points (during the
// image build, right after the container is created, inside onCreateCommand, inside
// postCreateCommand, and at random moments), then runs it again until it converges, and
// checks: one container, the once-only hooks started at most once in it (their markers
// are written before they run, as the reference does, so a hook killed midway is not
// re-run), postStartCommand ran for the container's start, the workspace record names the
// container, and `mochi exec` works.
func TestReliabilityCrashDuringUp(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("random seed %d", seed)
	image := `"image": "` + workspaceImage + `"`
	build := `"build": {"dockerfile": "Dockerfile"}`
	points := []struct {
		kp    killPoint
		build bool
	}{
		{killPoint{"during build", afterDelay(1500 * time.Millisecond)}, true},
		{killPoint{"after create", containerExists}, false},
		{killPoint{"in onCreateCommand", hookStarted("onCreate")}, false},
		{killPoint{"in postCreateCommand", hookStarted("postCreate")}, false},
	}
	for i := range 3 {
		d := time.Duration(300+rng.IntN(4000)) * time.Millisecond
		points = append(points, struct {
			kp    killPoint
			build bool
		}{killPoint{fmt.Sprintf("random %v", d), afterDelay(d)}, i == 0})
	}
	for i, p := range points {
		t.Run(strings.ReplaceAll(p.kp.name, " ", "-"), func(t *testing.T) {
			name := fmt.Sprintf("crash-%d", i)
			base := image
			if p.build {
				base = build
			}
			ws := e.workspace(cli, name, hookConfig(name, base))
			if p.build {
				df := fmt.Sprintf("FROM %s\nLABEL mochi.test=1\nRUN sleep 3 && echo %s-%d > /built\n", workspaceImage, name, seed)
				if err := os.WriteFile(filepath.Join(ws, ".devcontainer", "Dockerfile"), []byte(df), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { removeBuiltImages(t, cli, name) })
			}
			killed := upKilled(t, e, cli, ws, p.kp)
			// A second kill at a random moment of the retry, then the run that must converge.
			if killed && rng.IntN(2) == 0 {
				upKilled(t, e, cli, ws, killPoint{"retry", afterDelay(time.Duration(200+rng.IntN(2000)) * time.Millisecond)})
			}
			res := e.up(ws)
			checkConverged(t, e, cli, ws, res)
			// And once more: an up on a healthy workspace changes nothing.
			res2 := e.up(ws)
			if res2.ContainerID != res.ContainerID {
				t.Errorf("a further up moved to container %s from %s", res2.ContainerID[:12], res.ContainerID[:12])
			}
			checkConverged(t, e, cli, ws, res2)
		})
	}
}

// checkConverged checks the workspace is one healthy container after a crash and recovery.
func checkConverged(t *testing.T, e *env, cli *client.Client, ws string, res upResult) {
	t.Helper()
	cs := containersOf(t, cli, ws)
	if len(cs) != 1 {
		ids := []string{}
		for _, c := range cs {
			ids = append(ids, c.ID[:12]+" "+c.State)
		}
		t.Errorf("%d containers after recovery: %v", len(cs), ids)
	}
	host := execIn(t, cli, res.ContainerID, "hostname")
	host = strings.TrimSpace(host)
	data, _ := os.ReadFile(filepath.Join(ws, ".hooks"))
	for _, h := range []string{"onCreate", "postCreate"} {
		if n := countLines(string(data), "start-"+h+" "+host); n > 1 {
			t.Errorf("%s started %d times in container %s:\n%s", h, n, host, data)
		}
	}
	if n := countLines(string(data), "start-postStart "+host); n < 1 {
		t.Errorf("postStartCommand never ran in container %s:\n%s", host, data)
	}
	rec, err := readRecord(e, res.Workspace)
	if err != nil {
		t.Errorf("record %s: %v", res.Workspace, err)
	} else if rec.ContainerID != res.ContainerID {
		t.Errorf("record %s names container %.12s, up reported %.12s", res.Workspace, rec.ContainerID, res.ContainerID)
	}
	recs, _ := records(e)
	for _, r := range recs {
		if r.Folder == ws && r.Name != res.Workspace {
			t.Errorf("second record %s for the same folder (%s)", r.Name, ws)
		}
	}
	r := e.run("exec", "--workspace-folder", ws, "cat", "/etc/hostname")
	if r.code != 0 || strings.TrimSpace(r.stdout) != host {
		t.Errorf("mochi exec after recovery: exit %d, %q (want %q)\n%s", r.code, r.stdout, host, tail(r.stderr, 800))
	}
}
