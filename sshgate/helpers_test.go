package sshgate

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/agent"
	"golang.org/x/crypto/ssh"
)

// testLinker runs an in-process agent per link, on this host: "inside the workspace"
// is this machine in these tests.
type testLinker struct {
	mu      sync.Mutex
	running map[string]bool
	links   map[string]int
	agents  []net.Conn // the agent ends, to break links
	opts    agent.Options
	wrap    func(io.ReadWriteCloser) io.ReadWriteCloser // the gateway's end, if set

	// socket: link as to a local workspace, by dialling the workspace's agent listening on
	// a unix socket with the workspace key (so the agent can hand descriptors over);
	// otherwise over a private stream, as `docker exec -i` or a remote node would.
	socket  bool
	dir     string            // where the sockets are
	sockets map[string]string // workspace -> its agent's socket
	key     ssh.Signer        // the workspace key, for Config.AgentSigner
}

// agentSocket returns the socket of ws's agent, starting the agent on first use.
func (l *testLinker) agentSocket(ws string) (string, error) {
	if p, ok := l.sockets[ws]; ok {
		return p, nil
	}
	p := filepath.Join(l.dir, ws+".sock")
	ln, err := net.Listen("unix", p)
	if err != nil {
		return "", err
	}
	opts := l.opts
	opts.AuthorizedKeys = []ssh.PublicKey{l.key.PublicKey()}
	go agent.ServeListener(context.Background(), ln, opts)
	l.sockets[ws] = p
	return p, nil
}

func (l *testLinker) Link(ctx context.Context, ws string) (io.ReadWriteCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	running, known := l.running[ws]
	if !known {
		return nil, fmt.Errorf("find %s: %w", ws, ErrWorkspaceNotFound)
	}
	if !running {
		return nil, fmt.Errorf("attach %s: %w", ws, ErrWorkspaceStopped)
	}
	if l.socket {
		p, err := l.agentSocket(ws)
		if err != nil {
			return nil, err
		}
		c, err := agent.DialSocket(ctx, p)
		if err != nil {
			return nil, err
		}
		l.links[ws]++
		l.agents = append(l.agents, c)
		return c, nil
	}
	a, b, err := socketPair()
	if err != nil {
		return nil, err
	}
	l.links[ws]++
	l.agents = append(l.agents, a)
	opts := l.opts
	opts.Private = true
	go agent.Serve(context.Background(), a, opts)
	if l.wrap != nil {
		return l.wrap(b), nil
	}
	return b, nil
}

func (l *testLinker) count(ws string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.links[ws]
}

// breakLinks closes the agent end of every link so far.
func (l *testLinker) breakLinks() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.agents {
		a.Close()
	}
	l.agents = nil
}

func socketPair() (net.Conn, net.Conn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		conns[i] = c
	}
	return conns[0], conns[1], nil
}

type gateway struct {
	srv    *Server
	addr   string
	linker *testLinker
	key    ssh.Signer // granted to workspace "ws1"
	data   string
	logs   *syncBuffer
	// userHome is the sessions' home folder (the test user's, in testPasswd).
	userHome string
}

type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

func startGateway(t testing.TB, mutate func(*Config)) *gateway {
	t.Helper()
	return startGatewayLink(t, false, mutate)
}

// startGatewayLink starts a gateway whose links go to agents on unix sockets (socket) or
// over private streams.
func startGatewayLink(t testing.TB, socket bool, mutate func(*Config)) *gateway {
	t.Helper()
	linker := &testLinker{running: map[string]bool{"ws1": true, "ws2": true, "stopped": false}, links: map[string]int{}}
	// Sessions run as the test's user but with a home of their own: the machine's rc files
	// (a pyenv init that rehashes its shims, say) are not the tests' business, and the tests
	// write there.
	userHome := t.TempDir()
	linker.opts.PasswdFile = testPasswd(t, userHome)
	logs := &syncBuffer{}
	data := t.TempDir()
	cfg := Config{DataDir: data, Linker: linker, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if socket {
		// Short socket paths: a unix socket's path is limited to 108 bytes.
		dir, err := os.MkdirTemp("", "mochi-gw-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		linker.socket, linker.dir, linker.sockets, linker.key = true, dir, map[string]string{}, newSigner(t)
		cfg.AgentSigner = func(string) (ssh.Signer, error) { return linker.key, nil }
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	key := newSigner(t)
	for _, ws := range []string{"ws1", "stopped", "nowhere"} {
		if err := srv.Keys().Add(ws, key.PublicKey(), "test@"+ws); err != nil {
			t.Fatal(err)
		}
	}
	return &gateway{srv: srv, addr: l.Addr().String(), linker: linker, key: key, data: data, logs: logs, userHome: userHome}
}

// testPasswd writes a copy of /etc/passwd in which the test's user has home as its home.
func testPasswd(t testing.TB, home string) string {
	t.Helper()
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	uid := strconv.Itoa(os.Getuid())
	lines := strings.Split(string(data), "\n")
	found := false
	for i, line := range lines {
		f := strings.Split(line, ":")
		if len(f) == 7 && f[2] == uid && !found {
			f[5] = home
			lines[i] = strings.Join(f, ":")
			found = true
		}
	}
	if !found {
		t.Fatalf("uid %s is not in /etc/passwd", uid)
	}
	p := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (g *gateway) dial(t testing.TB, user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	t.Helper()
	if auth == nil {
		auth = []ssh.AuthMethod{ssh.PublicKeys(g.key)}
	}
	return ssh.Dial("tcp", g.addr, &ssh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: ssh.FixedHostKey(g.srv.HostKey()), Timeout: 10 * time.Second,
	})
}

func (g *gateway) mustDial(t *testing.T, user string) *ssh.Client {
	t.Helper()
	c, err := g.dial(t, user)
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
