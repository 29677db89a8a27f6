package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestOrchestrator(t *testing.T) (*Orchestrator, *fakeEngine, *Project) {
	t.Helper()
	f := newFakeEngine()
	f.images["example.com/postgres:16"] = &Image{ID: "sha256:pg", ExposedPorts: []string{"5432/tcp"}}
	f.images["example.com/cache"] = &Image{ID: "sha256:cache"}
	o := New(f, nil)
	o.poll = time.Millisecond
	return o, f, loadBasic(t, nil)
}

func healthyAfter(n int) func(int) (string, string) {
	return func(i int) (string, string) {
		if i >= n {
			return "healthy", "accepting connections"
		}
		return "starting", "no response"
	}
}

func (f *fakeEngine) takeCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func TestUpOrderAndReuse(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.health["db"] = healthyAfter(3)
	ctx := context.Background()
	opts := UpOptions{MainService: "app", Main: MainOverrides{Env: map[string]string{"A": "1"}}}
	id, err := o.Up(ctx, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"build basic_devcontainer-app",
		"network create basic_devcontainer_backend",
		"network create basic_devcontainer_default",
		"volume create basic_devcontainer_data",
		"create basic_devcontainer-cache-1", "start basic_devcontainer-cache-1",
		"create basic_devcontainer-db-1", "start basic_devcontainer-db-1",
		"create basic_devcontainer-app-1", "start basic_devcontainer-app-1",
	}
	if d := cmp.Diff(want, f.takeCalls()); d != "" {
		t.Errorf("first up (-want +got):\n%s", d)
	}
	main := f.containers[id]
	if main == nil || main.Name != "basic_devcontainer-app-1" {
		t.Fatalf("main container %v", main)
	}
	for _, kv := range []string{"A=1", "MOCHI_SERVICE_DB_HOST=db", "MOCHI_SERVICE_DB_PORT_1=5432", "MOCHI_SERVICE_CACHE_PORT=6379"} {
		if !slices.Contains(main.spec.Env, kv) {
			t.Errorf("main env lacks %s: %q", kv, main.spec.Env)
		}
	}
	if got := f.networks["basic_devcontainer_default"].Labels; got[LabelNetwork] != "default" || got[LabelProject] != "basic_devcontainer" || len(got[LabelConfigHash]) != 64 {
		t.Errorf("network labels %v", got)
	}
	if got := f.volumes["basic_devcontainer_data"].Labels; got[LabelVolume] != "data" || got[LabelProject] != "basic_devcontainer" {
		t.Errorf("volume labels %v", got)
	}

	// Everything up to date and running: nothing to do.
	id2, err := o.Up(ctx, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if id2 != id {
		t.Errorf("second up returned %s, want the same container %s", id2, id)
	}
	if calls := f.takeCalls(); len(calls) != 0 {
		t.Errorf("second up made changes: %q", calls)
	}

	// Stopped project: containers are started again, not recreated.
	if err := o.Stop(ctx, p.Name, nil); err != nil {
		t.Fatal(err)
	}
	// app depends on db, so it stops first; cache is independent (services by name).
	if d := cmp.Diff([]string{"stop basic_devcontainer-app-1", "stop basic_devcontainer-cache-1", "stop basic_devcontainer-db-1"}, f.takeCalls()); d != "" {
		t.Errorf("stop order (-want +got):\n%s", d)
	}
	if _, err := o.Up(ctx, p, opts); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"start basic_devcontainer-cache-1", "start basic_devcontainer-db-1", "start basic_devcontainer-app-1"}, f.takeCalls()); d != "" {
		t.Errorf("restart (-want +got):\n%s", d)
	}

	// A changed main service configuration recreates only its container.
	opts.Main.Env["A"] = "2"
	id3, err := o.Up(ctx, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"stop basic_devcontainer-app-1", "rm basic_devcontainer-app-1", "create basic_devcontainer-app-1", "start basic_devcontainer-app-1"}
	if d := cmp.Diff(want, f.takeCalls()); d != "" {
		t.Errorf("recreate (-want +got):\n%s", d)
	}
	if id3 == id || f.containers[id3].Labels[LabelReplace] != "basic_devcontainer-app-1" {
		t.Errorf("recreated container %s labels %v", id3, f.containers[id3].Labels)
	}

	st, err := o.Status(ctx, p.Name)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range st {
		got = append(got, s.Service+"="+s.State)
	}
	if d := cmp.Diff([]string{"app=running", "cache=running", "db=running"}, got); d != "" {
		t.Errorf("status (-want +got):\n%s", d)
	}

	if err := o.Down(ctx, p.Name, true); err != nil {
		t.Fatal(err)
	}
	if len(f.containers) != 0 || len(f.networks) != 0 || len(f.volumes) != 0 {
		t.Errorf("down left containers %d networks %v volumes %v", len(f.containers), f.networks, f.volumes)
	}
}

func TestUpUnhealthyDependency(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.health["db"] = func(n int) (string, string) {
		if n >= 3 {
			return "unhealthy", "pg_isready: no response"
		}
		return "starting", ""
	}
	f.logs["db"] = "FATAL: data directory has wrong ownership\n"
	_, err := o.Up(context.Background(), p, UpOptions{MainService: "app"})
	if !errors.Is(err, ErrDependency) {
		t.Fatalf("error %v, want ErrDependency", err)
	}
	for _, w := range []string{"service app waits for db (service_healthy): db is unhealthy", "pg_isready: no response", "FATAL: data directory has wrong ownership"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	for _, c := range f.containers {
		if c.State == "running" {
			t.Errorf("%s still running after the failed up", c.Name)
		}
		if c.Labels[LabelService] == "app" {
			t.Errorf("app was created although its dependency failed")
		}
	}
}

func TestUpPortInUse(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.startErr["db"] = fmt.Errorf("start container x: %w: Bind for 127.0.0.1:15432 failed: port is already allocated", ErrPortInUse)
	_, err := o.Up(context.Background(), p, UpOptions{MainService: "app"})
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "start service db") {
		t.Fatalf("error %v, want ErrPortInUse naming db", err)
	}
	calls := f.takeCalls()
	if !slices.Contains(calls, "stop basic_devcontainer-cache-1") {
		t.Errorf("cache not stopped after the failure: %q", calls)
	}
}

func TestUpDependencyTimeout(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.health["db"] = func(int) (string, string) { return "starting", "still starting" }
	_, err := o.Up(context.Background(), p, UpOptions{MainService: "app", WaitTimeout: 20 * time.Millisecond})
	if !errors.Is(err, ErrDependency) || !strings.Contains(err.Error(), "db timed out") || !strings.Contains(err.Error(), "still starting") {
		t.Fatalf("error %v", err)
	}
}

func TestUpMissingImage(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	delete(f.images, "example.com/cache")
	_, err := o.Up(context.Background(), p, UpOptions{MainService: "app"})
	if !errors.Is(err, ErrImageNotFound) || !strings.Contains(err.Error(), "service cache") {
		t.Fatalf("error %v", err)
	}
	if len(f.containers) != 0 {
		t.Errorf("containers created before images were ready")
	}
}

func TestShutdown(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.health["db"] = healthyAfter(1)
	ctx := context.Background()
	if _, err := o.Up(ctx, p, UpOptions{MainService: "app"}); err != nil {
		t.Fatal(err)
	}
	f.takeCalls()
	if err := o.Shutdown(ctx, p.Name, ShutdownNone); err != nil || len(f.takeCalls()) != 0 {
		t.Errorf("shutdownAction none acted: %v", err)
	}
	if err := o.Shutdown(ctx, p.Name, ShutdownStopCompose); err != nil || len(f.takeCalls()) != 3 {
		t.Errorf("stopCompose did not stop the three containers: %v", err)
	}
	if err := o.Shutdown(ctx, p.Name, "bogus"); err == nil {
		t.Errorf("unknown shutdownAction accepted")
	}
}

func TestFindAndServiceImage(t *testing.T) {
	o, f, p := newTestOrchestrator(t)
	f.health["db"] = healthyAfter(1)
	ctx := context.Background()
	ref, id, err := o.ServiceImage(ctx, p, "app", ImageOptions{})
	if err != nil || ref != "basic_devcontainer-app" || id != "sha256:built1" {
		t.Fatalf("ServiceImage = %q, %q, %v", ref, id, err)
	}
	if _, _, err := o.ServiceImage(ctx, p, "app", ImageOptions{}); err != nil || len(f.built) != 1 {
		t.Errorf("existing image rebuilt without rebuild: %d builds, %v", len(f.built), err)
	}
	// The base of an image with Features is built every time and left untagged: the
	// service's name is for the image with the Features.
	ref, id, err = o.ServiceImage(ctx, p, "app", ImageOptions{Base: true, CacheFrom: []string{"example.com/cache"}})
	if err != nil || ref != "sha256:built2" || id != ref || len(f.built) != 2 || len(f.built[1].Tags) != 0 ||
		!slices.Contains(f.built[1].CacheFrom, "example.com/cache") {
		t.Fatalf("ServiceImage(Base) = %q, %q, %v; builds %d, tags %v", ref, id, err, len(f.built), f.built[len(f.built)-1].Tags)
	}
	if c, err := o.Find(ctx, p.Name, "app"); c != nil || err != nil {
		t.Errorf("Find before up = %v, %v", c, err)
	}
	mainID, err := o.Up(ctx, p, UpOptions{MainService: "app", Main: MainOverrides{Image: "example.com/cache"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.Find(ctx, p.Name, "app")
	if err != nil || c == nil || c.ID != mainID {
		t.Fatalf("Find = %v, %v; want %s", c, err, mainID)
	}
	if got := f.containers[mainID].spec.Image; got != "example.com/cache" {
		t.Errorf("main image %q, want the override", got)
	}
	if len(f.built) != 2 {
		t.Errorf("the main service was built although its image was overridden")
	}
}

// TestUpSharedNetworkNamespace: network_mode "service:db" (the pattern of many devcontainer
// templates) runs app in db's network namespace, starts db first, and recreates app whenever db
// is recreated.
func TestUpSharedNetworkNamespace(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "docker-compose.yml")
	content := `services:
  app:
    image: example.com/app
    network_mode: service:db
    ipc: service:db
  db:
    image: example.com/postgres:16
    environment:
      PASSWORD: ${PASSWORD:-one}
`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	load := func(password string) *Project {
		p, err := Load(context.Background(), LoadOptions{Files: []string{file}, Name: "shared", Env: map[string]string{"PASSWORD": password}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f := newFakeEngine()
	f.images["example.com/app"] = &Image{ID: "sha256:app"}
	f.images["example.com/postgres:16"] = &Image{ID: "sha256:pg"}
	o := New(f, nil)
	ctx := context.Background()
	appID, err := o.Up(ctx, load("one"), UpOptions{MainService: "app"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := o.Find(ctx, "shared", "db")
	if err != nil || db == nil {
		t.Fatalf("db container: %v, %v", db, err)
	}
	spec := f.containers[appID].spec
	if spec.NetworkMode != "container:"+db.ID || spec.Ipc != "container:"+db.ID || len(spec.Networks) != 0 {
		t.Errorf("app network mode %q, ipc %q, networks %v; want db's container %s", spec.NetworkMode, spec.Ipc, spec.Networks, db.ID)
	}
	if calls := f.takeCalls(); slices.Index(calls, "start shared-db-1") > slices.Index(calls, "create shared-app-1") {
		t.Errorf("app created before db started: %q", calls)
	}

	// Same configuration: both reused. db changed: db recreated, and app with it.
	if id, err := o.Up(ctx, load("one"), UpOptions{MainService: "app"}); err != nil || id != appID {
		t.Fatalf("second up = %s, %v; want app reused (%s)", id, err, appID)
	}
	newID, err := o.Up(ctx, load("two"), UpOptions{MainService: "app"})
	if err != nil {
		t.Fatal(err)
	}
	db2, _ := o.Find(ctx, "shared", "db")
	if db2 == nil || db2.ID == db.ID || newID == appID {
		t.Fatalf("after db's change: db %v (was %s), app %s (was %s); want both recreated", db2, db.ID, newID, appID)
	}
	if got := f.containers[newID].spec.NetworkMode; got != "container:"+db2.ID {
		t.Errorf("recreated app network mode %q, want container:%s", got, db2.ID)
	}
}
