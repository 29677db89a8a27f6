// Package providertest is the conformance suite every mochi provider runs: the lifecycle
// (create, find, inspect, start, stop, remove), process execution and the attach stream, all
// checked through the providers contract only. A real provider's integration test calls Run
// with an image it can run; the fake provider runs it in its unit tests.
package providertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// Options describe what the suite may use on the provider under test.
type Options struct {
	// Image is an image the provider can run, with /bin/sh, cat and id (busybox will do).
	Image string
	// Labels are added to every instance the suite creates (for example mochi.test=1).
	Labels map[string]string
	// User is a numeric "uid:gid" the suite runs processes as; empty skips the user checks.
	User string
	// BindSource is a host folder to bind-mount; empty means a fresh t.TempDir().
	BindSource string
	// Timeout bounds each provider call; zero means two minutes.
	Timeout time.Duration
}

// keepAlive is the main process of the suite's instances: it waits until it is told to stop.
var keepAlive = []string{"-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"}

// Run runs the conformance suite against p.
func Run(t *testing.T, p providers.Provider, opts Options) {
	if opts.Image == "" {
		t.Fatal("providertest: Options.Image is required")
	}
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Minute
	}
	s := &suite{p: p, opts: opts}
	t.Run("NotFound", s.testNotFound)
	t.Run("Lifecycle", s.testLifecycle)
}

type suite struct {
	p    providers.Provider
	opts Options
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// runLabel returns a label unique to this test run, so that Find sees only our instances.
func runLabel(t *testing.T) map[string]string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"mochi.providertest.run": hex.EncodeToString(b)}
}

func (s *suite) testNotFound(t *testing.T) {
	ctx := s.ctx(t)
	const missing = "mochi-providertest-no-such-instance"
	if _, err := s.p.Inspect(ctx, missing); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Inspect(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.p.Start(ctx, missing); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Start(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.p.Stop(ctx, missing, time.Second); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Stop(missing) error = %v, want ErrNotFound", err)
	}
	if err := s.p.Remove(ctx, missing, true); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Remove(missing) error = %v, want ErrNotFound", err)
	}
	labels := runLabel(t)
	inst, err := s.p.Find(ctx, labels)
	if err != nil || inst != nil {
		t.Errorf("Find(unused labels) = %v, %v; want nil, nil", inst, err)
	}
	list, err := s.p.List(ctx, labels)
	if err != nil || len(list) != 0 {
		t.Errorf("List(unused labels) = %v, %v; want none", list, err)
	}
	if ib, ok := s.p.(providers.ImageBuilder); ok {
		if _, err := ib.InspectImage(ctx, "mochi-providertest/no-such-image:1"); !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("InspectImage(missing) error = %v, want ErrNotFound", err)
		}
	}
}

// create creates an instance from spec plus the suite's labels and removes it at cleanup.
func (s *suite) create(t *testing.T, spec providers.CreateSpec) *providers.Instance {
	t.Helper()
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	for k, v := range s.opts.Labels {
		spec.Labels[k] = v
	}
	inst, err := s.p.Create(s.ctx(t), spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		defer cancel()
		if err := s.p.Remove(ctx, inst.ID, true); err != nil && !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("cleanup: Remove(%s): %v", inst.ID, err)
		}
	})
	return inst
}

func (s *suite) testLifecycle(t *testing.T) {
	ctx := s.ctx(t)
	labels := runLabel(t)
	labels["mochi.providertest.role"] = "main"
	bind := s.opts.BindSource
	if bind == "" {
		bind = t.TempDir()
	}
	spec := providers.CreateSpec{
		Name:       "mochi-providertest-" + labels["mochi.providertest.run"],
		Image:      s.opts.Image,
		Labels:     labels,
		Env:        []string{"MOCHI_CREATE=created value"},
		User:       s.opts.User,
		Entrypoint: []string{"/bin/sh"},
		Cmd:        keepAlive,
		Mounts: []providers.Mount{
			{Type: "bind", Source: bind, Target: "/mnt/bind", ReadOnly: true},
			{Type: "volume", Target: "/mnt/vol"},
			{Type: "tmpfs", Target: "/mnt/tmp"},
		},
		Ports: []string{"127.0.0.1::8080"},
	}
	created := s.create(t, spec)
	if created.ID == "" {
		t.Fatal("Create returned an instance without ID")
	}
	inst, err := s.p.Inspect(ctx, created.ID)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	checkCreated(t, inst, spec, s.p.Capabilities().Name)

	// Find and List by labels, including a subset and a mismatch.
	if got, err := s.p.Find(ctx, labels); err != nil || got == nil || got.ID != inst.ID {
		t.Errorf("Find(labels) = %v, %v; want %s", got, err, inst.ID)
	}
	subset := map[string]string{"mochi.providertest.run": labels["mochi.providertest.run"]}
	if list, err := s.p.List(ctx, subset); err != nil || len(list) != 1 || list[0].ID != inst.ID {
		t.Errorf("List(subset) = %v, %v; want [%s]", list, err, inst.ID)
	}
	wrong := map[string]string{"mochi.providertest.run": labels["mochi.providertest.run"], "mochi.providertest.role": "other"}
	if got, err := s.p.Find(ctx, wrong); err != nil || got != nil {
		t.Errorf("Find(mismatched labels) = %v, %v; want nil, nil", got, err)
	}
	if inst.Name != spec.Name {
		t.Errorf("Name = %q, want %q", inst.Name, spec.Name)
	} else {
		if byName, err := s.p.Inspect(ctx, inst.Name); err != nil || byName.ID != inst.ID {
			t.Errorf("Inspect(name %q) = %v, %v; want %s", inst.Name, byName, err, inst.ID)
		}
	}

	// Start, stop and start again: Created stays, StartedAt moves.
	first := s.start(t, inst.ID, inst.Created)
	if len(first.Ports) != 1 || !strings.HasPrefix(first.Ports[0], "127.0.0.1:") || !strings.HasSuffix(first.Ports[0], "->8080/tcp") ||
		strings.HasPrefix(first.Ports[0], "127.0.0.1:->") {
		t.Errorf("Ports of the running instance = %q, want [127.0.0.1:<port>->8080/tcp]", first.Ports)
	}
	t.Run("Exec", func(t *testing.T) { s.testExec(t, inst.ID) })
	t.Run("Attach", func(t *testing.T) { s.testAttach(t, inst.ID) })
	if err := s.p.Stop(ctx, inst.ID, 10*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stopped, err := s.p.Inspect(ctx, inst.ID)
	if err != nil {
		t.Fatalf("Inspect after Stop: %v", err)
	}
	if stopped.State != providers.StateStopped || stopped.Running() {
		t.Errorf("state after Stop = %q, want %q", stopped.State, providers.StateStopped)
	}
	if found, err := s.p.Find(ctx, labels); err != nil || found == nil || found.ID != inst.ID {
		t.Errorf("Find(labels) of a stopped instance = %v, %v; want %s", found, err, inst.ID)
	}
	second := s.start(t, inst.ID, inst.Created)
	if second.StartedAt == first.StartedAt {
		t.Errorf("StartedAt unchanged by a restart: %q", second.StartedAt)
	}

	if err := s.p.Remove(ctx, inst.ID, true); err != nil {
		t.Fatalf("Remove of a running instance: %v", err)
	}
	if _, err := s.p.Inspect(ctx, inst.ID); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Inspect after Remove: error = %v, want ErrNotFound", err)
	}
	if got, err := s.p.Find(ctx, labels); err != nil || got != nil {
		t.Errorf("Find after Remove = %v, %v; want nil, nil", got, err)
	}
}

// start starts id and checks that it runs and kept its creation time.
func (s *suite) start(t *testing.T, id, createdAt string) *providers.Instance {
	t.Helper()
	ctx := s.ctx(t)
	if err := s.p.Start(ctx, id); err != nil {
		t.Fatalf("Start: %v", err)
	}
	inst, err := s.p.Inspect(ctx, id)
	if err != nil {
		t.Fatalf("Inspect after Start: %v", err)
	}
	if !inst.Running() || inst.State != providers.StateRunning {
		t.Errorf("state after Start = %q, want running", inst.State)
	}
	if inst.StartedAt == "" {
		t.Error("StartedAt empty after Start")
	}
	if inst.Created != createdAt {
		t.Errorf("Created changed by Start: %q -> %q", createdAt, inst.Created)
	}
	return inst
}

func checkCreated(t *testing.T, inst *providers.Instance, spec providers.CreateSpec, provider string) {
	t.Helper()
	if inst.State != providers.StateCreated || inst.Running() {
		t.Errorf("State = %q, want %q", inst.State, providers.StateCreated)
	}
	if inst.Provider != provider {
		t.Errorf("Provider = %q, want %q", inst.Provider, provider)
	}
	if inst.Created == "" {
		t.Error("Created is empty")
	}
	for k, v := range spec.Labels {
		if inst.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, inst.Labels[k], v)
		}
	}
	for _, e := range spec.Env {
		if !slices.Contains(inst.Env, e) {
			t.Errorf("Env %q lacks %q", inst.Env, e)
		}
	}
	if inst.User != spec.User {
		t.Errorf("User = %q, want %q", inst.User, spec.User)
	}
	if inst.Image != spec.Image {
		t.Errorf("Image = %q, want %q", inst.Image, spec.Image)
	}
	if inst.ImageID == "" {
		t.Error("ImageID is empty")
	}
	for _, want := range spec.Mounts {
		i := slices.IndexFunc(inst.Mounts, func(m providers.Mount) bool { return m.Target == want.Target })
		if i < 0 {
			t.Errorf("Mounts %+v lack %s", inst.Mounts, want.Target)
			continue
		}
		got := inst.Mounts[i]
		if got.Type != want.Type || got.ReadOnly != want.ReadOnly || (want.Source != "" && got.Source != want.Source) {
			t.Errorf("mount at %s = %+v, want %+v", want.Target, got, want)
		}
		if want.Type == "volume" && got.Source == "" {
			t.Errorf("anonymous volume at %s has no name", want.Target)
		}
	}
}

// firstLine is the first line of s without its line ending.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimRight(line, "\r")
}
