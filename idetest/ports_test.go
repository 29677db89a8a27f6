package idetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// portState is the part of $MOCHI_HOME/ports/NAME.json the tests read.
type portState struct {
	Forwards []struct {
		Host      string `json:"host"`
		Port      int    `json:"port"`
		Origin    string `json:"origin"`
		LocalAddr string `json:"localAddr"`
		Error     string `json:"error"`
	} `json:"forwards"`
	Error string `json:"error"`
}

func (h *harness) ports(name string) portState {
	h.t.Helper()
	var st portState
	data, err := os.ReadFile(filepath.Join(h.mochiHome, "ports", name+".json"))
	if err == nil {
		_ = json.Unmarshal(data, &st)
	}
	return st
}

// waitForward waits until workspace port p is forwarded (or, with gone, no longer is) and
// returns its local address.
func (h *harness) waitForward(name string, p int, gone bool) string {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := h.ports(name)
		addr := ""
		for _, f := range st.Forwards {
			if f.Port == p && f.LocalAddr != "" {
				addr = f.LocalAddr
			}
		}
		if (addr != "") != gone {
			return addr
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("port %d: forwarded=%v after 30s, want %v; state %+v", p, addr != "", !gone, st)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// readLine connects to addr and returns the first line, or what ended the connection.
func readLine(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	line, _, _ := strings.Cut(string(b), "\n")
	return line, err
}

// waitListening waits until something listens on each port inside the workspace.
func (h *harness) waitListening(name string, ports ...int) {
	h.t.Helper()
	for _, p := range ports {
		script := fmt.Sprintf("for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/%d) 2>/dev/null && exit 0; sleep 0.1; done; exit 1", p)
		if r := h.run(time.Minute, "ssh", "-F", h.sshConfig(), name+".mochi", "bash", "-c", shellQuote(script)); r.code != 0 {
			procs := h.ssh(name, `ls -l /tmp; for p in /proc/[0-9]*; do echo "${p#/proc/} $(tr '\0' ' ' < $p/cmdline)"; done`)
			h.t.Fatalf("nothing listens on %d inside %s after 30s (exit %d): %s\nprocesses:\n%s", p, name, r.code, r.err, procs.out)
		}
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func serveCmd(port int, text string) string {
	return fmt.Sprintf("nohup perl /tmp/serve.pl %d %s >/dev/null 2>&1 </dev/null &", port, text)
}

// TestPortForwarding: forwardPorts served, a port that starts listening later forwarded by
// itself, onAutoForward ignore respected, a taken local port moved, forward/unforward by hand,
// a forward with no listener closing only its own connections.
func TestPortForwarding(t *testing.T) {
	requireDocker(t, "perl")
	t.Parallel()
	h := newHarness(t)
	// Workspace ports are picked free on this machine so that each forward can take the same
	// local port, except taken, whose local port this test holds.
	cfgPort, later, ignored, taken, none, manualLocal := freePort(t), freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)
	hold, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", taken))
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	serve, err := os.ReadFile("testdata/serve.pl")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{
	"image": "mochi-test/debian:bookworm",
	"runArgs": ["--label", "mochi.test=1"],
	"forwardPorts": [%d, %d, %d],
	"portsAttributes": {"%d": {"label": "ignored", "onAutoForward": "ignore"}},
	"postStartCommand": "cp ${containerWorkspaceFolder}/serve.pl /tmp/serve.pl && { %s %s }"
}`, cfgPort, taken, none, ignored, serveCmd(cfgPort, "config"), serveCmd(taken, "taken"))
	ws := newWorkspace(t, "ide-ports", map[string]string{".devcontainer/devcontainer.json": cfg, "serve.pl": string(serve)})
	name := h.up(ws)
	h.waitListening(name, cfgPort, taken)

	// forwardPorts: the same local port, served by the postStartCommand's listener.
	addr := h.waitForward(name, cfgPort, false)
	if addr != fmt.Sprintf("127.0.0.1:%d", cfgPort) {
		t.Errorf("forwardPorts %d forwarded at %s, want the same port", cfgPort, addr)
	}
	if got, err := readLine(addr); got != "config" {
		t.Errorf("forwardPorts %d read %q (%v), want config", cfgPort, got, err)
	}
	// Taken local port: another one, still reaching the workspace port.
	tAddr := h.waitForward(name, taken, false)
	if tAddr == fmt.Sprintf("127.0.0.1:%d", taken) {
		t.Errorf("port %d forwarded at its own local port, which this test holds", taken)
	}
	if got, err := readLine(tAddr); got != "taken" {
		t.Errorf("forward of %d at %s read %q (%v), want taken", taken, tAddr, got, err)
	}

	// Ports that start listening later: forwarded by themselves, unless ignored.
	if r := h.ssh(name, serveCmd(later, "later")+" "+serveCmd(ignored, "ignored")); r.code != 0 {
		t.Fatalf("start listeners: exit %d: %s", r.code, r.err)
	}
	h.waitListening(name, later, ignored)
	lAddr := h.waitForward(name, later, false)
	if got, err := readLine(lAddr); got != "later" {
		t.Errorf("auto forward of %d read %q (%v), want later", later, got, err)
	}
	for _, f := range h.ports(name).Forwards {
		if f.Port == later && f.Origin != "auto" {
			t.Errorf("port %d origin %q, want auto", later, f.Origin)
		}
		if f.Port == ignored {
			t.Errorf("port %d (onAutoForward ignore) forwarded: %+v", ignored, f)
		}
	}

	// By hand: forward the ignored port to a local port of our choice, then unforward it.
	if r := h.run(time.Minute, mochiBin, "ports", name, "forward", fmt.Sprintf("%d:%d", manualLocal, ignored)); r.code != 0 {
		t.Fatalf("ports forward: exit %d: %s", r.code, r.err)
	} else if !strings.Contains(r.out, fmt.Sprintf("127.0.0.1:%d", manualLocal)) {
		t.Errorf("ports forward printed %q, want the new forward listed", r.out)
	}
	mAddr := fmt.Sprintf("127.0.0.1:%d", manualLocal)
	if got, err := readLine(mAddr); got != "ignored" {
		t.Errorf("manual forward read %q (%v), want ignored", got, err)
	}
	if r := h.run(time.Minute, mochiBin, "ports", name, "unforward", fmt.Sprint(ignored)); r.code != 0 {
		t.Fatalf("ports unforward: exit %d: %s", r.code, r.err)
	}
	h.waitForward(name, ignored, true)
	if c, err := net.DialTimeout("tcp", mAddr, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after unforward", mAddr)
	}

	// No listener behind a forward: the connection is closed, nothing else is affected.
	nAddr := h.waitForward(name, none, false)
	for i := 0; i < 3; i++ {
		if got, err := readLine(nAddr); got != "" || err != nil {
			t.Errorf("forward with no listener read %q (%v), want the connection closed", got, err)
		}
	}
	for _, a := range []string{addr, lAddr} {
		if got, err := readLine(a); got == "" {
			t.Errorf("%s after the failed dials read nothing (%v)", a, err)
		}
	}
	if r := h.ssh(name, "echo alive"); r.out != "alive\n" {
		t.Errorf("ssh after the failed dials = %q (exit %d)", r.out, r.code)
	}
	if st := h.ports(name); st.Error != "" {
		t.Errorf("port state error %q", st.Error)
	}
}

// TestPortForwardingBadConfig: a forwardPorts entry out of range, or naming a compose service
// that does not exist, makes mochi up fail and say which entry.
func TestPortForwardingBadConfig(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	h := newHarness(t)
	compose := "services:\n  app:\n    image: mochi-test/debian:bookworm\n    command: sleep infinity\n    labels:\n      mochi.test: \"1\"\n"
	cases := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"range", map[string]string{".devcontainer/devcontainer.json": `{"image": "mochi-test/debian:bookworm", "runArgs": ["--label", "mochi.test=1"], "forwardPorts": [3000, 70000]}`}, []string{"70000"}},
		{"service", map[string]string{
			".devcontainer/devcontainer.json": `{"dockerComposeFile": "compose.yml", "service": "app", "workspaceFolder": "/w", "forwardPorts": ["db:5432"]}`,
			".devcontainer/compose.yml":       compose,
		}, []string{"db:5432", "db"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := newWorkspace(t, "ide-bad-"+c.name, c.files)
			t.Cleanup(func() { h.run(2*time.Minute, mochiBin, "down", "--workspace-folder", ws) })
			r := h.run(5*time.Minute, mochiBin, "up", "--workspace-folder", ws)
			if r.code == 0 {
				t.Fatalf("up succeeded: %s", r.out)
			}
			all := r.out + r.err
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("up error does not name %q:\n%s", w, all)
				}
			}
		})
	}
}
