package sshgate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestAuthMatrix(t *testing.T) {
	g := startGateway(t, nil)
	other := newSigner(t)
	if err := g.srv.Keys().Add("ws2", other.PublicKey(), "other"); err != nil {
		t.Fatal(err)
	}
	everywhere := newSigner(t)
	if err := g.srv.Keys().Add(AllWorkspaces, everywhere.PublicKey(), "admin"); err != nil {
		t.Fatal(err)
	}
	stranger := newSigner(t)
	password := ssh.Password("hunter2")
	kbd := ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"x"}, nil })
	tests := []struct {
		name string
		user string
		auth []ssh.AuthMethod
		ok   bool
	}{
		{"right key", "ws1", []ssh.AuthMethod{ssh.PublicKeys(g.key)}, true},
		{"key for all workspaces", "ws2", []ssh.AuthMethod{ssh.PublicKeys(everywhere)}, true},
		{"unknown user", "ws9", []ssh.AuthMethod{ssh.PublicKeys(g.key)}, false},
		{"bad user name", "../etc", []ssh.AuthMethod{ssh.PublicKeys(everywhere)}, false},
		{"unknown key", "ws1", []ssh.AuthMethod{ssh.PublicKeys(stranger)}, false},
		{"key for another workspace", "ws1", []ssh.AuthMethod{ssh.PublicKeys(other)}, false},
		{"password", "ws1", []ssh.AuthMethod{password}, false},
		{"keyboard-interactive", "ws1", []ssh.AuthMethod{kbd}, false},
		{"none", "ws1", []ssh.AuthMethod{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := g.dial(t, tt.user, tt.auth...)
			if tt.ok != (err == nil) {
				t.Fatalf("dial: %v, want ok=%v", err, tt.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
	if logs := g.logs.String(); !strings.Contains(logs, "auth failed") || !strings.Contains(logs, "remote=127.0.0.1:") {
		t.Fatalf("auth failures not logged with the remote address:\n%s", logs)
	}
}

func TestRelayExec(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	tests := []struct {
		cmd, stdin, out, errOut string
		status                  int
		signal                  string
	}{
		{cmd: "echo out; echo err >&2; exit 3", out: "out\n", errOut: "err\n", status: 3},
		{cmd: "sort -r", stdin: "a\nc\nb\n", out: "c\nb\na\n"},
		{cmd: "printf %s '" + strings.Repeat("y", 50000) + "' | wc -c", out: "50000\n"},
		{cmd: "kill -TERM $$", signal: "TERM"},
	}
	for _, tt := range tests {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		s.Stdout, s.Stderr, s.Stdin = &out, &errOut, strings.NewReader(tt.stdin)
		err = s.Run(tt.cmd)
		s.Close()
		var ee *ssh.ExitError
		switch {
		case tt.signal != "":
			if !errors.As(err, &ee) || ee.Signal() != tt.signal {
				t.Fatalf("%.30s: %v, want signal %s", tt.cmd, err, tt.signal)
			}
		case tt.status != 0:
			if !errors.As(err, &ee) || ee.ExitStatus() != tt.status {
				t.Fatalf("%.30s: %v, want status %d", tt.cmd, err, tt.status)
			}
		case err != nil:
			t.Fatalf("%.30s: %v", tt.cmd, err)
		}
		if strings.TrimSpace(out.String()) != strings.TrimSpace(tt.out) || errOut.String() != tt.errOut {
			t.Fatalf("%.30s: stdout %q stderr %q", tt.cmd, out.String(), errOut.String())
		}
	}
}

func TestOneAgentLinkPerWorkspace(t *testing.T) {
	g := startGateway(t, nil)
	for i := 0; i < 3; i++ {
		c := g.mustDial(t, "ws1")
		if out, err := runOutput(c, "echo hi"); err != nil || out != "hi\n" {
			t.Fatalf("run: %q %v", out, err)
		}
	}
	if n := g.linker.count("ws1"); n != 1 {
		t.Fatalf("%d agent links for 3 connections, want 1", n)
	}
	// A broken link is dialled again on the next use.
	g.linker.breakLinks()
	c := g.mustDial(t, "ws1")
	waitFor(t, "a session over a new link", func() bool {
		out, err := runOutput(c, "echo again")
		return err == nil && out == "again\n"
	})
	if n := g.linker.count("ws1"); n != 2 {
		t.Fatalf("%d links after a break, want 2", n)
	}
}

func runOutput(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.Output(cmd)
	return string(out), err
}

func TestStoppedAndUnknownWorkspace(t *testing.T) {
	g := startGateway(t, nil)
	for ws, want := range map[string]string{
		"stopped": `is not running`,
		"nowhere": `does not exist`,
	} {
		c := g.mustDial(t, ws)
		_, err := c.NewSession()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), ws) {
			t.Fatalf("%s: session open gave %v, want %q", ws, err, want)
		}
	}
}

func TestUnknownChannelTypeRefused(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	for _, typ := range []string{"x-unknown@example.com", "mochi-relay@mochi.dev"} {
		_, _, err := c.OpenChannel(typ, nil)
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) || oce.Reason != ssh.UnknownChannelType {
			t.Fatalf("%s: %v, want unknown channel type", typ, err)
		}
	}
	// The connection is still fine.
	if out, err := runOutput(c, "echo ok"); err != nil || out != "ok\n" {
		t.Fatalf("after refusals: %q %v", out, err)
	}
}

func TestKeepaliveRequestAnswered(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	ok, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
	if err != nil || ok {
		t.Fatalf("keepalive: ok=%v err=%v, want a failure reply", ok, err)
	}
}

func TestDeadClientReaped(t *testing.T) {
	g := startGateway(t, func(c *Config) { c.KeepAliveInterval = 200 * time.Millisecond; c.KeepAliveMax = 5 })
	raw, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// A client that never services its requests answers no keepalive.
	conn, _, _, err := ssh.NewClientConn(raw, g.addr, &ssh.ClientConfig{
		User: "ws1", Auth: []ssh.AuthMethod{ssh.PublicKeys(g.key)}, HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Wait(); err == nil {
		t.Log("connection closed cleanly")
	}
	// A live client with the same keepalive settings stays.
	c := g.mustDial(t, "ws1")
	for i := 0; i < 5; i++ {
		if _, err := runOutput(c, "sleep 0.05"); err != nil {
			t.Fatalf("live client cut: %v", err)
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	g := startGateway(t, func(c *Config) { c.HandshakeTimeout = 100 * time.Millisecond })
	raw, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Say nothing: the gateway sends its version and must then hang up.
	b, err := io.ReadAll(raw)
	if !strings.HasPrefix(string(b), "SSH-2.0-") {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestMalformedPacketsIsolated(t *testing.T) {
	g := startGateway(t, nil)
	good := g.mustDial(t, "ws1")
	for _, junk := range []string{
		"SSH-2.0-junk\r\n" + strings.Repeat("\xff", 5000),
		"SSH-2.0-junk\r\n\x00\x00\x00\x0c\x0a\x14" + strings.Repeat("\x00", 64),
		"not ssh at all\r\n\r\n",
	} {
		raw, err := net.Dial("tcp", g.addr)
		if err != nil {
			t.Fatal(err)
		}
		go io.Copy(io.Discard, raw)
		io.WriteString(raw, junk)
		raw.Close()
	}
	if out, err := runOutput(good, "echo still"); err != nil || out != "still\n" {
		t.Fatalf("existing connection: %q %v", out, err)
	}
	fresh := g.mustDial(t, "ws1")
	if out, err := runOutput(fresh, "echo new"); err != nil || out != "new\n" {
		t.Fatalf("new connection: %q %v", out, err)
	}
}

func TestForwardingThroughGateway(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	// direct-tcpip: dialled by the agent.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go serveCount(l)
	conn, err := c.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)

	// tcpip-forward: the agent listens, connections come back through the gateway.
	rl, err := c.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serveCount(rl)
	conn, err = net.Dial("tcp", rl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)
	rl.Close()
}

// serveCount answers each connection, after its EOF, with the number of bytes read.
func serveCount(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			n, _ := io.Copy(io.Discard, c)
			fmt.Fprintf(c, "got %d", n)
		}()
	}
}

func checkHalfClose(t *testing.T, c net.Conn) {
	t.Helper()
	defer c.Close()
	io.WriteString(c, "hello")
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "got 5" {
		t.Fatalf("answer %q %v", b, err)
	}
}

func TestListPortsOverLink(t *testing.T) {
	g := startGateway(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := l.Addr().(*net.TCPAddr).Port
	ports, err := g.srv.ListPorts(context.Background(), "ws1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range ports {
		found = found || (p.Port == want && p.Addr == "127.0.0.1")
	}
	if !found {
		t.Fatalf("port %d not listed: %+v", want, ports)
	}
	if _, err := g.srv.ListPorts(context.Background(), "stopped"); !errors.Is(err, ErrWorkspaceStopped) {
		t.Fatalf("stopped workspace: %v", err)
	}
}

func TestRemoteForwardSurvivesLinkBreak(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	rl, err := c.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	go serveCount(rl)
	addr := rl.Addr().String()
	exchange(t, "the forward", func() (net.Conn, error) { return net.Dial("tcp", addr) })
	g.linker.breakLinks()
	// The gateway dials a new link by itself and sets the forward up again there.
	exchange(t, "the forward over a new link", func() (net.Conn, error) { return net.Dial("tcp", addr) })
	if n := g.linker.count("ws1"); n != 2 {
		t.Fatalf("%d links, want 2", n)
	}
}

func TestRunServerState(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	linker := &testLinker{running: map[string]bool{}, links: map[string]int{}}
	go func() { done <- RunServer(ctx, Config{DataDir: data, Linker: linker, Addr: "127.0.0.1:0"}) }()
	var st ServerState
	waitFor(t, "the server state", func() bool {
		var err error
		st, err = ReadServerState(data)
		return err == nil
	})
	if !st.Running() || st.PID != os.Getpid() {
		t.Fatalf("state %+v not running", st)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := ReadServerState(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state after stop: %v", err)
	}
}

// Security regression: a client of the gateway must not choose the session user (the
// agent honours a SessionSpec only from its direct caller), open nested relay
// channels or send the gateway's own requests to the agent.
func TestSecurityClientCannotUseAgentControls(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	ch, reqs, err := c.OpenChannel("session", []byte(`{"user":"4242","env":["X_INJECTED=1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	if ok, err := ch.SendRequest("exec", true, ssh.Marshal(struct{ Command string }{`id -u; echo "x=$X_INJECTED"`})); !ok || err != nil {
		t.Fatalf("exec: %v %v", ok, err)
	}
	out, _ := io.ReadAll(ch)
	ch.Close()
	if want := fmt.Sprintf("%d\nx=\n", os.Getuid()); string(out) != want {
		t.Fatalf("session spec from a client was honoured: %q, want %q", out, want)
	}
	for _, name := range []string{"mochi-relay@mochi.dev", "mochi-conn-closed@mochi.dev", "mochi-ports@mochi.dev"} {
		if ok, _, err := c.SendRequest(name, true, nil); ok || err != nil {
			t.Fatalf("global request %s: ok=%v err=%v, want refusal", name, ok, err)
		}
	}
}

// freezable stops delivering the agent's bytes once frozen, like a link whose far end
// hung without closing.
type freezable struct {
	io.ReadWriteCloser
	frozen chan struct{}
	closed chan struct{}
	once   sync.Once
}

func (f *freezable) Read(b []byte) (int, error) {
	select {
	case <-f.frozen:
		<-f.closed
		return 0, io.EOF
	default:
	}
	return f.ReadWriteCloser.Read(b)
}

func (f *freezable) Close() error {
	f.once.Do(func() { close(f.closed) })
	return f.ReadWriteCloser.Close()
}

func TestHungLinkReplaced(t *testing.T) {
	var streams []*freezable
	var mu sync.Mutex
	g := startGateway(t, func(c *Config) { c.KeepAliveInterval = 100 * time.Millisecond })
	g.linker.mu.Lock()
	g.linker.wrap = func(rwc io.ReadWriteCloser) io.ReadWriteCloser {
		f := &freezable{ReadWriteCloser: rwc, frozen: make(chan struct{}), closed: make(chan struct{})}
		mu.Lock()
		streams = append(streams, f)
		mu.Unlock()
		return f
	}
	g.linker.mu.Unlock()
	c := g.mustDial(t, "ws1")
	if out, err := runOutput(c, "echo one"); err != nil || out != "one\n" {
		t.Fatalf("first session: %q %v", out, err)
	}
	mu.Lock()
	close(streams[0].frozen)
	mu.Unlock()
	// The frozen link stops answering keepalives, is dropped, and the next session
	// gets a new one.
	waitFor(t, "a session over a replacement link", func() bool {
		out, err := runOutput(c, "echo two")
		return err == nil && out == "two\n"
	})
	if n := g.linker.count("ws1"); n != 2 {
		t.Fatalf("%d links, want 2", n)
	}
}

func TestSSHConnectionEnv(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	out, err := runOutput(c, `echo "$SSH_CLIENT|$SSH_CONNECTION"`)
	if err != nil {
		t.Fatal(err)
	}
	local := c.LocalAddr().(*net.TCPAddr)
	remote := c.RemoteAddr().(*net.TCPAddr)
	want := fmt.Sprintf("%s %d %d|%s %d %s %d\n", local.IP, local.Port, remote.Port, local.IP, local.Port, remote.IP, remote.Port)
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}
