package lxc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Killing and removing containers without lxc-stop -k and lxc-destroy: lxc-stop -k takes about
// half a second here to return although the container is gone in a few tens of milliseconds,
// and lxc-destroy only deletes the container folder, which the provider does itself.

// killPoll is how often a kill checks whether the container's init is gone.
const killPoll = 3 * time.Millisecond

// statePID returns the container's LXC state and, when it runs, its init's host pid (0 when
// there is none), from one lxc-info call.
func (p *Provider) statePID(ctx context.Context, name string) (string, int, error) {
	out, err := p.lxc(ctx, "lxc-info", name, "-s", "-p", "-H")
	if err != nil {
		return "", 0, err
	}
	return parseStatePID(out)
}

// parseStatePID reads `lxc-info -s -p -H`: "State: X" and "PID: N" lines (LXC labels the
// values once several are asked for), or the bare values.
func parseStatePID(out string) (string, int, error) {
	var state string
	pid := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			k, v = "", line
		}
		v = strings.TrimSpace(v)
		switch {
		case k == "State" || (k == "" && state == "" && v != "" && (v[0] < '0' || v[0] > '9')):
			state = v
		case k == "PID" || k == "":
			n, err := strconv.Atoi(v)
			if err != nil {
				return "", 0, fmt.Errorf("parse lxc-info output %q: %w", out, err)
			}
			pid = n
		}
	}
	if state == "" {
		return "", 0, fmt.Errorf("parse lxc-info output %q: no state", out)
	}
	return state, pid, nil
}

// kill ends the container at once: SIGKILL to its init (the kernel then kills everything else
// in its pid namespace) and a wait until the init is reaped, so nothing of the container runs
// any more. With waitStopped it also waits until LXC reports the container STOPPED (its
// monitor has cleaned up and a new start can follow). A frozen container is left to lxc-stop,
// which thaws it first.
func (p *Provider) kill(ctx context.Context, name string, waitStopped bool) error {
	st, pid, err := p.statePID(ctx, name)
	if err != nil {
		return err
	}
	if st == "STOPPED" {
		return nil
	}
	if pid <= 0 || st == "FROZEN" {
		_, err := p.lxc(ctx, "lxc-stop", name, "-k")
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill container %s (init pid %d): %w", name, pid, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for syscall.Kill(pid, 0) == nil { // until the monitor has reaped it
		if err := sleepCtx(ctx, killPoll); err != nil {
			return fmt.Errorf("kill container %s: init pid %d still there: %w", name, pid, err)
		}
	}
	if waitStopped {
		return p.waitStopped(ctx, name)
	}
	return nil
}

// terminate stops the container as lxc-stop -t does, without its slow wait: SIGTERM to the
// init (lxc.signal.halt), then SIGKILL when it is still there after timeout; it returns once
// LXC reports the container STOPPED.
func (p *Provider) terminate(ctx context.Context, name string, timeout time.Duration) error {
	st, pid, err := p.statePID(ctx, name)
	if err != nil {
		return err
	}
	if st == "STOPPED" {
		return nil
	}
	if pid <= 0 || st == "FROZEN" {
		_, err := p.lxc(ctx, "lxc-stop", name, "-t", fmt.Sprint(int((timeout+time.Second-1)/time.Second)))
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop container %s (init pid %d): %w", name, pid, err)
	}
	deadline := time.Now().Add(timeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			return p.kill(ctx, name, true)
		}
		if err := sleepCtx(ctx, killPoll); err != nil {
			return fmt.Errorf("stop container %s: %w", name, err)
		}
	}
	return p.waitStopped(ctx, name)
}

// waitStopped waits until LXC reports the container STOPPED (its monitor has cleaned up).
func (p *Provider) waitStopped(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		st, _, err := p.statePID(ctx, name)
		if err != nil || st == "STOPPED" {
			return err
		}
		if err := sleepCtx(ctx, killPoll); err != nil {
			return fmt.Errorf("stop container %s: still %s: %w", name, st, err)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// discard takes a container folder out of the lxcpath at once (a rename into the trash
// folder) and deletes it in a detached `rm -rf`, together with anything an earlier one left,
// so that removing a container with a large copy-on-write layer does not wait for the disk.
// LXC's lock file of the container goes too.
func (p *Provider) discard(name string) error {
	dir := p.dir(name)
	trash := filepath.Join(p.state, "trash")
	if err := os.MkdirAll(trash, 0o700); err != nil {
		return err
	}
	if err := os.Rename(dir, filepath.Join(trash, name+"."+randomHex(4))); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	os.Remove(filepath.Join("/run/lxc/lock", p.lxcpath, "."+name)) // lxc-destroy's job
	entries, err := os.ReadDir(trash)
	if err != nil || len(entries) == 0 {
		return nil
	}
	args := []string{"-rf", "--"}
	for _, e := range entries {
		args = append(args, filepath.Join(trash, e.Name()))
	}
	cmd := exec.Command("rm", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		p.log.Debug("remove container folder in the background", "err", err)
		return os.RemoveAll(trash)
	}
	go cmd.Wait() // reaped when this process lives long enough; init adopts it otherwise
	return nil
}
