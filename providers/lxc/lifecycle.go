package lxc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// lxcState returns the container's LXC state word (RUNNING, STOPPED, FROZEN, ...).
func (p *Provider) lxcState(ctx context.Context, name string) (string, error) {
	out, err := p.lxc(ctx, "lxc-info", name, "-s", "-H")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(out), nil
}

// Inspect returns the container with the given name (its ID is its name).
func (p *Provider) Inspect(ctx context.Context, id string) (*providers.Instance, error) {
	rec, err := p.load(id)
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", id, err)
	}
	st, err := p.lxcState(ctx, rec.Name)
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", id, err)
	}
	return p.instance(rec, st), nil
}

func (p *Provider) instance(rec *record, lxcState string) *providers.Instance {
	inst := &providers.Instance{
		ID: rec.Name, Name: rec.Name, Provider: "lxc", Created: rec.Created, StartedAt: rec.StartedAt,
		Labels: rec.Labels, Env: rec.Env, User: rec.User, Image: rec.Image, ImageID: rec.ImageID,
		Mounts: rec.Mounts, State: providers.StateUnknown,
	}
	switch lxcState {
	case "RUNNING":
		inst.State = providers.StateRunning
		for _, pm := range rec.Ports {
			inst.Ports = append(inst.Ports, fmt.Sprintf("%s:%d->%d/%s", pm.HostIP, pm.HostPort, pm.ContainerPort, pm.Proto))
		}
	case "STOPPED":
		inst.State = providers.StateStopped
		if rec.StartedAt == "" {
			inst.State = providers.StateCreated
		}
	case "FROZEN":
		inst.State = providers.StatePaused
	}
	return inst
}

// Find returns the first container carrying all labels (the newest), or nil, nil.
func (p *Provider) Find(ctx context.Context, labels map[string]string) (*providers.Instance, error) {
	list, err := p.List(ctx, labels)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// List returns every container carrying all labels, newest first.
func (p *Provider) List(ctx context.Context, labels map[string]string) ([]*providers.Instance, error) {
	names, err := p.names()
	if err != nil {
		return nil, err
	}
	var out []*providers.Instance
	for _, n := range names {
		rec, err := p.load(n)
		if err != nil {
			if errors.Is(err, providers.ErrNotFound) {
				continue // removed meanwhile
			}
			return nil, err
		}
		if !matches(rec.Labels, labels) {
			continue
		}
		st, err := p.lxcState(ctx, n)
		if err != nil {
			if _, serr := os.Stat(p.dir(n)); errors.Is(serr, os.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("list containers: %w", err)
		}
		out = append(out, p.instance(rec, st))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, nil
}

// Start starts the container's init (the create spec's entrypoint and command) and its port
// forwarder, and returns once it runs. Changes made in the container are kept across starts.
func (p *Provider) Start(ctx context.Context, id string) error {
	rec, err := p.load(id)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	st, err := p.lxcState(ctx, rec.Name)
	if err != nil {
		return fmt.Errorf("start container %s: %w", id, err)
	}
	if st == "RUNNING" {
		return nil
	}
	p.stopForwarder(rec)
	rec.StartedAt = time.Now().UTC().Format(time.RFC3339Nano)
	if err := p.save(rec); err != nil {
		return err
	}
	dir := p.dir(rec.Name)
	args := append([]string{"-d", "-o", filepath.Join(dir, "lxc.log"), "-l", "WARN", "--"}, rec.Init...)
	if _, err := p.lxc(ctx, "lxc-start", rec.Name, args...); err != nil {
		return fmt.Errorf("start container %s: %w%s", id, err, p.consoleTail(rec.Name))
	}
	if st, err := p.lxcState(ctx, rec.Name); err != nil || st != "RUNNING" {
		return fmt.Errorf("start container %s: it is %s right after starting (%v)%s", id, st, err, p.consoleTail(rec.Name))
	}
	if err := p.startForwarder(rec); err != nil {
		p.stopQuietly(rec.Name)
		return fmt.Errorf("start container %s: %w", id, err)
	}
	return p.save(rec)
}

// consoleTail returns the end of the container's console log for an error message.
func (p *Provider) consoleTail(name string) string {
	b, err := os.ReadFile(filepath.Join(p.dir(name), "console.log"))
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return ""
	}
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return ":\n" + strings.TrimSpace(string(b))
}

// Stop stops the container: SIGTERM to its init, then SIGKILL after timeout (0 kills at once;
// negative means 10 seconds).
func (p *Provider) Stop(ctx context.Context, id string, timeout time.Duration) error {
	rec, err := p.load(id)
	if err != nil {
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	p.stopForwarder(rec)
	if err := p.save(rec); err != nil {
		return err
	}
	if timeout < 0 {
		timeout = 10 * time.Second
	}
	if timeout == 0 {
		if err := p.kill(ctx, rec.Name, true); err != nil {
			return fmt.Errorf("stop container %s: %w", id, err)
		}
		return nil
	}
	if err := p.terminate(ctx, rec.Name, timeout); err != nil {
		if st, serr := p.lxcState(ctx, rec.Name); serr == nil && st == "STOPPED" {
			return nil // it stopped by itself meanwhile
		}
		return fmt.Errorf("stop container %s: %w", id, err)
	}
	return nil
}

// stopQuietly kills a container after a failed start.
func (p *Provider) stopQuietly(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.kill(ctx, name, true); err != nil {
		p.log.Debug("kill container", "container", name, "err", err)
	}
}

// Remove kills the container and deletes it (its copy-on-write layer included) and, with
// volumes, its anonymous volumes. The container is gone when Remove returns; its folder is
// deleted in the background.
func (p *Provider) Remove(ctx context.Context, id string, volumes bool) error {
	rec, err := p.load(id)
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	p.stopForwarder(rec)
	if err := p.kill(ctx, rec.Name, false); err != nil {
		// A container LXC cannot even read (a broken config) is removed all the same; one
		// that LXC says still runs is not.
		if st, serr := p.lxcState(ctx, rec.Name); serr == nil && st != "STOPPED" {
			return fmt.Errorf("remove container %s: %w", id, err)
		}
		p.log.Debug("kill container before removal", "container", rec.Name, "err", err)
	}
	if err := p.discard(rec.Name); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	p.releaseIP(rec.IP, p.dir(rec.Name))
	if volumes {
		p.removeVolumes(rec.AnonVolumes)
	}
	return nil
}
