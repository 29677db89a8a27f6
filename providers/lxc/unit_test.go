package lxc

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mochi-dev/mochi/providers"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRunArgs(t *testing.T) {
	t.Setenv("MOCHI_LXC_HOST_VAR", "from host")
	s, err := newSettings(providers.CreateSpec{
		Name: "n", Env: []string{"A=1"}, User: "vscode", Labels: map[string]string{"l": "1"},
		RunArgs: []string{"--privileged", "--cap-add=SYS_PTRACE", "-e", "B=2", "--env=C=3", "-eD=4",
			"-e", "MOCHI_LXC_HOST_VAR", "-e", "MOCHI_LXC_UNSET_VAR", "--hostname", "h", "-v", "/src:/dst:ro",
			"-v", "named:/named", "--volume=/anon", "-p", "3000:3000", "-l", "x=y", "--user=root", "--init",
			"--security-opt", "seccomp=unconfined", "--name", "renamed"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"name": s.name, "env": s.env, "user": s.user, "hostname": s.hostname, "privileged": s.privileged,
		"capAdd": s.capAdd, "mounts": s.mounts, "ports": s.ports, "labels": s.labels,
	}
	want := map[string]any{
		"name": "renamed", "env": []string{"A=1", "B=2", "C=3", "D=4", "MOCHI_LXC_HOST_VAR=from host"},
		"user": "root", "hostname": "h", "privileged": true, "capAdd": []string{"SYS_PTRACE"},
		"mounts": []providers.Mount{
			{Type: "bind", Source: "/src", Target: "/dst", ReadOnly: true},
			{Type: "volume", Source: "named", Target: "/named"},
			{Type: "volume", Target: "/anon"},
		},
		"ports": []string{"3000:3000"}, "labels": map[string]string{"l": "1", "x": "y"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestAddHost(t *testing.T) {
	s, err := newSettings(providers.CreateSpec{RunArgs: []string{
		"--add-host", "db.example:192.0.2.7", "--add-host=v6.example:2001:db8::1", "--add-host", "gw.example=host-gateway"}})
	if err != nil {
		t.Fatal(err)
	}
	got := hostsFile("10.0.3.200", "ws", s.extraHosts, "10.0.3.1")
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n" +
		"10.0.3.200\tws\n" +
		"192.0.2.7\tdb.example\n2001:db8::1\tv6.example\n10.0.3.1\tgw.example\n"
	if got != want {
		t.Errorf("hosts file:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range []string{"nohost", "name:not-an-ip", ":192.0.2.1"} {
		if _, err := newSettings(providers.CreateSpec{RunArgs: []string{"--add-host", bad}}); err == nil || !strings.Contains(err.Error(), "--add-host "+bad) {
			t.Errorf("--add-host %s: error %v, want one naming it", bad, err)
		}
	}
}

func TestRunArgsRefused(t *testing.T) {
	for _, tc := range []struct {
		spec providers.CreateSpec
		want string
	}{
		{providers.CreateSpec{RunArgs: []string{"--network", "host", "-e", "A=1", "--ipc=host"}},
			"unsupported: runArgs --network host --ipc=host have no meaning for the lxc provider"},
		{providers.CreateSpec{RunArgs: []string{"-e"}}, "runArgs: -e needs a value"},
		{providers.CreateSpec{RunArgs: []string{"-v", "/a:/b:shared"}}, `option "shared" is not supported`},
		{providers.CreateSpec{RunArgs: []string{"-v", "/a:rel"}}, "the target must be an absolute path"},
		{providers.CreateSpec{SecurityOpt: []string{"no-new-privileges"}}, `security option "no-new-privileges"`},
		{providers.CreateSpec{GPUs: true}, "GPUs"},
	} {
		_, err := newSettings(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("newSettings(%+v) error = %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
	if _, err := newSettings(providers.CreateSpec{RunArgs: []string{"--pid=host"}}); !errors.Is(err, providers.ErrUnsupported) {
		t.Errorf("refused run arg: %v, want ErrUnsupported", err)
	}
}

func TestParsePorts(t *testing.T) {
	got, err := parsePorts([]string{"8080", "127.0.0.1::9000", "3000:3001/tcp", "10.0.0.1:80:81"})
	if err != nil {
		t.Fatal(err)
	}
	want := []portMap{
		{HostIP: "0.0.0.0", ContainerPort: 8080, Proto: "tcp"},
		{HostIP: "127.0.0.1", ContainerPort: 9000, Proto: "tcp"},
		{HostIP: "0.0.0.0", HostPort: 3000, ContainerPort: 3001, Proto: "tcp", Fixed: true},
		{HostIP: "10.0.0.1", HostPort: 80, ContainerPort: 81, Proto: "tcp", Fixed: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"53/udp", "a:b:c:d", "x", "3000-3005:3000", "999999"} {
		if _, err := parsePorts([]string{bad}); err == nil {
			t.Errorf("parsePorts(%q) succeeded", bad)
		}
	}
}

// TestConfigGolden renders a config with every kind of entry; refresh with -update.
func TestConfigGolden(t *testing.T) {
	entries, err := mountEntries([]providers.Mount{
		{Type: "bind", Source: "/home/me/my project", Target: "/workspaces/my project"},
		{Type: "volume", Source: "vol", Target: "/data", ReadOnly: true},
		{Type: "tmpfs", Target: "/tmp/x"},
		{Type: "bind", Source: "/etc/hosts.src", Target: "/etc/extra"},
		{Type: "bind", Source: "/nested", Target: "/workspaces/my project/nested"},
	}, func(m providers.Mount) (string, bool, error) {
		if m.Type == "volume" {
			return "/state/volumes/" + m.Source + "/_data", false, nil
		}
		return m.Source, strings.HasSuffix(m.Source, ".src"), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &lxcConfig{
		rootfs: "overlay:/state/images/sha256-abc/rootfs:/state/containers/ws/delta", hostname: "ws",
		bridge: "lxcbr0", address: "10.0.3.254/24 10.0.3.255", gateway: "10.0.3.1",
		env: []string{"PATH=/usr/bin:/bin", "GREETING=hello world"}, uid: 1000, gid: 1000, cwd: "/workspaces",
		mounts: entries, capAdd: []string{"CAP_SYS_TIME", "NET_ADMIN"}, consoleLog: "/state/containers/ws/console.log",
	}
	got, err := cfg.render()
	if err != nil {
		t.Fatal(err)
	}
	cfg.privileged = true
	priv, err := cfg.render()
	if err != nil {
		t.Fatal(err)
	}
	got += "# --- privileged ---\n" + priv
	golden := filepath.Join("testdata", "config.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("config (-golden +got):\n%s", diff)
	}
	cfg.env = []string{"BAD=line\nbreak"}
	if _, err := cfg.render(); err == nil || !strings.Contains(err.Error(), "BAD") {
		t.Errorf("env with a line break: %v", err)
	}
}

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nvscode:x:1000:1001::/home/vscode:/bin/bash\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\ndocker:x:999:vscode\n"), 0o644)
	for _, tc := range []struct {
		spec string
		want account
	}{
		{"", account{0, 0, "/root"}},
		{"vscode", account{1000, 1001, "/home/vscode"}},
		{"1000", account{1000, 1001, "/home/vscode"}},
		{"vscode:docker", account{1000, 999, "/home/vscode"}},
		{"4242:4343", account{4242, 4343, "/"}},
	} {
		got, err := resolveUser(root, tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("resolveUser(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
	for _, bad := range []string{"nobody", "vscode:nogroup"} {
		if _, err := resolveUser(root, bad); err == nil {
			t.Errorf("resolveUser(%q) succeeded", bad)
		}
	}
}

func TestCRCollapser(t *testing.T) {
	var out bytes.Buffer
	c := &crCollapser{w: &out}
	for _, chunk := range []string{"one\r", "\r\ntwo\r\r", "\n\rthree\r\n", "x\r"} {
		c.Write([]byte(chunk))
	}
	c.flush()
	if want := "one\r\ntwo\r\n\rthree\r\nx\r"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "A=1"}, []string{"B=2", "PATH=/usr/bin"}, []string{"A=3"})
	if diff := cmp.Diff([]string{"PATH=/usr/bin", "A=3", "B=2"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestNetworkHelpers(t *testing.T) {
	_, n, _ := net.ParseCIDR("10.0.3.0/24")
	if b := broadcast(n); b != "10.0.3.255" {
		t.Errorf("broadcast = %s", b)
	}
	for name, want := range map[string]string{"mochi-ws_1.x": "mochi-ws-1-x", "--": "mochi", strings.Repeat("a", 70): strings.Repeat("a", 63)} {
		if got := hostnameFor(name); got != want {
			t.Errorf("hostnameFor(%q) = %q, want %q", name, got, want)
		}
	}
}

// Providers with different state folders share the host's bridge: an address claimed by one
// is never handed out by the other until its container is gone.
func TestAddressClaims(t *testing.T) {
	addrs := t.TempDir()
	_, network, _ := net.ParseCIDR("10.0.3.0/24")
	bridgeIP := net.ParseIP("10.0.3.1")
	newP := func() *Provider {
		p, err := New(Options{StateDir: t.TempDir(), AddressDir: addrs, Bridge: "mochitest0"})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.ensureDirs(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// own makes a container folder with a record holding the allocated address.
	own := func(p *Provider, name string) string {
		t.Helper()
		dir := p.dir(name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		ip, err := p.allocateIP(bridgeIP, network, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.save(&record{Name: name, IP: ip}); err != nil {
			t.Fatal(err)
		}
		return ip
	}
	a, b := newP(), newP()
	ipA := own(a, "one")
	ipB := own(b, "two")
	if ipA != "10.0.3.254" || ipB != "10.0.3.253" {
		t.Errorf("addresses %s and %s, want 10.0.3.254 and 10.0.3.253", ipA, ipB)
	}
	// Addresses are handed out in turn: a released one is not reused at once.
	b.releaseIP(ipB, b.dir("two"))
	os.RemoveAll(b.dir("two"))
	if ip := own(b, "two-again"); ip != "10.0.3.252" {
		t.Errorf("address after a release = %s, want the next one down, 10.0.3.252", ip)
	}
	// The search wraps around below the lowest address, and a container removed without
	// releasing its claim (a crash) leaves a stale claim that is reused.
	os.WriteFile(filepath.Join(addrs, "mochitest0.last"), []byte("10.0.3.1\n"), 0o600)
	os.RemoveAll(a.dir("one"))
	if ip := own(b, "three"); ip != ipA {
		t.Errorf("address after the owner vanished = %s, want the stale %s", ip, ipA)
	}
	if _, err := os.Stat(b.claimFile(ipB)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("claim of %s kept after release: %v", ipB, err)
	}
}

func TestParseStatePID(t *testing.T) {
	for _, tc := range []struct {
		out   string
		state string
		pid   int
	}{
		{"State:          RUNNING\nPID:            8185\n", "RUNNING", 8185},
		{"State:          STOPPED\n", "STOPPED", 0},
		{"RUNNING\n42\n", "RUNNING", 42},
		{"STOPPED\n", "STOPPED", 0},
	} {
		st, pid, err := parseStatePID(tc.out)
		if err != nil || st != tc.state || pid != tc.pid {
			t.Errorf("parseStatePID(%q) = %q, %d, %v; want %q, %d", tc.out, st, pid, err, tc.state, tc.pid)
		}
	}
	for _, bad := range []string{"", "PID: x\n"} {
		if _, _, err := parseStatePID(bad); err == nil {
			t.Errorf("parseStatePID(%q) succeeded", bad)
		}
	}
}
