package difftest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/lxc"
)

// What a session observes about a container goes through the methods below: the docker CLI
// for containers on Docker (docker_test.go), and for mochi on LXC the LXC provider itself,
// which plays the engine's part there (LXC has no daemon: the provider's record next to the
// container's LXC config is what `docker inspect` reads on Docker). Files and shell snippets
// are read as root through lxc-attach, outside the agent that mochi's own exec uses.

// lxcEngine observes the containers that mochi made on LXC under one MOCHI_HOME.
type lxcEngine struct {
	home string // MOCHI_HOME of the mochi runs
	p    *lxc.Provider
}

// newLXCEngine returns an observer of mochi's LXC containers under home, with the state
// folder mochi uses there ($MOCHI_HOME/lxc).
func newLXCEngine(home string) (*lxcEngine, error) {
	p, err := lxc.New(lxc.Options{StateDir: filepath.Join(home, "lxc")})
	if err != nil {
		return nil, err
	}
	return &lxcEngine{home: home, p: p}, nil
}

// inspectContainer returns the container's engine view (docker inspect, or its LXC
// equivalent).
func (s *session) inspectContainer(id string) (*containerInfo, error) {
	if s.lxc == nil {
		return inspectContainer(s.ctx, id)
	}
	return s.lxc.inspect(s.ctx, id)
}

// rootShell runs `sh -c script args...` as root in the current container and returns its
// stdout; a non-zero exit is an error.
func (s *session) rootShell(script string, args ...string) (string, error) {
	if s.lxc == nil {
		return docker(s.ctx, append([]string{"exec", "-u", "root", s.ctr, "sh", "-c", script}, args...)...)
	}
	return s.lxc.rootShell(s.ctx, s.ctr, script, args...)
}

// stopContainer stops the current container as `docker stop -t 5` does.
func (s *session) stopContainer() error {
	if s.lxc == nil {
		_, err := docker(s.ctx, "stop", "-t", "5", s.ctr)
		return err
	}
	return s.lxc.p.Stop(s.ctx, s.ctr, 5*time.Second)
}

// engineRun runs an engine command on the current container: `docker ARGS... <id>`, or on
// LXC its equivalent (only "restart -t N" has one).
func (s *session) engineRun(args ...string) error {
	if s.lxc == nil {
		_, err := docker(s.ctx, append(args, s.ctr)...)
		return err
	}
	if len(args) == 3 && args[0] == "restart" && args[1] == "-t" {
		secs, err := strconv.Atoi(args[2])
		if err != nil {
			return fmt.Errorf("lxc restart: %w", err)
		}
		if err := s.lxc.p.Stop(s.ctx, s.ctr, time.Duration(secs)*time.Second); err != nil {
			return err
		}
		return s.lxc.p.Start(s.ctx, s.ctr)
	}
	return fmt.Errorf("docker %s has no LXC equivalent in the harness", strings.Join(args, " "))
}

// containersByLabel lists the ids of every container (running or not) carrying label k=v.
func (s *session) containersByLabel(kv string) ([]string, error) {
	if s.lxc == nil {
		return containersByLabel(s.ctx, kv)
	}
	return s.lxc.containersByLabel(s.ctx, kv)
}

// removeWorkspace removes what the session's workspace left behind (containers, volumes
// named by the fixtures, images built from them).
func (s *session) removeWorkspace() error {
	ctx := context.Background()
	var errs []string
	if s.lxc != nil {
		if err := s.lxc.removeWorkspace(ctx, s.ws); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := removeWorkspace(ctx, s.ws, s.runID); err != nil {
		errs = append(errs, err.Error())
	}
	// Names build gave images without the run label (the Features image of an image
	// configuration): untagged, the image goes unless another name holds it. One already
	// removed with the run label is no error.
	for _, name := range s.builtNames {
		docker(ctx, "rmi", name)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// inspect builds the docker inspect view of an LXC container from the provider.
func (e *lxcEngine) inspect(ctx context.Context, id string) (*containerInfo, error) {
	inst, err := e.p.Inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	info := &containerInfo{ID: inst.ID, Created: inst.Created, Image: inst.Image}
	info.State.Running = inst.Running()
	info.State.StartedAt = inst.StartedAt
	info.Config.Env = inst.Env
	info.Config.Labels = inst.Labels
	for _, m := range inst.Mounts {
		var v struct {
			Type        string
			Name        string
			Source      string
			Destination string
			RW          bool
		}
		v.Type, v.Source, v.Destination, v.RW = m.Type, m.Source, m.Target, !m.ReadOnly
		if m.Type == "volume" {
			v.Name = m.Source
		}
		info.Mounts = append(info.Mounts, v)
	}
	if inst.Running() {
		info.HostConfig.CapAdd = e.capsBeyondDocker(ctx, id)
	}
	return info, nil
}

// capsBeyondDocker lists the capabilities in the bounding set of the container's init that
// Docker's default set lacks, named as Docker's CapAdd names them: what `--cap-add` gives a
// Docker container, seen from inside.
func (e *lxcEngine) capsBeyondDocker(ctx context.Context, id string) []string {
	out, err := e.rootShell(ctx, id, `grep '^CapBnd:' /proc/1/status`)
	if err != nil {
		return []string{"<" + err.Error() + ">"}
	}
	hex := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(out), "CapBnd:"))
	bits, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return []string{"<CapBnd " + hex + ">"}
	}
	var caps []string
	for i, name := range capNames {
		if bits&(1<<i) != 0 && !slices.Contains(dockerDefaultCaps, name) {
			caps = append(caps, "CAP_"+name)
		}
	}
	return caps
}

// capNames are the Linux capabilities by number.
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
	"MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE"}

// dockerDefaultCaps is the capability set of a Docker container without --cap-add.
var dockerDefaultCaps = []string{"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
	"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"}

// rootShell runs `sh -c script args...` as root in the container through lxc-attach.
func (e *lxcEngine) rootShell(ctx context.Context, id, script string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code, err := e.p.Exec(ctx, id, providers.ExecSpec{
		Cmd: append([]string{"sh", "-c", script}, args...), User: "root", Stdout: &out, Stderr: &errb,
	})
	if err == nil && code != 0 {
		err = fmt.Errorf("exit status %d", code)
	}
	if err != nil {
		return out.String(), fmt.Errorf("lxc exec in %s: sh -c %q: %w: %s", id, script, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// containersByLabel lists the LXC containers carrying label k=v.
func (e *lxcEngine) containersByLabel(ctx context.Context, kv string) ([]string, error) {
	k, v, _ := strings.Cut(kv, "=")
	list, err := e.p.List(ctx, map[string]string{k: v})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, inst := range list {
		ids = append(ids, inst.ID)
	}
	return ids, nil
}

// removeWorkspace removes the workspace's LXC containers with their anonymous volumes, and
// the named volumes they mounted whose names mark them as the fixtures'.
func (e *lxcEngine) removeWorkspace(ctx context.Context, localFolder string) error {
	list, err := e.p.List(ctx, map[string]string{"devcontainer.local_folder": localFolder})
	if err != nil {
		return err
	}
	var errs []string
	for _, inst := range list {
		if err := e.p.Remove(ctx, inst.ID, true); err != nil {
			errs = append(errs, err.Error())
		}
		for _, m := range inst.Mounts {
			if m.Type == "volume" && strings.HasPrefix(m.Source, volumePrefix) {
				if err := os.RemoveAll(filepath.Join(e.home, "lxc", "volumes", m.Source)); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up %s on lxc: %s", localFolder, strings.Join(errs, "; "))
	}
	return nil
}
