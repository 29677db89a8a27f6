package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// buildMochi builds a static mochi binary for end-to-end tests.
func buildMochi(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mochi")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build mochi: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestGatewayEndToEnd: mochi up makes the workspace reachable as NAME.mochi through the
// gateway it starts, with the user's key and the ssh config written for it; down removes it.
func TestGatewayEndToEnd(t *testing.T) {
	testenv.RequireEngine(t, "docker", func() error { _, err := exec.LookPath("ssh"); return err })
	bin := buildMochi(t)
	home, mochiHome, ws := t.TempDir(), filepath.Join(t.TempDir(), "m"), filepath.Join(t.TempDir(), "gw-e2e")
	if err := os.MkdirAll(filepath.Join(ws, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"image": "mochi-test/debian:bookworm", "remoteEnv": {"GREETING": "hello from ${containerWorkspaceFolder}"}}`
	if err := os.WriteFile(filepath.Join(ws, ".devcontainer", "devcontainer.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(mochiHome, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	if err := os.WriteFile(filepath.Join(mochiHome, "server.addr"), []byte(addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "HOME="+home, "MOCHI_HOME="+mochiHome, "MOCHI_NO_SERVER=")
	run := func(name string, args ...string) (string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		if code != 0 {
			t.Logf("%s %v exited %d; stderr:\n%s", name, args, code, errb.String())
		}
		return out.String(), code
	}
	t.Cleanup(func() {
		run(bin, "down", "--workspace-folder", ws)
		run(bin, "server", "stop")
	})

	out, code := run(bin, "up", "--workspace-folder", ws)
	var res struct{ Outcome, Workspace string }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Outcome != "success" || res.Workspace != "gw-e2e" {
		t.Fatalf("up = %q (exit %d)", out, code)
	}
	sshConfig := filepath.Join(mochiHome, "ssh_config")
	include, _ := os.ReadFile(filepath.Join(home, ".ssh", "config"))
	if !strings.HasPrefix(string(include), "Include "+sshConfig+"\n") {
		t.Errorf("~/.ssh/config = %q, want the Include line first", include)
	}
	out, code = run("ssh", "-F", sshConfig, "gw-e2e.mochi", `echo "$GREETING"; pwd; exit 3`)
	if code != 3 || out != "hello from /workspaces/gw-e2e\n/workspaces/gw-e2e\n" {
		t.Errorf("ssh gw-e2e.mochi = %q (exit %d), want the remote env, the workspace folder and exit 3", out, code)
	}
	if out, code = run(bin, "ssh", "gw-e2e", "--", "echo", "via mochi ssh"); code != 0 || out != "via mochi ssh\n" {
		t.Errorf("mochi ssh = %q (exit %d)", out, code)
	}
	if out, code = run(bin, "server", "status"); code != 0 || !strings.Contains(out, "running") {
		t.Errorf("server status = %q (exit %d)", out, code)
	}
	if _, code = run(bin, "down", "--workspace-folder", ws); code != 0 {
		t.Fatalf("down failed")
	}
	if data, _ := os.ReadFile(sshConfig); strings.Contains(string(data), "gw-e2e.mochi") {
		t.Errorf("down left the ssh config entry:\n%s", data)
	}
}
