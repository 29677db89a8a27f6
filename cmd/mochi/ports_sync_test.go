package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mochi-dev/mochi/portfwd"
	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/fake"
	"github.com/mochi-dev/mochi/workspace"
)

// countingBackend counts the provider calls a pass of the port loop makes.
type countingBackend struct {
	*fake.Provider
	inspects, lists atomic.Int64
}

func (c *countingBackend) Inspect(ctx context.Context, id string) (*providers.Instance, error) {
	c.inspects.Add(1)
	return c.Provider.Inspect(ctx, id)
}

func (c *countingBackend) List(ctx context.Context, labels map[string]string) ([]*providers.Instance, error) {
	c.lists.Add(1)
	return c.Provider.List(ctx, labels)
}

// Records of workspaces whose containers are gone (removed with docker rm, say) cost the
// port loop no engine call each: one list per provider per pass, and their state file is
// written once, not on every pass.
func TestSyncPortsSkipsStaleRecords(t *testing.T) {
	home := t.TempDir()
	st, err := workspace.OpenStore(home)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		folder := fmt.Sprintf("/src/ws%d", i)
		rec := &workspace.Record{Name: fmt.Sprintf("ws%d", i), Folder: folder, ContainerID: fmt.Sprintf("gone%d", i),
			IDLabels: map[string]string{"devcontainer.local_folder": folder, "devcontainer.config_file": folder + "/.devcontainer.json"}}
		if err := st.Put(rec); err != nil {
			t.Fatal(err)
		}
	}
	be := &countingBackend{Provider: fake.New()}
	engines := &serverEngines{home: home, byName: map[string]*workspace.Engine{},
		make: func(string) (*workspace.Engine, error) {
			return workspace.New(workspace.Config{Backend: be, Home: home}), nil
		}}
	dir := filepath.Join(home, "ports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sets, idle := map[string]*portfwd.Set{}, map[string]string{}
	log := slog.New(slog.DiscardHandler)
	syncPorts(context.Background(), engines, dir, sets, idle, log)
	if n := be.inspects.Load(); n != 0 {
		t.Errorf("first pass: %d inspects for 200 records of removed containers, want 0", n)
	}
	if n := be.lists.Load(); n != 1 {
		t.Errorf("first pass: %d lists, want 1", n)
	}
	state := filepath.Join(dir, "ws7.json")
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatalf("state of a stopped workspace: %v", err)
	}
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	syncPorts(context.Background(), engines, dir, sets, idle, log)
	if _, err := os.Stat(state); err == nil {
		t.Errorf("an unchanged state was written again")
	}
	if n := be.inspects.Load(); n != 0 {
		t.Errorf("second pass: %d inspects", n)
	}
	if want := `"error": "workspace ws7 is not running"`; !strings.Contains(string(data), want) {
		t.Errorf("state %s, want %s", data, want)
	}
}
