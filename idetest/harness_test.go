package idetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// mochiBin is the binary the tests run: $MOCHI_BIN (the Makefile builds it), else one built
// by TestMain.
var mochiBin string

func TestMain(m *testing.M) {
	code := func() int {
		mochiBin = os.Getenv("MOCHI_BIN")
		if mochiBin == "" || !fileExists(mochiBin) {
			dir, err := os.MkdirTemp("", "idetest-bin")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			mochiBin = filepath.Join(dir, "mochi")
			cmd := exec.Command("go", "build", "-o", mochiBin, "../cmd/mochi")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "build mochi: %v\n%s", err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// requireDocker skips unless the Docker engine is wanted, and checks the clients the tests use.
func requireDocker(t *testing.T, tools ...string) {
	t.Helper()
	testenv.RequireEngine(t, "docker", func() error {
		for _, tool := range append([]string{"docker", "ssh", "scp"}, tools...) {
			if _, err := exec.LookPath(tool); err != nil {
				return err
			}
		}
		return nil
	})
}

// harness is one mochi installation: its own HOME, MOCHI_HOME and gateway port.
type harness struct {
	t         *testing.T
	home      string
	mochiHome string
	env       []string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, home: t.TempDir(), mochiHome: filepath.Join(t.TempDir(), "m")}
	if err := os.MkdirAll(h.mochiHome, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	if err := os.WriteFile(filepath.Join(h.mochiHome, "server.addr"), []byte(addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.env = append(os.Environ(), "HOME="+h.home, "MOCHI_HOME="+h.mochiHome, "MOCHI_NO_SERVER=")
	t.Cleanup(func() { h.run(time.Minute, mochiBin, "server", "stop") })
	return h
}

// result is what a command did.
type result struct {
	out, err string
	code     int
}

// run runs a command in the harness's environment; a command that cannot start fails the test.
func (h *harness) run(timeout time.Duration, name string, args ...string) result {
	h.t.Helper()
	return h.runIn(timeout, nil, name, args...)
}

func (h *harness) runIn(timeout time.Duration, stdin []byte, name string, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = h.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("%s %v: %v", name, args, err)
	}
	return result{out.String(), errb.String(), code}
}

// sshConfig is the ssh_config mochi up writes.
func (h *harness) sshConfig() string { return filepath.Join(h.mochiHome, "ssh_config") }

// ssh runs a command in workspace name through the gateway.
func (h *harness) ssh(name, command string) result {
	h.t.Helper()
	return h.run(2*time.Minute, "ssh", "-F", h.sshConfig(), name+".mochi", command)
}

// up brings up the workspace in folder ws, returns its name and downs it at cleanup.
func (h *harness) up(ws string) string {
	h.t.Helper()
	h.t.Cleanup(func() { h.run(2*time.Minute, mochiBin, "down", "--workspace-folder", ws) })
	r := h.run(10*time.Minute, mochiBin, "up", "--workspace-folder", ws)
	var res struct{ Outcome, Workspace string }
	if r.code != 0 || json.Unmarshal([]byte(r.out), &res) != nil || res.Outcome != "success" || res.Workspace == "" {
		h.t.Fatalf("mochi up %s = %q (exit %d)\n%s", ws, r.out, r.code, r.err)
	}
	return res.Workspace
}

// newWorkspace writes files (paths relative to the workspace folder) into a fresh folder
// named name and returns its path.
func newWorkspace(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), name)
	for p, data := range files {
		full := filepath.Join(ws, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// freePort returns a TCP port free on 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func runQuiet(name string, args ...string) error {
	_, err := runOutput(name, args...)
	return err
}

// runOutput runs a command outside any harness and returns its standard output.
func runOutput(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %w: %s", name, args, err, errb.String())
	}
	return string(out), nil
}
