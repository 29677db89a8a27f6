package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// listEntry is one line of `mochi list --json`.
type listEntry struct {
	ContainerID string `json:"containerId"`
	State       string `json:"state"`
	Folder      string `json:"folder"`
}

// listState returns the state `mochi list --json` reports for ws ("" when not listed).
func listState(t *testing.T, e *env, ws string) string {
	t.Helper()
	r := e.run("list", "--json")
	var entries []listEntry
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &entries); err != nil || r.code != 0 {
		t.Errorf("mochi list --json: exit %d, %q: %v", r.code, r.stdout, err)
		return ""
	}
	for _, en := range entries {
		if en.Folder == ws {
			return en.State
		}
	}
	return ""
}

// longSession starts `sleep 120` in a new session and returns a channel that receives the
// session's end.
func longSession(t *testing.T, c *ssh.Client) <-chan error {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	if err := s.Start("sleep 120"); err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	return done
}

func waitEnd(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Logf("%s: the connected session ended (%v)", what, err)
	case <-time.After(60 * time.Second):
		t.Errorf("%s: the connected session is still open after 60s", what)
	}
}

// writeData writes a unique line into the workspace folder through the gateway and returns it.
func writeData(t *testing.T, g *gw, name, ws string) string {
	t.Helper()
	c, err := g.dial(name)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	defer c.Close()
	line := fmt.Sprintf("data-%d", rand.Uint64())
	if out, err := sshRun(c, fmt.Sprintf("echo %s >> /workspaces/%s/data.txt && sync", line, filepath.Base(ws))); err != nil {
		t.Fatalf("write data: %q %v", out, err)
	}
	return line
}

func checkData(t *testing.T, g *gw, name, ws string, lines []string) {
	t.Helper()
	host, err := os.ReadFile(filepath.Join(ws, "data.txt"))
	if err != nil {
		t.Fatalf("data on the host: %v", err)
	}
	c, err := g.dial(name)
	if err != nil {
		t.Fatalf("reconnect to %s: %v", name, err)
	}
	defer c.Close()
	inside, err := sshRun(c, fmt.Sprintf("cat /workspaces/%s/data.txt", filepath.Base(ws)))
	if err != nil {
		t.Fatalf("read data through the gateway: %v", err)
	}
	for _, l := range lines {
		if !strings.Contains(string(host), l) || !strings.Contains(inside, l) {
			t.Errorf("data line %s lost (host %q, container %q)", l, host, inside)
		}
	}
}

// TestReliabilityContainerKilledFromOutside kills a workspace container with the engine
// while a session is connected: the session ends, `mochi list` reports the container as not
// running, `mochi up` brings the same container back, the gateway serves it again and the
// workspace folder's data is intact.
func TestReliabilityContainerKilledFromOutside(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	g := withGateway(t, e)
	ws := e.workspace(cli, "killed", `{"image": "`+workspaceImage+`", "postStartCommand": "echo started $(date +%s%N) >> /workspaces/killed/.starts"}`)
	res := g.up(t, ws)
	data := []string{writeData(t, g, res.Workspace, ws)}
	c, err := g.dial(res.Workspace)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := longSession(t, c)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cli.ContainerKill(ctx, res.ContainerID, "KILL"); err != nil {
		t.Fatalf("kill container: %v", err)
	}
	waitEnd(t, "container killed", done)
	stateKilled := listState(t, e, ws)
	t.Logf("mochi list after the kill: state %q", stateKilled)

	// A new connection to the stopped workspace fails promptly instead of hanging.
	t0 := time.Now()
	if c2, err := g.dial(res.Workspace); err == nil {
		_, err = sshRun(c2, "true")
		c2.Close()
		if err == nil {
			t.Errorf("exec in a killed workspace succeeded")
		} else {
			t.Logf("exec in the killed workspace refused after %v: %v", time.Since(t0).Round(time.Millisecond), err)
		}
	} else {
		t.Logf("connection to the killed workspace refused after %v: %v", time.Since(t0).Round(time.Millisecond), err)
	}

	res2 := g.up(t, ws)
	if res2.ContainerID != res.ContainerID {
		t.Errorf("up after the kill made container %.12s instead of restarting %.12s", res2.ContainerID, res.ContainerID)
	}
	if cs := containersOf(t, cli, ws); len(cs) != 1 || cs[0].State != "running" {
		t.Errorf("after up: %d containers, first %+v", len(cs), cs)
	}
	data = append(data, writeData(t, g, res2.Workspace, ws))
	checkData(t, g, res2.Workspace, ws, data)
	starts, _ := os.ReadFile(filepath.Join(ws, ".starts"))
	if n := countLines(string(starts), "started "); n != 2 {
		t.Errorf("postStartCommand ran %d times over two starts:\n%s", n, starts)
	}
	stateUp := listState(t, e, ws)
	knownBug(t, stateKilled == "" && stateUp == "", "`mochi list --json` lists no workspace at all (the label filter devcontainer.local_folder= matches only an empty value)")
	if stateKilled == "running" || stateKilled == "" {
		t.Errorf("mochi list after the kill reports %q, want a stopped state", stateKilled)
	}
	if stateUp != "running" {
		t.Errorf("mochi list after up reports %q, want running", stateUp)
	}
}

// TestReliabilityGatewayRestart stops the gateway while sessions are connected: the sessions
// end, `mochi server status` says it is stopped, `mochi up` starts it again, clients
// reconnect and the workspace's data is intact.
func TestReliabilityGatewayRestart(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	g := withGateway(t, e)
	ws := e.workspace(cli, "gwrestart", `{"image": "`+workspaceImage+`"}`)
	res := g.up(t, ws)
	data := []string{writeData(t, g, res.Workspace, ws)}
	var ends []<-chan error
	for range 3 {
		c, err := g.dial(res.Workspace)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ends = append(ends, longSession(t, c))
	}
	if r := e.run("server", "stop"); r.code != 0 || strings.TrimSpace(r.stdout) != "stopped" {
		t.Fatalf("server stop: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	for i, d := range ends {
		waitEnd(t, fmt.Sprintf("gateway stopped, session %d", i), d)
	}
	if r := e.run("server", "status"); strings.Contains(r.stdout, "running") {
		t.Errorf("server status after stop: %q", r.stdout)
	}
	if _, err := g.dial(res.Workspace); err == nil {
		t.Errorf("a connection succeeded while the gateway is stopped")
	}
	// The workspace itself kept running.
	if cs := containersOf(t, cli, ws); len(cs) != 1 || cs[0].State != "running" {
		t.Errorf("workspace after the gateway stop: %+v", cs)
	}
	res2 := g.up(t, ws)
	if res2.ContainerID != res.ContainerID {
		t.Errorf("up after the gateway restart moved to container %.12s", res2.ContainerID)
	}
	if r := e.run("server", "status"); !strings.Contains(r.stdout, "running") {
		t.Errorf("server status after up: %q", r.stdout)
	}
	data = append(data, writeData(t, g, res2.Workspace, ws))
	checkData(t, g, res2.Workspace, ws, data)
}
