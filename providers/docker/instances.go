package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/mochi-dev/mochi/providers"
)

// Find returns the first container carrying all labels, or nil, nil.
func (p *Provider) Find(ctx context.Context, labels map[string]string) (*providers.Instance, error) {
	ids, err := p.listIDs(ctx, labels)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		inst, err := p.Inspect(ctx, id)
		if err == nil {
			return inst, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
		// Removed between list and inspect: keep looking.
	}
	return nil, nil
}

// List returns every container carrying all labels, newest first.
func (p *Provider) List(ctx context.Context, labels map[string]string) ([]*providers.Instance, error) {
	ids, err := p.listIDs(ctx, labels)
	if err != nil {
		return nil, err
	}
	out := make([]*providers.Instance, 0, len(ids))
	for _, id := range ids {
		inst, err := p.Inspect(ctx, id)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, inst)
	}
	return out, nil
}

// listIDs lists the ids of all containers (running or not) with the labels, skipping those
// being removed, newest first.
func (p *Provider) listIDs(ctx context.Context, labels map[string]string) ([]string, error) {
	args := filters.NewArgs()
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if labels[k] == "" {
			args.Add("label", k) // an empty value asks only that the label is there
			continue
		}
		args.Add("label", k+"="+labels[k])
	}
	list, err := p.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return nil, p.wrap(err, "list containers with labels %s", strings.Join(keys, ","))
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		if c.State == container.StateRemoving {
			continue
		}
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// Inspect returns the container with the given id or name.
func (p *Provider) Inspect(ctx context.Context, id string) (*providers.Instance, error) {
	resp, err := p.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, p.wrap(err, "inspect container %s", id)
	}
	if resp.ContainerJSONBase == nil {
		return nil, fmt.Errorf("inspect container %s: engine returned no container", id)
	}
	if resp.State != nil && resp.State.Status == container.StateRemoving {
		return nil, fmt.Errorf("inspect container %s: %w: being removed", id, providers.ErrNotFound)
	}
	return toInstance(resp), nil
}

func toInstance(r container.InspectResponse) *providers.Instance {
	inst := &providers.Instance{
		ID:       r.ID,
		Name:     strings.TrimPrefix(r.Name, "/"),
		Provider: "docker",
		State:    providers.StateUnknown,
		Created:  r.Created,
		ImageID:  r.Image,
	}
	if r.State != nil {
		inst.State = mapState(r.State.Status)
		inst.StartedAt = r.State.StartedAt
	}
	if c := r.Config; c != nil {
		inst.Labels = c.Labels
		inst.Env = c.Env
		inst.User = c.User
		inst.Image = c.Image
	}
	for _, m := range r.Mounts {
		src := m.Source
		if m.Type == "volume" && m.Name != "" {
			src = m.Name
		}
		inst.Mounts = append(inst.Mounts, providers.Mount{
			Type:     string(m.Type),
			Source:   src,
			Target:   m.Destination,
			ReadOnly: !m.RW,
		})
	}
	if ns := r.NetworkSettings; ns != nil {
		for port, binds := range ns.Ports {
			for _, b := range binds {
				inst.Ports = append(inst.Ports, fmt.Sprintf("%s:%s->%s", b.HostIP, b.HostPort, port))
			}
		}
		sort.Strings(inst.Ports)
	}
	return inst
}

func mapState(s container.ContainerState) providers.State {
	switch s {
	case container.StateCreated:
		return providers.StateCreated
	case container.StateRunning:
		return providers.StateRunning
	case container.StatePaused:
		return providers.StatePaused
	case container.StateExited, container.StateDead:
		return providers.StateStopped
	}
	return providers.StateUnknown
}

// startGrace is how long Start watches a freshly started container for an immediate exit
// (a bad entrypoint, a missing file) before reporting success.
const startGrace = 200 * time.Millisecond

// Start starts the container and returns once it runs. A container whose main process exits
// within startGrace yields an error carrying its exit code and last log lines.
func (p *Provider) Start(ctx context.Context, id string) error {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	exited, waitErr := p.cli.ContainerWait(waitCtx, id, container.WaitConditionNextExit)
	if err := p.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return p.wrap(err, "start container %s", id)
	}
	grace := startGrace
	if p.startGrace != 0 {
		grace = max(p.startGrace, 0)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-waitErr:
		// Waiting is only a diagnostic aid; the inspect below decides.
	case <-exited:
	}
	resp, err := p.cli.ContainerInspect(ctx, id)
	if err != nil {
		return p.wrap(err, "inspect started container %s", id)
	}
	st := resp.State
	if st == nil || st.Running || st.Status == container.StateRunning {
		return nil
	}
	tail := p.logTail(ctx, id, resp.Config != nil && resp.Config.Tty)
	return fmt.Errorf("start container %s: it exited at once with code %d%s", id, st.ExitCode, tail)
}

// logTail returns the container's last log lines formatted for an error message.
func (p *Provider) logTail(ctx context.Context, id string, tty bool) string {
	rc, err := p.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: "20"})
	if err != nil {
		p.log.Debug("read logs of exited container", "container", id, "err", err)
		return ""
	}
	defer rc.Close()
	var buf bytes.Buffer
	if tty {
		_, err = io.Copy(&buf, io.LimitReader(rc, 64<<10))
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 64<<10))
	}
	if err != nil {
		p.log.Debug("read logs of exited container", "container", id, "err", err)
	}
	out := strings.TrimSpace(buf.String())
	if out == "" {
		return " (no output)"
	}
	return ":\n" + out
}

// Stop stops the container, killing it after timeout (0 kills at once; a negative timeout
// leaves the choice to the container's stop timeout or the engine's default).
func (p *Provider) Stop(ctx context.Context, id string, timeout time.Duration) error {
	opts := container.StopOptions{}
	if timeout >= 0 {
		secs := int((timeout + time.Second - 1) / time.Second)
		opts.Timeout = &secs
	}
	if err := p.cli.ContainerStop(ctx, id, opts); err != nil {
		return p.wrap(err, "stop container %s", id)
	}
	return nil
}

// Remove force-removes the container and, with volumes, its anonymous volumes.
func (p *Provider) Remove(ctx context.Context, id string, volumes bool) error {
	err := p.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: volumes})
	if err != nil && cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress") {
		return nil
	}
	if err != nil {
		return p.wrap(err, "remove container %s", id)
	}
	return nil
}
