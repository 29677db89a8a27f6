package reliability

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// dockerd is a running Docker daemon as found in /proc, enough to start it again the same way.
type dockerd struct {
	pid  int
	args []string
	log  string // where its stdout went ("" for /dev/null)
}

func findDockerd(t *testing.T) dockerd {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if filepath.Base(args[0]) != "dockerd" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		d := dockerd{pid: pid, args: args}
		if target, err := os.Readlink(filepath.Join(filepath.Dir(p), "fd", "1")); err == nil && strings.HasPrefix(target, "/") && !strings.HasPrefix(target, "/dev/") {
			d.log = target
		}
		return d
	}
	t.Fatal("no dockerd process found")
	return dockerd{}
}

// start starts dockerd again with its arguments, detached, and waits until it answers.
func (d dockerd) start(t *testing.T, cli *client.Client) {
	t.Helper()
	cmd := exec.Command(d.args[0], d.args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if d.log != "" {
		if f, err := os.OpenFile(d.log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			cmd.Stdout, cmd.Stderr = f, f
			defer f.Close()
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("restart dockerd: %v", err)
	}
	cmd.Process.Release()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatal("dockerd did not answer within 2 minutes of its restart")
}

// TestReliabilityDockerdRestart stops the Docker daemon under a running workspace and starts
// it again: while it is down, mochi's commands fail promptly with an error (no hang); after,
// `mochi list` tells the truth, `mochi up` restores the workspace and the gateway serves it,
// with the workspace folder's data intact. It stops every container of the engine, so it
// runs only with RELIABILITY_DOCKERD_RESTART=1; it always starts dockerd again.
func TestReliabilityDockerdRestart(t *testing.T) {
	requireReliability(t)
	if os.Getenv("RELIABILITY_DOCKERD_RESTART") != "1" {
		t.Skip("restarts the Docker daemon: set RELIABILITY_DOCKERD_RESTART=1")
	}
	cli := requireDocker(t)
	e := newEnv(t)
	g := withGateway(t, e)
	ws := e.workspace(cli, "dockerd", `{"image": "`+workspaceImage+`"}`)
	res := g.up(t, ws)
	data := []string{writeData(t, g, res.Workspace, ws)}

	d := findDockerd(t)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			d.start(t, cli)
		}
	})
	if err := syscall.Kill(d.pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop dockerd: %v", err)
	}
	for i := 0; syscall.Kill(d.pid, 0) == nil; i++ {
		if i > 600 {
			t.Fatal("dockerd did not stop within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	r := e.runCtx(ctx, "list", "--json")
	cancel()
	if r.code == 0 || ctx.Err() != nil {
		t.Errorf("mochi list with dockerd down: exit %d, stdout %q (ctx %v); want a prompt error", r.code, r.stdout, ctx.Err())
	} else {
		t.Logf("mochi list with dockerd down: %s", strings.TrimSpace(tail(r.stderr, 300)))
	}
	if c, err := g.dial(res.Workspace); err == nil {
		if _, err := sshRun(c, "true"); err == nil {
			t.Errorf("exec through the gateway succeeded with dockerd down")
		}
		c.Close()
	}

	d.start(t, cli)
	restarted = true
	t.Logf("mochi list after the restart: state %q", listState(t, e, ws))
	res2 := g.up(t, ws)
	if res2.ContainerID != res.ContainerID {
		t.Errorf("up after the dockerd restart made container %.12s instead of %.12s", res2.ContainerID, res.ContainerID)
	}
	data = append(data, writeData(t, g, res2.Workspace, ws))
	checkData(t, g, res2.Workspace, ws, data)
	state := listState(t, e, ws)
	knownBug(t, state == "", "`mochi list --json` lists no workspace at all")
	if state != "running" {
		t.Errorf("mochi list after up reports %q, want running", state)
	}
}
