package compose

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeEngine is an in-memory Engine. Health and start failures are scripted per service.
type fakeEngine struct {
	mu         sync.Mutex
	images     map[string]*Image
	networks   map[string]NetworkSpec
	volumes    map[string]VolumeSpec
	containers map[string]*fakeContainer
	nextID     int
	calls      []string
	built      []BuildSpec

	// health returns the health of a started container at its n'th inspection.
	health map[string]func(n int) (status, log string)
	// startErr fails starting a service's container.
	startErr map[string]error
	logs     map[string]string
}

type fakeContainer struct {
	Container
	spec     ContainerSpec
	inspects int
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{
		images: map[string]*Image{}, networks: map[string]NetworkSpec{}, volumes: map[string]VolumeSpec{},
		containers: map[string]*fakeContainer{}, health: map[string]func(int) (string, string){},
		startErr: map[string]error{}, logs: map[string]string{},
	}
}

func (f *fakeEngine) record(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

func (f *fakeEngine) EnsureNetwork(_ context.Context, s NetworkSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.networks[s.Name]; !ok {
		f.record("network create %s", s.Name)
		f.networks[s.Name] = s
	}
	return nil
}

func (f *fakeEngine) EnsureVolume(_ context.Context, s VolumeSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.volumes[s.Name]; !ok {
		f.record("volume create %s", s.Name)
		f.volumes[s.Name] = s
	}
	return nil
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func (f *fakeEngine) Networks(_ context.Context, labels map[string]string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n, s := range f.networks {
		if matches(s.Labels, labels) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeEngine) Volumes(_ context.Context, labels map[string]string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n, s := range f.volumes {
		if matches(s.Labels, labels) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeEngine) RemoveNetwork(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("network rm %s", name)
	delete(f.networks, name)
	return nil
}

func (f *fakeEngine) RemoveVolume(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("volume rm %s", name)
	delete(f.volumes, name)
	return nil
}

func (f *fakeEngine) Containers(_ context.Context, labels map[string]string) ([]Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Container
	for _, c := range f.containers {
		if matches(c.Labels, labels) {
			out = append(out, c.Container)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (f *fakeEngine) InspectContainer(_ context.Context, id string) (*Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return nil, fmt.Errorf("no container %s", id)
	}
	c.inspects++
	if h := f.health[c.Labels[LabelService]]; h != nil && c.State == "running" {
		c.Health, c.HealthLog = h(c.inspects)
	}
	out := c.Container
	return &out, nil
}

func (f *fakeEngine) CreateContainer(_ context.Context, s ContainerSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.Name == s.Name {
			return "", fmt.Errorf("name %s in use", s.Name)
		}
	}
	f.nextID++
	id := "c" + strconv.Itoa(f.nextID)
	f.record("create %s", s.Name)
	f.containers[id] = &fakeContainer{Container: Container{ID: id, Name: s.Name, Labels: maps.Clone(s.Labels), State: "created"}, spec: s}
	return id, nil
}

func (f *fakeEngine) StartContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[id]
	if err := f.startErr[c.Labels[LabelService]]; err != nil {
		return err
	}
	f.record("start %s", c.Name)
	c.State, c.inspects = "running", 0
	return nil
}

func (f *fakeEngine) StopContainer(_ context.Context, id string, _ *time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.containers[id]
	f.record("stop %s", c.Name)
	c.State, c.Health = "exited", ""
	return nil
}

func (f *fakeEngine) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("rm %s", f.containers[id].Name)
	delete(f.containers, id)
	return nil
}

func (f *fakeEngine) Logs(_ context.Context, id string, _ int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs[f.containers[id].Labels[LabelService]], nil
}

func (f *fakeEngine) InspectImage(_ context.Context, ref string) (*Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.images[ref], nil
}

func (f *fakeEngine) PullImage(_ context.Context, ref string, _ io.Writer) error {
	return fmt.Errorf("no registry for %s", ref)
}

func (f *fakeEngine) BuildImage(_ context.Context, s BuildSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.built = append(f.built, s)
	id := fmt.Sprintf("sha256:built%d", len(f.built))
	f.images[id] = &Image{ID: id}
	for _, t := range s.Tags {
		f.images[t] = &Image{ID: id}
	}
	f.record("build %s", strings.Join(s.Tags, ","))
	return id, nil
}
