package idetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// remoteSSH is one `ssh -T [-D PORT] NAME.mochi bash` session as VS Code Remote-SSH keeps it
// open: the install script on stdin, its markers on stdout, the ssh process living on to carry
// the tunnel.
type remoteSSH struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startRemoteSSH starts ssh with extra options (e.g. -D 127.0.0.1:PORT) running bash.
func (h *harness) startRemoteSSH(name string, opts ...string) *remoteSSH {
	h.t.Helper()
	args := append([]string{"-T", "-F", h.sshConfig(), "-o", "ExitOnForwardFailure=yes"}, opts...)
	args = append(args, name+".mochi", "bash")
	r := &remoteSSH{cmd: exec.Command("ssh", args...), lines: make(chan string, 256), stderr: &syncBuffer{}}
	r.cmd.Env = h.env
	r.cmd.Stderr = r.stderr
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		h.t.Fatal(err)
	}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		h.t.Fatalf("ssh %v: %v", args, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	h.t.Cleanup(func() {
		r.stdin.Close()
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	})
	return r
}

// markers reads lines until "ID: end" and returns the key==value==pairs between "ID: start"
// and it, with everything read (for failure messages). A block between
// "ID:trigger_server_download" and "ID:trigger_server_download_end" calls download with its
// pairs (nil download: an error).
func (r *remoteSSH) markers(id string, timeout time.Duration, download func(map[string]string) error) (map[string]string, string, error) {
	var all strings.Builder
	got, trigger := map[string]string{}, map[string]string{}
	in, inTrigger := false, false
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				return nil, all.String(), fmt.Errorf("ssh closed its output before %q (stderr: %s)", id+": end", r.stderr.String())
			}
			all.WriteString(l + "\n")
			switch {
			case l == id+":trigger_server_download":
				inTrigger = true
			case l == id+":trigger_server_download_end":
				inTrigger = false
				if download == nil {
					return nil, all.String(), fmt.Errorf("the script asked for a server download: %v", trigger)
				}
				if err := download(trigger); err != nil {
					return nil, all.String(), err
				}
			case inTrigger:
				if k, v, ok := strings.Cut(l, "=="); ok && strings.HasSuffix(v, "==") {
					trigger[k] = strings.TrimSuffix(v, "==")
				}
			case l == id+": start":
				in = true
			case l == id+": end":
				return got, all.String(), nil
			case in:
				if k, v, ok := strings.Cut(l, "=="); ok && strings.HasSuffix(v, "==") {
					got[k] = strings.TrimSuffix(v, "==")
				}
			}
		case <-deadline:
			return nil, all.String(), fmt.Errorf("no %q after %s (stderr: %s)", id+": end", timeout, r.stderr.String())
		}
	}
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// installScript fills testdata/vscode-install.sh.
func installScript(t *testing.T, id, commit, listen string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/vscode-install.sh")
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer("__ID__", id, "__COMMIT__", commit, "__LISTEN__", listen).Replace(string(data))
}

// artifactDir is where screenshots are kept after the test: $MOCHI_IDE_ARTIFACTS, else a
// folder under the system temporary folder (printed in the log).
func artifactDir(t *testing.T) string {
	t.Helper()
	d := os.Getenv("MOCHI_IDE_ARTIFACTS")
	if d == "" {
		d = filepath.Join(os.TempDir(), "mochi-idetest")
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// workbenchReport is what testdata/workbench.js prints.
type workbenchReport struct {
	Status         int
	Parts          map[string]bool
	ExplorerRows   []string
	Title          string
	WaitError      string
	Loads          int // page loads: more than one when network changes cut one
	NetworkChanges int
	Console        []string
	Screenshot     string
}

// loadWorkbench opens url in headless Chromium (through the SOCKS proxy on socksPort when not
// 0) and returns the report.
func loadWorkbench(t *testing.T, c ideCache, url, shot string, socksPort int) workbenchReport {
	t.Helper()
	args := []string{"testdata/workbench.js", url, shot, t.TempDir()}
	if socksPort != 0 {
		args = append(args, strconv.Itoa(socksPort))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.node(), args...)
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_CORE="+c.playwright())
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("workbench.js: %v\n%s", err, errb.String())
	}
	var rep workbenchReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("workbench.js report %q: %v", out, err)
	}
	return rep
}

// checkWorkbench judges a workbench report: the page loaded, the workbench and its main parts
// are visible, and the explorer lists the workspace folder's content (read from the remote).
func checkWorkbench(t *testing.T, rep workbenchReport) {
	t.Helper()
	t.Logf("workbench: status %d, title %q, parts %v, explorer %q, screenshot %s", rep.Status, rep.Title, rep.Parts, rep.ExplorerRows, rep.Screenshot)
	if rep.Status != 200 {
		t.Errorf("workbench page status %d, want 200", rep.Status)
	}
	if rep.Loads > 1 {
		t.Logf("the page was loaded %d times: %d requests cut by host network changes (other tests' containers)", rep.Loads, rep.NetworkChanges)
	}
	if rep.WaitError != "" {
		t.Errorf("workbench did not render: %s (console errors: %q)", rep.WaitError, rep.Console)
	}
	for _, p := range []string{".monaco-workbench", ".part.activitybar", ".part.sidebar", ".part.editor", ".part.statusbar"} {
		if !rep.Parts[p] {
			t.Errorf("workbench part %s not visible", p)
		}
	}
	if !strings.Contains(strings.Join(rep.ExplorerRows, "\n"), ".devcontainer") {
		t.Errorf("explorer rows %q do not list the workspace's .devcontainer folder", rep.ExplorerRows)
	}
}

// checkServer checks the VS Code server at hostport over dial: the workbench page needs the
// connection token (with ?tkn= it sets the vscode-tkn cookie and serves the page; without,
// 403), and the WebSocket upgrade the workbench makes is accepted (101). The server checks the
// token of a WebSocket in its first protocol message, not at the upgrade; the browser step
// goes through that.
func checkServer(t *testing.T, dial dialFunc, hostport, token string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code, body, cookies, err := httpGet(ctx, dial, "http://"+hostport+"/?tkn="+token)
	if err != nil || code != 200 || !strings.Contains(body, "workbench") {
		t.Errorf("GET /?tkn=TOKEN = %d, %d bytes (%v), want 200 with the workbench page", code, len(body), err)
	}
	cookie := ""
	for _, c := range cookies {
		if c.Name == "vscode-tkn" {
			cookie = c.Value
		}
	}
	if cookie != token {
		t.Errorf("cookies after GET /?tkn=TOKEN: %v, want vscode-tkn=TOKEN", cookies)
	}
	if code, _, _, err := httpGet(ctx, dial, "http://"+hostport+"/"); err != nil || code != 403 {
		t.Errorf("GET / without the token = %d (%v), want 403", code, err)
	}
	if code, _, _, err := httpGet(ctx, dial, "http://"+hostport+"/?tkn=not-the-token"); err != nil || code != 403 {
		t.Errorf("GET / with a wrong token = %d (%v), want 403", code, err)
	}
	if code, err := wsUpgrade(ctx, dial, hostport, token); err != nil || code != 101 {
		t.Errorf("WebSocket upgrade with the token = %d (%v), want 101", code, err)
	}
}

// TestVSCodeRemoteSSH does what VS Code Remote-SSH does against NAME.mochi: the server tarball
// copied from this side (no internet needed inside), the install script over `ssh -T -D PORT
// NAME.mochi bash`, markers parsed, the server reached through the SOCKS tunnel (page, token,
// WebSocket) and the workbench rendered in headless Chromium through it; then the same with the
// server on a unix socket reached by `ssh -L PORT:/path`.
func TestVSCodeRemoteSSH(t *testing.T) {
	requireDocker(t)
	t.Parallel()
	c := requireCache(t)
	h := newHarness(t)
	ws := newWorkspace(t, "ide-vscode", map[string]string{
		".devcontainer/devcontainer.json": `{"image": "mochi-test/debian:bookworm", "runArgs": ["--label", "mochi.test=1"]}`,
		"hello.txt":                       "hello\n",
	})
	name := h.up(ws)
	commit := c.commit(t)
	shots := artifactDir(t)

	start := time.Now()
	tarball := c.serverTarball(t)
	t.Logf("server tarball %s ready in %s", tarball, time.Since(start).Round(time.Millisecond))
	// Local server download: the client copies the tarball and its .done flag with scp into
	// the folder the script names, as Remote-SSH does with remote.SSH.localServerDownload.
	downloads := 0
	download := func(m map[string]string) error {
		downloads++
		if m["artifact"] != "server-linux-x64" || m["destFolder"] == "" || m["destFile"] == "" {
			return fmt.Errorf("server download markers %v, want artifact server-linux-x64, destFolder, destFile", m)
		}
		start := time.Now()
		done := filepath.Join(t.TempDir(), m["destFile"]+".done")
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			return err
		}
		dest := name + ".mochi:" + m["destFolder"] + "/"
		// The tarball first, then the flag the script waits for.
		for _, f := range []string{tarball, done} {
			target := dest
			if f == tarball {
				target += m["destFile"]
			}
			if r := h.run(5*time.Minute, "scp", "-q", "-F", h.sshConfig(), f, target); r.code != 0 {
				return fmt.Errorf("scp %s %s: exit %d: %s", f, target, r.code, r.err)
			}
		}
		t.Logf("scp of the server tarball took %s", time.Since(start).Round(time.Millisecond))
		return nil
	}

	t.Run("tcp-socks", func(t *testing.T) {
		socks := freePort(t)
		start := time.Now()
		rs := h.startRemoteSSH(name, "-D", fmt.Sprintf("127.0.0.1:%d", socks))
		id := randomID()
		if _, err := io.WriteString(rs.stdin, installScript(t, id, commit, "--port=0")); err != nil {
			t.Fatal(err)
		}
		m, all, err := rs.markers(id, 5*time.Minute, download)
		if err != nil {
			t.Fatalf("%v\n%s", err, all)
		}
		t.Logf("install script to markers: %s (server sent from here and unpacked)", time.Since(start).Round(time.Millisecond))
		if downloads != 1 {
			t.Errorf("the script asked for the server %d times, want once", downloads)
		}
		if m["exitCode"] != "0" || m["platform"] != "linux" || m["osReleaseId"] != "debian" || m["arch"] == "" || m["connectionToken"] == "" {
			t.Fatalf("markers %v, want exitCode 0 on linux/debian with a token\n%s", m, all)
		}
		port, err := strconv.Atoi(m["listeningOn"])
		if err != nil || port < 1 {
			t.Fatalf("listeningOn %q, want a port\n%s", m["listeningOn"], all)
		}
		hostport := fmt.Sprintf("127.0.0.1:%d", port)
		dial := socksDialer(fmt.Sprintf("127.0.0.1:%d", socks))
		checkServer(t, dial, hostport, m["connectionToken"])
		if t.Failed() {
			return
		}
		url := fmt.Sprintf("http://%s/?tkn=%s&folder=/workspaces/%s", hostport, m["connectionToken"], name)
		shot := filepath.Join(shots, "vscode-socks.png")
		checkWorkbench(t, loadWorkbench(t, c, url, shot, socks))
		t.Logf("screenshot: %s", shot)
	})

	t.Run("unix-socket", func(t *testing.T) {
		sock := "/tmp/vscode-" + randomID() + ".sock"
		start := time.Now()
		rs := h.startRemoteSSH(name)
		id := randomID()
		if _, err := io.WriteString(rs.stdin, installScript(t, id, commit, "--socket-path="+sock)); err != nil {
			t.Fatal(err)
		}
		m, all, err := rs.markers(id, 3*time.Minute, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, all)
		}
		t.Logf("install script to markers: %s (server already there)", time.Since(start).Round(time.Millisecond))
		if m["exitCode"] != "0" || m["listeningOn"] != sock {
			t.Fatalf("markers %v, want exitCode 0 listening on %s\n%s", m, sock, all)
		}
		local := freePort(t)
		fwd := h.startRemoteSSH(name, "-N", "-L", fmt.Sprintf("127.0.0.1:%d:%s", local, sock))
		hostport := fmt.Sprintf("127.0.0.1:%d", local)
		if err := waitDial(hostport, fwd); err != nil {
			t.Fatal(err)
		}
		var d net.Dialer
		checkServer(t, d.DialContext, hostport, m["connectionToken"])
		if t.Failed() {
			return
		}
		url := fmt.Sprintf("http://%s/?tkn=%s&folder=/workspaces/%s", hostport, m["connectionToken"], name)
		shot := filepath.Join(shots, "vscode-unix-socket.png")
		checkWorkbench(t, loadWorkbench(t, c, url, shot, 0))
		t.Logf("screenshot: %s", shot)
	})
}

// waitDial waits until the local end of an ssh -L forward accepts connections.
func waitDial(addr string, r *remoteSSH) error {
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		if r.cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("ssh -L never listened on %s (stderr: %s)", addr, r.stderr.String())
}
