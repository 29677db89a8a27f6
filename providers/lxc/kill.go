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

	"golang.org/x/sys/unix"
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
	fd, pid, st, err := p.containerInit(ctx, name)
	switch {
	case err != nil:
		return err
	case st == initStopped:
		return nil
	case st == initGone:
		return p.waitStoppedIf(ctx, name, waitStopped)
	case st == initUnavailable:
		_, err := p.lxc(ctx, "lxc-stop", name, "-k")
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("kill container %s (init pid %d): %w", name, pid, err)
	}
	if err := waitReaped(ctx, fd); err != nil {
		return fmt.Errorf("kill container %s: init pid %d still there: %w", name, pid, err)
	}
	return p.waitStoppedIf(ctx, name, waitStopped)
}

func (p *Provider) waitStoppedIf(ctx context.Context, name string, wait bool) error {
	if !wait {
		return nil
	}
	return p.waitStopped(ctx, name)
}

// initState is what containerInit found.
type initState int

const (
	initOpen        initState = iota // a pidfd of the init is open
	initStopped                      // the container is stopped: nothing to signal
	initGone                         // the init ended before it could be opened: wait for STOPPED
	initUnavailable                  // no pidfd (frozen container, no pidfd support): use lxc-stop
)

// containerInit opens a pidfd of a running container's init (see openInit); the fd is valid
// (and the caller's to close) only with initOpen.
func (p *Provider) containerInit(ctx context.Context, name string) (fd, pid int, st initState, err error) {
	state, pid, err := p.statePID(ctx, name)
	if err != nil {
		return -1, 0, 0, err
	}
	if state == "STOPPED" {
		return -1, pid, initStopped, nil
	}
	if pid <= 0 || state == "FROZEN" {
		return -1, pid, initUnavailable, nil
	}
	fd, err = openInit(pid, name)
	switch {
	case err == nil:
		return fd, pid, initOpen, nil
	case errors.Is(err, errInitGone):
		return -1, pid, initGone, nil
	}
	return -1, pid, initUnavailable, nil
}

// errInitGone says the container's init ended before it could be signalled.
var errInitGone = errors.New("the container's init is gone")

// openInit returns a pidfd of the container's init (host pid from lxc-info), after checking
// that the process is still that init (it sits in the container's cgroup): signals then go to
// that very process even if it ends and its pid is reused meanwhile. It returns -1 and
// errInitGone when the init is gone, -1 and another error when pidfds are not available.
func openInit(pid int, name string) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return -1, errInitGone
	}
	if err != nil {
		return -1, err
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil || !strings.Contains(string(cg), "/lxc.payload."+name) {
		unix.Close(fd)
		return -1, errInitGone
	}
	return fd, nil
}

// waitReaped waits until the process of pidfd is gone (its parent, LXC's monitor, reaped it).
func waitReaped(ctx context.Context, fd int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for unix.PidfdSendSignal(fd, 0, nil, 0) == nil {
		if err := sleepCtx(ctx, killPoll); err != nil {
			return err
		}
	}
	return nil
}

// terminate stops the container as lxc-stop -t does, without its slow wait: SIGTERM to the
// init (lxc.signal.halt), then SIGKILL when it is still there after timeout; it returns once
// LXC reports the container STOPPED.
func (p *Provider) terminate(ctx context.Context, name string, timeout time.Duration) error {
	fd, pid, st, err := p.containerInit(ctx, name)
	switch {
	case err != nil:
		return err
	case st == initStopped:
		return nil
	case st == initGone:
		return p.waitStopped(ctx, name)
	case st == initUnavailable:
		_, err := p.lxc(ctx, "lxc-stop", name, "-t", fmt.Sprint(int((timeout+time.Second-1)/time.Second)))
		return err
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGTERM, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("stop container %s (init pid %d): %w", name, pid, err)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := waitReaped(tctx, fd); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stop container %s: %w", name, ctx.Err())
		}
		if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("stop container %s (init pid %d): %w", name, pid, err)
		}
		if err := waitReaped(ctx, fd); err != nil {
			return fmt.Errorf("stop container %s: init pid %d still there: %w", name, pid, err)
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
