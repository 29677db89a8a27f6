package compose

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestContainerSpecGolden pins the containers mochi creates for the basic project: names,
// Compose labels, aliases, ports, mounts, healthcheck, restart policy and the main service's
// devcontainer overrides.
func TestContainerSpecGolden(t *testing.T) {
	p := loadBasic(t, nil)
	ws := testdata(t, "basic")
	app, _ := p.Service("app")
	app, err := p.applyOverrides(app, MainOverrides{
		Image:      "vsc-basic-features",
		Entrypoint: []string{"/bin/sh", "-c", "keep-alive", "-"},
		Cmd:        []string{},
		Labels:     map[string]string{"devcontainer.local_folder": ws},
		Env:        map[string]string{"GREETING": "override", "EXTRA": "1"},
		Mounts: []Mount{
			{Type: "volume", Source: "cmdhistory", Target: "/commandhistory"},
			{Type: "bind", Source: "/tmp/x", Target: "/data"},
		},
		User:       "root",
		Init:       true,
		CapAdd:     []string{"SYS_PTRACE", "NET_ADMIN"},
		Privileged: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	db, _ := p.Service("db")
	specs := map[string]ContainerSpec{}
	for _, s := range []types.ServiceConfig{app, db} {
		ref := s.Image
		if ref == "" {
			ref = p.ImageName(s.Name)
		}
		spec, err := p.containerSpec(s, ref, "sha256:0123")
		if err != nil {
			t.Fatal(err)
		}
		if len(spec.Labels[LabelConfigHash]) != 64 {
			t.Errorf("%s: config hash %q", s.Name, spec.Labels[LabelConfigHash])
		}
		spec.Labels[LabelConfigHash] = "<hash>"
		specs[s.Name] = spec
	}
	if got := p.Model().Volumes["cmdhistory"].Name; got != "basic_devcontainer_cmdhistory" {
		t.Errorf("override volume declared as %q, want basic_devcontainer_cmdhistory", got)
	}
	got, err := json.MarshalIndent(specs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = bytes.ReplaceAll(got, []byte(ws), []byte("$WORKSPACE"))
	golden := filepath.Join("testdata", "containerspec.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); d != "" {
		t.Errorf("container specs differ from %s (-want +got, -update to refresh):\n%s", golden, d)
	}
}

func TestServiceHash(t *testing.T) {
	p := loadBasic(t, nil)
	db, _ := p.Service("db")
	base, err := ServiceHash(db)
	if err != nil {
		t.Fatal(err)
	}
	// What Compose leaves out of the hash does not change it.
	same := db
	same.DependsOn = types.DependsOnConfig{"x": {Condition: ConditionStarted}}
	same.Profiles = []string{"p"}
	same.Build = &types.BuildConfig{Context: "/elsewhere"}
	same.PullPolicy = types.PullPolicyAlways
	same.CustomLabels = types.Labels{"a": "b"}
	if h, _ := ServiceHash(same); h != base {
		t.Errorf("hash changed for depends_on/profiles/build/pull_policy/custom labels")
	}
	// What Compose keeps does.
	changed := db
	changed.Image = "example.com/postgres:17"
	if h, _ := ServiceHash(changed); h == base {
		t.Errorf("hash did not change with the image")
	}
	changed = db
	v := "x"
	changed.Environment = types.MappingWithEquals{"NEW": &v}
	if h, _ := ServiceHash(changed); h == base {
		t.Errorf("hash did not change with the environment")
	}
}

func TestDiscoveryEnv(t *testing.T) {
	p := loadBasic(t, nil)
	cache, _ := p.Service("cache")
	db, _ := p.Service("db")
	env := discoveryEnv(map[string][]uint32{
		"cache":  servicePorts(cache, nil),
		"db":     servicePorts(db, &Image{ExposedPorts: []string{"5432/tcp", "9187/tcp"}}),
		"my-api": nil,
	})
	want := map[string]string{
		"MOCHI_SERVICE_CACHE_HOST":   "cache",
		"MOCHI_SERVICE_CACHE_PORT":   "6379",
		"MOCHI_SERVICE_CACHE_PORT_1": "6379",
		"MOCHI_SERVICE_DB_HOST":      "db",
		"MOCHI_SERVICE_DB_PORT":      "5432",
		"MOCHI_SERVICE_DB_PORT_1":    "5432",
		"MOCHI_SERVICE_DB_PORT_2":    "9187",
		"MOCHI_SERVICE_MY_API_HOST":  "my-api",
	}
	if d := cmp.Diff(want, env); d != "" {
		t.Errorf("discovery env (-want +got):\n%s", d)
	}
}
