package lxc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/lxc"
)

// run execs a shell script in id and returns its exit code and output.
func run(t *testing.T, p *lxc.Provider, id, script string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code, err := p.Exec(context.Background(), id, providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", script}, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("Exec(%q): %v", script, err)
	}
	return code, out.String()
}

func create(t *testing.T, p *lxc.Provider, spec providers.CreateSpec) *providers.Instance {
	t.Helper()
	if spec.Image == "" {
		spec.Image = testImage
	}
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	spec.Labels["mochi.test"] = "1"
	spec.Entrypoint = []string{"/bin/sh"}
	spec.Cmd = []string{"-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"}
	inst, err := p.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Remove(context.Background(), inst.ID, true); err != nil && !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return inst
}

// TestWorkspace checks what a devcontainer needs beyond the conformance suite: the workspace
// bind mount, volumes, the read-only agent, run args, DNS set-up, a working published port,
// changes kept across a restart, and removal of everything.
func TestWorkspace(t *testing.T) {
	p, state := newProvider(t)
	ctx := context.Background()
	ws := filepath.Join(t.TempDir(), "my project") // fstab escaping
	if err := os.Mkdir(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(t.TempDir(), "mochi")
	if err := os.WriteFile(agent, []byte("agent binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	inst := create(t, p, providers.CreateSpec{
		Name: "mochi-lxc-test-ws-" + time.Now().Format("150405.000"),
		Env:  []string{"FROM_SPEC=spec"},
		Mounts: []providers.Mount{
			{Type: "bind", Source: ws, Target: "/workspaces/project"},
			{Type: "volume", Source: "mochi-lxc-test-vol", Target: "/data"},
		},
		Ports:     []string{"127.0.0.1::8080"},
		RunArgs:   []string{"--hostname", "lxc-test-host", "-e", "FROM_RUNARGS=yes", "--cap-add=SYS_TIME", "--add-host", "db.example:192.0.2.9"},
		AgentPath: agent,
	})
	t.Cleanup(func() { os.RemoveAll(filepath.Join(state, "volumes", "mochi-lxc-test-vol")) })
	if err := p.Start(ctx, inst.ID); err != nil {
		t.Fatalf("Start: %v", err)
	}
	checks := []struct{ script, want string }{
		{"echo $FROM_SPEC $FROM_RUNARGS", "spec yes\n"},
		{"cat /etc/hostname; /bin/busybox hostname", "lxc-test-host\nlxc-test-host\n"},
		{"echo hello > /workspaces/project/from-container && echo ok", "ok\n"},
		{"cat " + providers.AgentTarget, "agent binary"},
		{"echo x 2>/dev/null > " + providers.AgentTarget + " || echo read-only", "read-only\n"},
		{"/bin/busybox grep -c nameserver /etc/resolv.conf", "1\n"},
		{"echo kept > /data/v && echo changed > /etc/changed && echo ok", "ok\n"},
		// What Docker gives a container too: POSIX shared memory, its /etc/hosts lines, and
		// no virtual consoles.
		{"echo x > /dev/shm/f && /bin/busybox grep -c ' /dev/shm tmpfs ' /proc/mounts", "1\n"},
		{"/bin/busybox grep -c -e ip6-allnodes -e lxc-test-host -e '^192.0.2.9\tdb.example$' /etc/hosts; ls /dev/tty1 2>&1 >/dev/null | wc -l", "3\n1\n"},
	}
	for _, c := range checks {
		if code, out := run(t, p, inst.ID, c.script); code != 0 || out != c.want {
			t.Errorf("%s: code %d output %q, want %q", c.script, code, out, c.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(ws, "from-container")); err != nil || string(b) != "hello\n" {
		t.Errorf("file written in the workspace mount: %q, %v", b, err)
	}

	// A published port reaches a server in the container.
	if code, out := run(t, p, inst.ID, "mkdir -p /www && echo served > /www/index.html && /bin/busybox httpd -p 8080 -h /www"); code != 0 {
		t.Fatalf("httpd: %d %s", code, out)
	}
	running, err := p.Inspect(ctx, inst.ID)
	if err != nil || len(running.Ports) != 1 {
		t.Fatalf("Inspect: %v, ports %v", err, running.Ports)
	}
	hostPort, _, _ := strings.Cut(running.Ports[0], "->")
	body := httpGet(t, "http://"+hostPort+"/index.html")
	if body != "served\n" {
		t.Errorf("GET through the published port = %q", body)
	}

	// Stop and start keep the container's changes.
	if err := p.Stop(ctx, inst.ID, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := p.Start(ctx, inst.ID); err != nil {
		t.Fatalf("Start again: %v", err)
	}
	if code, out := run(t, p, inst.ID, "cat /etc/changed /data/v"); code != 0 || out != "changed\nkept\n" {
		t.Errorf("after a restart: code %d output %q", code, out)
	}

	if err := p.Remove(ctx, inst.ID, true); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "containers", inst.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container folder left after Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "volumes", "mochi-lxc-test-vol", "_data", "v")); err != nil {
		t.Errorf("named volume gone after Remove: %v", err)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	var lastErr error
	for i := 0; i < 50; i++ { // httpd starts in the background
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

// --privileged keeps every capability of the host; a plain container loses LXC's default drops.
func TestPrivileged(t *testing.T) {
	p, _ := newProvider(t)
	ctx := context.Background()
	capBnd := func(spec providers.CreateSpec) string {
		inst := create(t, p, spec)
		if err := p.Start(ctx, inst.ID); err != nil {
			t.Fatalf("Start: %v", err)
		}
		_, out := run(t, p, inst.ID, "/bin/busybox grep CapBnd /proc/self/status")
		return strings.TrimSpace(out)
	}
	host, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var hostBnd string
	for _, l := range strings.Split(string(host), "\n") {
		if strings.HasPrefix(l, "CapBnd") {
			hostBnd = strings.TrimSpace(l)
		}
	}
	plain := capBnd(providers.CreateSpec{})
	priv := capBnd(providers.CreateSpec{RunArgs: []string{"--privileged"}})
	if priv != hostBnd {
		t.Errorf("privileged %q, want the host's %q", priv, hostBnd)
	}
	if plain == hostBnd || plain == "" {
		t.Errorf("plain container %q has the host's capabilities", plain)
	}
}

// A failed Create leaves nothing behind and says what was wrong.
func TestCreateErrors(t *testing.T) {
	p, state := newProvider(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		spec providers.CreateSpec
		want string
	}{
		{"unknown user", providers.CreateSpec{Image: testImage, User: "nosuchuser", Cmd: []string{"/bin/sh"}}, `user "nosuchuser"`},
		{"refused run args", providers.CreateSpec{Image: testImage, RunArgs: []string{"--network=host", "-e", "A=1", "--pid", "host"}}, "runArgs --network=host --pid host"},
		{"missing image", providers.CreateSpec{Image: "mochi-test/no-such-image:1"}, "not found"},
		{"missing agent", providers.CreateSpec{Image: testImage, Cmd: []string{"/bin/sh"}, AgentPath: "/nonexistent/mochi"}, "agent binary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Labels = map[string]string{"mochi.test": "1"}
			inst, err := p.Create(ctx, tc.spec)
			if err == nil {
				p.Remove(ctx, inst.ID, true)
				t.Fatal("Create succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
			entries, _ := os.ReadDir(filepath.Join(state, "containers"))
			for _, e := range entries {
				if e.IsDir() {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}

// Exec gives the process the environment asked for and nothing else, like `docker exec`:
// none of what lxc-attach or the working-folder script would add (container=lxc, PWD,
// OLDPWD, SHLVL), and / as the working folder unless another is asked for, whatever the
// caller's own is.
func TestExecEnvironment(t *testing.T) {
	p, _ := newProvider(t)
	ctx := context.Background()
	inst := create(t, p, providers.CreateSpec{Env: []string{"FROM_SPEC=1"}})
	if err := p.Start(ctx, inst.ID); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Chdir("/bin") // a folder that also exists in the container
	for _, tc := range []struct {
		spec providers.ExecSpec
		want string
	}{
		{providers.ExecSpec{Cmd: []string{"/bin/busybox", "env"}},
			"FROM_SPEC=1\nHOME=/\nHOSTNAME=" + inst.Name + "\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"},
		{providers.ExecSpec{Cmd: []string{"/bin/busybox", "env"}, WorkDir: "/etc", Env: []string{"SHLVL=1", "PWD=/given"}},
			"FROM_SPEC=1\nHOME=/\nHOSTNAME=" + inst.Name + "\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/given\nSHLVL=1\n"},
		{providers.ExecSpec{Cmd: []string{"/bin/busybox", "pwd"}}, "/\n"},
		{providers.ExecSpec{Cmd: []string{"/bin/busybox", "pwd"}, WorkDir: "/etc"}, "/etc\n"},
	} {
		var out, errb bytes.Buffer
		tc.spec.Stdout, tc.spec.Stderr = &out, &errb
		code, err := p.Exec(ctx, inst.ID, tc.spec)
		got := out.String()
		if tc.spec.Cmd[1] == "env" {
			lines := strings.Split(strings.TrimSpace(got), "\n")
			slices.Sort(lines)
			got = strings.Join(lines, "\n") + "\n"
		}
		if err != nil || code != 0 || got != tc.want {
			t.Errorf("Exec(%v in %q): code %d, err %v, stderr %q, output:\n%s\nwant:\n%s", tc.spec.Cmd, tc.spec.WorkDir, code, err, errb.String(), got, tc.want)
		}
	}
}

// Stop falls back to SIGKILL when the init ignores SIGTERM, and the container starts again.
func TestStopIgnoringTERM(t *testing.T) {
	p, _ := newProvider(t)
	ctx := context.Background()
	inst := create(t, p, providers.CreateSpec{})
	spec := providers.CreateSpec{Image: testImage, Labels: map[string]string{"mochi.test": "1"},
		Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "trap '' TERM; while :; do sleep 1; done"}}
	deaf, err := p.Create(ctx, spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { p.Remove(context.Background(), deaf.ID, true) })
	for _, id := range []string{inst.ID, deaf.ID} {
		if err := p.Start(ctx, id); err != nil {
			t.Fatalf("Start %s: %v", id, err)
		}
		if err := p.Stop(ctx, id, time.Second); err != nil {
			t.Fatalf("Stop %s: %v", id, err)
		}
		if got, err := p.Inspect(ctx, id); err != nil || got.State != providers.StateStopped {
			t.Fatalf("after Stop: %v, %v", got, err)
		}
		if err := p.Start(ctx, id); err != nil {
			t.Fatalf("Start %s again: %v", id, err)
		}
		if code, out := run(t, p, id, "echo up"); code != 0 || out != "up\n" {
			t.Errorf("exec after the restart: %d %q", code, out)
		}
	}
}

// A container whose LXC config is broken is still removed.
func TestRemoveBroken(t *testing.T) {
	p, state := newProvider(t)
	ctx := context.Background()
	inst := create(t, p, providers.CreateSpec{})
	if err := os.Remove(filepath.Join(state, "containers", inst.Name, "config")); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(ctx, inst.ID, true); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "containers", inst.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container folder left after Remove: %v", err)
	}
}
