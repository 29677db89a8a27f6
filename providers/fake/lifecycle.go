package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// Create records a new instance in state created. The image must be known (AddImage,
// BuildImage or PullImage). RunArgs are recorded, not interpreted.
func (p *Provider) Create(_ context.Context, spec providers.CreateSpec) (*providers.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	img, ok := p.images[spec.Image]
	if !ok {
		return nil, fmt.Errorf("create instance: image %s: %w", spec.Image, providers.ErrNotFound)
	}
	p.seq++
	sum := sha256.Sum256([]byte("fake-instance-" + itoa(p.seq)))
	id := hex.EncodeToString(sum[:])
	name := spec.Name
	if name == "" {
		name = "fake-" + itoa(p.seq)
	}
	for _, in := range p.instances {
		if in.inst.Name == name {
			return nil, fmt.Errorf("create instance: name %q is already in use by %s", name, in.inst.ID)
		}
	}
	user := spec.User
	if user == "" {
		user = img.User
	}
	inst := providers.Instance{
		ID:       id,
		Name:     name,
		Provider: "fake",
		State:    providers.StateCreated,
		Created:  timestamp(p.now()),
		Labels:   maps.Clone(spec.Labels),
		Env:      mergeEnv(img.Env, spec.Env),
		User:     user,
		Image:    spec.Image,
		ImageID:  img.ID,
	}
	if inst.Labels == nil {
		inst.Labels = map[string]string{}
	}
	for i, m := range spec.Mounts {
		if m.Type == "volume" && m.Source == "" {
			v := sha256.Sum256([]byte(id + itoa(i)))
			m.Source = hex.EncodeToString(v[:])
		}
		inst.Mounts = append(inst.Mounts, m)
	}
	if spec.AgentPath != "" {
		inst.Mounts = append(inst.Mounts, providers.Mount{Type: "bind", Source: spec.AgentPath, Target: providers.AgentTarget, ReadOnly: true})
	}
	for _, port := range spec.Ports {
		inst.Ports = append(inst.Ports, formatPort(port, &p.nextPort))
	}
	spec.Labels = maps.Clone(spec.Labels)
	spec.Env = slices.Clone(spec.Env)
	spec.RunArgs = slices.Clone(spec.RunArgs)
	p.instances[id] = &instance{inst: inst, spec: spec, order: p.seq}
	return clone(&inst), nil
}

// mergeEnv returns base with over applied, a later value replacing an earlier one by name.
func mergeEnv(base, over []string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		k, _, _ := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") || e == k })
		if i >= 0 {
			out[i] = kv
		} else {
			out = append(out, kv)
		}
	}
	return out
}

// formatPort renders a `-p` spec as "hostIP:hostPort->containerPort/proto"; a missing host
// port gets the next one from *next (from 32768 up), a missing host IP is 0.0.0.0.
func formatPort(spec string, next *int) string {
	ctr, proto, ok := strings.Cut(spec, "/")
	if !ok {
		proto = "tcp"
	}
	parts := strings.Split(ctr, ":")
	ip, host := "0.0.0.0", ""
	switch len(parts) {
	case 3:
		if parts[0] != "" {
			ip = parts[0]
		}
		host = parts[1]
	case 2:
		host = parts[0]
	}
	if host == "" {
		if *next == 0 {
			*next = 32768
		}
		host = itoa(*next)
		*next++
	}
	return ip + ":" + host + "->" + parts[len(parts)-1] + "/" + proto
}

// Start marks the instance running with a new StartedAt, distinct from every earlier one.
func (p *Provider) Start(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if in.inst.State == providers.StateRunning {
		return nil
	}
	now := p.now()
	if !now.After(p.lastStart) {
		now = p.lastStart.Add(time.Microsecond)
	}
	p.lastStart = now
	in.inst.State = providers.StateRunning
	in.inst.StartedAt = timestamp(now)
	return nil
}

// Stop marks a running instance stopped.
func (p *Provider) Stop(_ context.Context, id string, _ time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if in.inst.State == providers.StateRunning || in.inst.State == providers.StatePaused {
		in.inst.State = providers.StateStopped
	}
	return nil
}

// Remove forgets the instance.
func (p *Provider) Remove(_ context.Context, id string, _ bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return fmt.Errorf("remove: %w", err)
	}
	delete(p.instances, in.inst.ID)
	return nil
}
