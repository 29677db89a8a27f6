package docker

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
	units "github.com/docker/go-units"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mochi-dev/mochi/providers"
)

func testProvider(t *testing.T) *Provider {
	t.Helper()
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), Client: nil})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func request(t *testing.T, spec providers.CreateSpec) (*container.Config, *container.HostConfig, string) {
	t.Helper()
	if spec.Image == "" {
		spec.Image = "example.com/img:1"
	}
	cfg, host, _, name, err := testProvider(t).createRequest(spec)
	if err != nil {
		t.Fatalf("createRequest(%q): %v", spec.RunArgs, err)
	}
	return cfg, host, name
}

func TestCreateRequestFromSpec(t *testing.T) {
	yes := true
	cfg, host, name := request(t, providers.CreateSpec{
		Name:        "ws",
		Labels:      map[string]string{"a": "1"},
		Env:         []string{"A=1", "B=2"},
		User:        "dev",
		Entrypoint:  []string{"/bin/sh"},
		Cmd:         []string{"-c", "sleep infinity"},
		Mounts:      []providers.Mount{{Type: "bind", Source: "/src", Target: "/workspaces/x"}, {Type: "volume", Source: "cache", Target: "/cache", ReadOnly: true}, {Type: "tmpfs", Target: "/tmp"}},
		Ports:       []string{"127.0.0.1:8080:80", "9000/udp"},
		Init:        true,
		Privileged:  true,
		CapAdd:      []string{"SYS_PTRACE"},
		SecurityOpt: []string{"seccomp=unconfined"},
		GPUs:        true,
		AgentPath:   "/opt/mochi",
	})
	if name != "ws" {
		t.Errorf("name = %q", name)
	}
	want := &container.Config{
		Image:        "example.com/img:1",
		Labels:       map[string]string{"a": "1"},
		Env:          []string{"A=1", "B=2"},
		User:         "dev",
		Entrypoint:   []string{"/bin/sh"},
		Cmd:          []string{"-c", "sleep infinity"},
		ExposedPorts: nat.PortSet{"80/tcp": {}, "9000/udp": {}},
	}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	wantHost := &container.HostConfig{
		PortBindings: nat.PortMap{
			"80/tcp":   {{HostIP: "127.0.0.1", HostPort: "8080"}},
			"9000/udp": {{}},
		},
		Mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: "/src", Target: "/workspaces/x"},
			{Type: mount.TypeVolume, Source: "cache", Target: "/cache", ReadOnly: true},
			{Type: mount.TypeTmpfs, Target: "/tmp"},
			{Type: mount.TypeBind, Source: "/opt/mochi", Target: providers.AgentTarget, ReadOnly: true},
		},
		Init:        &yes,
		Privileged:  true,
		CapAdd:      []string{"SYS_PTRACE"},
		SecurityOpt: []string{"seccomp=unconfined"},
		Resources: container.Resources{DeviceRequests: []container.DeviceRequest{
			{Count: -1, Capabilities: [][]string{{"gpu"}}},
		}},
	}
	if d := cmp.Diff(wantHost, host); d != "" {
		t.Errorf("host config (-want +got):\n%s", d)
	}
}

func TestRunArgsOverrideSpec(t *testing.T) {
	cfg, host, name := request(t, providers.CreateSpec{
		Name:       "generated",
		Env:        []string{"A=spec", "B=spec"},
		User:       "spec",
		Labels:     map[string]string{"l": "spec"},
		Mounts:     []providers.Mount{{Type: "volume", Source: "v1", Target: "/data"}},
		Entrypoint: []string{"/bin/sh"},
		RunArgs: []string{
			"--name", "mine", "-e", "A=run", "--env=C=3", "-u", "1000:1000",
			"-l", "l=run", "--label", "bare", "-v", "v2:/data:ro",
			"--entrypoint", "/ignored", "--privileged",
		},
	})
	if name != "mine" {
		t.Errorf("name = %q, want the --name from runArgs", name)
	}
	if d := cmp.Diff([]string{"A=run", "B=spec", "C=3"}, cfg.Env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
	if cfg.User != "1000:1000" {
		t.Errorf("user = %q", cfg.User)
	}
	if d := cmp.Diff(map[string]string{"l": "run", "bare": ""}, cfg.Labels); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	if len(host.Mounts) != 0 || !cmp.Equal(host.Binds, []string{"v2:/data:ro"}) {
		t.Errorf("mounts = %v, binds = %v; want the -v volume to replace the spec mount at /data", host.Mounts, host.Binds)
	}
	// The reference CLI writes its --entrypoint after runArgs, so the spec's wins.
	if !cmp.Equal([]string(cfg.Entrypoint), []string{"/bin/sh"}) {
		t.Errorf("entrypoint = %q", cfg.Entrypoint)
	}
	if !host.Privileged {
		t.Error("privileged not set")
	}
}

func TestRunArgsFlags(t *testing.T) {
	cfg, host, _ := request(t, providers.CreateSpec{RunArgs: []string{
		"-it", "-w", "/work", "-h", "box", "--network", "mynet", "--network-alias", "db",
		"--add-host", "svc=10.0.0.1", "--add-host=gw:host-gateway", "--cap-add", "NET_ADMIN",
		"--cap-drop=MKNOD", "--security-opt", "apparmor=unconfined", "--init",
		"--device", "/dev/fuse", "--device=/dev/sda:/dev/xvda:r", "--gpus", "2",
		"--shm-size", "1g", "--ulimit", "nofile=1024:2048", "--ulimit", "nofile=4096",
		"-m", "512m", "--cpus", "1.5", "--ipc", "host", "--pid=host", "--userns", "host",
		"--tmpfs", "/run:rw,size=64m", "--dns", "1.1.1.1", "--sysctl", "net.ipv4.ip_forward=1",
		"--mount", "type=bind,source=/host,target=/ctr,readonly", "--mount", "type=tmpfs,dst=/scratch,tmpfs-size=1m",
		"-p", "3000:3000", "-P", "--runtime", "runc", "--platform", "linux/amd64", "--read-only=false",
		"--restart", "on-failure:3", "--expose", "7000-7001",
	}})
	yes := true
	if cfg.WorkingDir != "/work" || cfg.Hostname != "box" {
		t.Errorf("workdir %q hostname %q", cfg.WorkingDir, cfg.Hostname)
	}
	if host.NetworkMode != "mynet" {
		t.Errorf("network = %q", host.NetworkMode)
	}
	opts := cmpopts.EquateEmpty()
	checks := []struct {
		name      string
		got, want any
	}{
		{"extra hosts", host.ExtraHosts, []string{"svc:10.0.0.1", "gw:host-gateway"}},
		{"cap add", []string(host.CapAdd), []string{"NET_ADMIN"}},
		{"cap drop", []string(host.CapDrop), []string{"MKNOD"}},
		{"security opt", host.SecurityOpt, []string{"apparmor=unconfined"}},
		{"init", host.Init, &yes},
		{"devices", host.Devices, []container.DeviceMapping{
			{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"},
			{PathOnHost: "/dev/sda", PathInContainer: "/dev/xvda", CgroupPermissions: "r"},
		}},
		{"gpus", host.DeviceRequests, []container.DeviceRequest{{Count: 2, Capabilities: [][]string{{"gpu"}}}}},
		{"shm", host.ShmSize, int64(1 << 30)},
		{"ulimits", host.Ulimits, []*units.Ulimit{{Name: "nofile", Soft: 4096, Hard: 4096}}},
		{"memory", host.Memory, int64(512 << 20)},
		{"cpus", host.NanoCPUs, int64(1.5e9)},
		{"ipc", string(host.IpcMode), "host"},
		{"pid", string(host.PidMode), "host"},
		{"userns", string(host.UsernsMode), "host"},
		{"tmpfs", host.Tmpfs, map[string]string{"/run": "rw,size=64m"}},
		{"dns", host.DNS, []string{"1.1.1.1"}},
		{"sysctls", host.Sysctls, map[string]string{"net.ipv4.ip_forward": "1"}},
		{"mounts", host.Mounts, []mount.Mount{
			{Type: mount.TypeBind, Source: "/host", Target: "/ctr", ReadOnly: true},
			{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}},
		}},
		{"port bindings", host.PortBindings, nat.PortMap{"3000/tcp": {{HostPort: "3000"}}}},
		{"exposed", cfg.ExposedPorts, nat.PortSet{"3000/tcp": {}, "7000/tcp": {}, "7001/tcp": {}}},
		{"publish all", host.PublishAllPorts, true},
		{"runtime", host.Runtime, "runc"},
		{"read only", host.ReadonlyRootfs, false},
		{"restart", host.RestartPolicy, container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{"tty ignored", cfg.Tty || cfg.OpenStdin, false},
	}
	for _, c := range checks {
		if d := cmp.Diff(c.want, c.got, opts); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
}

func TestRunArgsNetworkAlias(t *testing.T) {
	p := testProvider(t)
	_, _, netCfg, _, err := p.createRequest(providers.CreateSpec{Image: "i", RunArgs: []string{"--net=backend", "--net-alias", "api"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := netCfg.EndpointsConfig["backend"]; got == nil || !cmp.Equal(got.Aliases, []string{"api"}) {
		t.Errorf("endpoints = %+v", netCfg.EndpointsConfig)
	}
}

func TestRunArgsEnvFileAndHostEnv(t *testing.T) {
	t.Setenv("MOCHI_TEST_FROM_HOST", "host value")
	file := filepath.Join(t.TempDir(), "vars.env")
	if err := os.WriteFile(file, []byte("# comment\nX=1\n\nMOCHI_TEST_FROM_HOST\nY=a=b\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, _ := request(t, providers.CreateSpec{RunArgs: []string{"--env-file", file, "-e", "MOCHI_TEST_FROM_HOST", "-e", "X=2"}})
	want := []string{"X=2", "MOCHI_TEST_FROM_HOST=host value", "Y=a=b"}
	if d := cmp.Diff(want, cfg.Env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
}

func TestRunArgsVolumes(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cfg, host, _ := request(t, providers.CreateSpec{RunArgs: []string{
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "./sub:/sub:ro,z", "-v", "/anon",
		"--volume=named:/named:nocopy",
	}})
	wantBinds := []string{"/var/run/docker.sock:/var/run/docker.sock", filepath.Join(wd, "sub") + ":/sub:ro,z", "named:/named:nocopy"}
	if d := cmp.Diff(wantBinds, host.Binds); d != "" {
		t.Errorf("binds (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]struct{}{"/anon": {}}, cfg.Volumes); d != "" {
		t.Errorf("volumes (-want +got):\n%s", d)
	}
}

func TestRunArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--foo"}, `runArgs: unsupported docker run flag "--foo"`},
		{[]string{"--foo=bar"}, `runArgs: unsupported docker run flag "--foo"`},
		{[]string{"-it", "-X"}, `runArgs: unsupported docker run flag "-X"`},
		{[]string{"-itZ"}, `runArgs: unsupported docker run flag "-Z"`},
		{[]string{"--rm"}, `runArgs: --rm "true": not supported: a dev container must survive being stopped`},
		{[]string{"--memory", "lots"}, `runArgs: --memory "lots": invalid size: 'lots'`},
		{[]string{"-p", "99999:80"}, `runArgs: --publish "99999:80": publish "99999:80": invalid hostPort: 99999`},
		{[]string{"--mount", "type=bind,target=/x"}, `runArgs: --mount "type=bind,target=/x": a bind mount needs a source`},
		{[]string{"--mount", "type=volume,src=v,dst=/x,bogus=1"}, `runArgs: --mount "type=volume,src=v,dst=/x,bogus=1": unknown mount option "bogus"`},
		{[]string{"-v", "a:b:c:d"}, `runArgs: --volume "a:b:c:d": want [source:]target[:options]`},
		{[]string{"-v", "/x:/y:wat"}, `runArgs: --volume "/x:/y:wat": unknown volume option "wat"`},
		{[]string{"--device", "vendor.com/gpu=all"}, `runArgs: --device "vendor.com/gpu=all": device paths must be absolute (CDI device names need a newer engine)`},
		{[]string{"--gpus", "count=x"}, `runArgs: --gpus "count=x": bad GPU count "x"`},
		{[]string{"--network-alias", "x"}, `runArgs: --network-alias needs a user-defined --network`},
		{[]string{"--network", "a", "--network", "b"}, `runArgs: unsupported: more than one --network (a, b)`},
		{[]string{"--name"}, `runArgs: --name needs a value`},
		{[]string{"image"}, `runArgs: unexpected argument "image" (runArgs holds flags only)`},
		{[]string{"--restart", "sometimes"}, `runArgs: --restart "sometimes": invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`},
	}
	p := testProvider(t)
	for _, tt := range tests {
		_, _, _, _, err := p.createRequest(providers.CreateSpec{Image: "i", RunArgs: tt.args})
		if err == nil {
			t.Errorf("%q: no error, want %s", tt.args, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.args, err, tt.want)
		}
	}
}
