package compose

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUpVolumesFromAndLimits: volumes_from naming a service becomes the id of that service's
// container (its mode kept), a container: entry the container's name alone, and makes it start first; the service's
// resource properties reach the container, with deploy.resources winning as in Compose v2.
func TestUpVolumesFromAndLimits(t *testing.T) {
	p, _ := loadInline(t, "vf", `services:
  app:
    image: example.com/app
    volumes_from: ["data:ro", "container:legacy"]
    memswap_limit: 1g
    cpu_shares: 512
    oom_score_adj: 200
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 256M}
        reservations: {memory: 64M}
  data:
    image: example.com/data
    volumes: ["/data"]
`)
	f := newFakeEngine()
	f.images["example.com/app"] = &Image{ID: "sha256:app"}
	f.images["example.com/data"] = &Image{ID: "sha256:data"}
	o := New(f, nil)
	ctx := context.Background()
	appID, err := o.Up(ctx, p, UpOptions{MainService: "app"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := o.Find(ctx, "vf", "data")
	if err != nil || data == nil {
		t.Fatalf("data container: %v, %v", data, err)
	}
	spec := f.containers[appID].spec
	if want := []string{data.ID + ":ro", "legacy"}; !slices.Equal(spec.VolumesFrom, want) {
		t.Errorf("volumes_from = %q, want %q", spec.VolumesFrom, want)
	}
	if calls := f.takeCalls(); slices.Index(calls, "start vf-data-1") > slices.Index(calls, "create vf-app-1") {
		t.Errorf("app created before data started: %q", calls)
	}
	want := Resources{
		Memory: 256 << 20, MemoryReservation: 64 << 20, MemorySwap: 1 << 30,
		NanoCPUs: 5e8, CPUShares: 512, OomScoreAdj: 200,
	}
	if diff := cmp.Diff(want, spec.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
}

// Limits mochi cannot honour are refused, naming the property, not silently dropped.
func TestUnsupportedDeviceReservation(t *testing.T) {
	err := loadInlineErr(t, "gpu", `services:
  app:
    image: example.com/app
    deploy:
      resources:
        reservations:
          devices: [{capabilities: [gpu]}]
`)
	if err == nil || !strings.Contains(err.Error(), "services.app.deploy.resources.reservations") {
		t.Fatalf("GPU reservation: %v, want an error naming services.app.deploy.resources.reservations", err)
	}
}

// A service's own limits, without deploy.resources.
func TestServiceLimits(t *testing.T) {
	p, _ := loadInline(t, "lim", `services:
  app:
    image: example.com/app
    mem_limit: 512m
    cpus: 1.5
    cpuset: "0"
    mem_swappiness: 10
    oom_kill_disable: true
    pids_limit: 100
`)
	app, _ := p.Service("app")
	spec, err := p.containerSpec(app, "example.com/app", "sha256:app")
	if err != nil {
		t.Fatal(err)
	}
	swappiness, pids := int64(10), int64(100)
	want := Resources{Memory: 512 << 20, NanoCPUs: 15e8, CpusetCpus: "0", MemorySwappiness: &swappiness, OomKillDisable: true, PidsLimit: &pids}
	if diff := cmp.Diff(want, spec.Resources); diff != "" {
		t.Errorf("resources (-want +got):\n%s", diff)
	}
}

// File secrets and configs are bound read-only where Compose v2 puts them.
func TestFileSecretsAndConfigs(t *testing.T) {
	p, dir := loadInline(t, "sec", `services:
  app:
    image: example.com/app
    secrets: [token, {source: token, target: renamed}, {source: token, target: /etc/abs}]
    configs: [settings, {source: settings, target: /etc/app.ini}, {source: settings, target: rel.ini}]
secrets:
  token: {file: ./token.txt}
configs:
  settings: {file: ./settings.ini}
`)
	app, _ := p.Service("app")
	spec, err := p.containerSpec(app, "example.com/app", "sha256:app")
	if err != nil {
		t.Fatal(err)
	}
	token, settings := filepath.Join(dir, "token.txt"), filepath.Join(dir, "settings.ini")
	var got []string
	for _, m := range spec.Mounts {
		if m.Type != "bind" || !m.ReadOnly {
			t.Errorf("mount %+v: want a read-only bind", m)
		}
		got = append(got, m.Target+" <- "+m.Source)
	}
	want := []string{
		"/run/secrets/token <- " + token, "/run/secrets/renamed <- " + token, "/etc/abs <- " + token,
		"/settings <- " + settings, "/etc/app.ini <- " + settings, "/rel.ini <- " + settings,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts (-want +got):\n%s", diff)
	}
}

// loadInline loads a compose file of the given content, written to a temporary folder, as
// project name; it returns the project and the folder.
func loadInline(t *testing.T, name, content string) (*Project, string) {
	t.Helper()
	dir := t.TempDir()
	p, err := Load(context.Background(), LoadOptions{Files: []string{writeCompose(t, dir, content)}, Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return p, dir
}

// loadInlineErr is loadInline for content that should not load.
func loadInlineErr(t *testing.T, name, content string) error {
	t.Helper()
	_, err := Load(context.Background(), LoadOptions{Files: []string{writeCompose(t, t.TempDir(), content)}, Name: name})
	return err
}

func writeCompose(t *testing.T, dir, content string) string {
	t.Helper()
	file := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
