// Package fake is an in-memory mochi provider for unit tests of the workspace engine. It keeps
// instances and images in maps, records what it was asked to do, and runs no process: Exec
// and Attach call the ExecFunc a test supplies.
package fake

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// ExecFunc plays the part of a process: it reads spec.Stdin, writes spec.Stdout and
// spec.Stderr and returns an exit code. inst is a copy of the instance it runs in.
type ExecFunc func(ctx context.Context, inst *providers.Instance, spec providers.ExecSpec) (int, error)

// Provider is the fake provider. The zero value is not usable; call New.
type Provider struct {
	// ExecFunc runs exec'd and attached processes; nil makes every Exec exit 0 silently and
	// Attach fail with ErrUnsupported.
	ExecFunc ExecFunc
	// PullFunc, when set, decides the outcome of PullImage; nil fails every pull with
	// ErrNotFound, like a machine that reaches no registry.
	PullFunc func(ctx context.Context, ref string, out io.Writer) error
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu        sync.Mutex
	seq       int
	instances map[string]*instance
	images    map[string]*providers.ImageInfo // by ref and by id
	execs     []Exec
	builds    []providers.BuildSpec
	lastStart time.Time
	nextPort  int
}

type instance struct {
	inst  providers.Instance
	spec  providers.CreateSpec
	order int
}

// Exec is one recorded Exec or Attach call.
type Exec struct {
	ID   string
	Spec providers.ExecSpec
}

var (
	_ providers.Provider     = (*Provider)(nil)
	_ providers.Execer       = (*Provider)(nil)
	_ providers.Attacher     = (*Provider)(nil)
	_ providers.ImageBuilder = (*Provider)(nil)
)

// New returns an empty fake provider.
func New() *Provider {
	return &Provider{instances: map[string]*instance{}, images: map[string]*providers.ImageInfo{}}
}

// Capabilities describes the fake as a container engine that builds images.
func (p *Provider) Capabilities() providers.Capabilities {
	return providers.Capabilities{Name: "fake", BuildsImages: true, SharedKernel: true}
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// lookup finds an instance by id, unique id prefix or name; p.mu must be held.
func (p *Provider) lookup(id string) (*instance, error) {
	if in, ok := p.instances[id]; ok {
		return in, nil
	}
	var found *instance
	for _, in := range p.instances {
		if in.inst.Name == id {
			return in, nil
		}
		if id != "" && strings.HasPrefix(in.inst.ID, id) {
			if found != nil {
				return nil, fmt.Errorf("instance %s: ambiguous id prefix", id)
			}
			found = in
		}
	}
	if found == nil {
		return nil, fmt.Errorf("instance %s: %w", id, providers.ErrNotFound)
	}
	return found, nil
}

// Find returns the newest instance carrying all labels, or nil, nil.
func (p *Provider) Find(ctx context.Context, labels map[string]string) (*providers.Instance, error) {
	list, err := p.List(ctx, labels)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// List returns every instance carrying all labels, newest first.
func (p *Provider) List(_ context.Context, labels map[string]string) ([]*providers.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var match []*instance
	for _, in := range p.instances {
		ok := true
		for k, v := range labels {
			if got, has := in.inst.Labels[k]; !has || got != v {
				ok = false
				break
			}
		}
		if ok {
			match = append(match, in)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].order > match[j].order })
	out := make([]*providers.Instance, len(match))
	for i, in := range match {
		out[i] = clone(&in.inst)
	}
	return out, nil
}

// Inspect returns a copy of the instance.
func (p *Provider) Inspect(_ context.Context, id string) (*providers.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	return clone(&in.inst), nil
}

// Spec returns the CreateSpec an instance was created from.
func (p *Provider) Spec(id string) (providers.CreateSpec, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return providers.CreateSpec{}, err
	}
	return in.spec, nil
}

// Execs returns the Exec and Attach calls made so far, oldest first.
func (p *Provider) Execs() []Exec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.execs)
}

func clone(i *providers.Instance) *providers.Instance {
	c := *i
	c.Labels = maps.Clone(i.Labels)
	c.Env = slices.Clone(i.Env)
	c.Mounts = slices.Clone(i.Mounts)
	c.Ports = slices.Clone(i.Ports)
	return &c
}

// timestamp formats t like the Docker engine does.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func itoa(n int) string { return strconv.Itoa(n) }
