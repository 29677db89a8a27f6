package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// startSocketAgent serves an agent on a unix socket, as in a workspace, and returns a
// Client connected to it with the workspace key.
func startSocketAgent(t *testing.T, opts Options) *Client {
	t.Helper()
	signer := newSigner(t)
	opts.AuthorizedKeys = []ssh.PublicKey{signer.PublicKey()}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeListener(ctx, l, opts) }()
	c, err := DialSocket(context.Background(), sock)
	if err != nil {
		t.Fatal(err)
	}
	client, err := Dial(ctx, c, ClientOptions{Signer: signer})
	if err != nil {
		t.Fatalf("dial agent: %v", err)
	}
	t.Cleanup(func() {
		client.Close()
		cancel()
		<-done
	})
	return client
}

// startStreamClient serves an agent over a private stream (as `docker exec -i` gives) and
// returns a Client of it.
func startStreamClient(t *testing.T) *Client {
	t.Helper()
	c1, c2 := socketPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go Serve(ctx, c1, Options{Private: true})
	client, err := Dial(ctx, c2, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestDialHandedOver(t *testing.T) {
	client := startSocketAgent(t, Options{})
	if !client.CanHandOver() {
		t.Fatal("an agent on a unix socket cannot hand descriptors over")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, strings.NewReader("hello from the workspace"))
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
	}()
	c, err := client.DialHandedOver(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("DialHandedOver: %v", err)
	}
	defer c.Close()
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("handed-over connection is a %T, want the socket itself (*net.TCPConn)", c)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "hello from the workspace" {
		t.Fatalf("read %q, %v", got, err)
	}

	// A refused dial is refused with the agent's reason, not as "cannot hand over".
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l2.Addr().String()
	l2.Close()
	_, err = client.DialHandedOver(context.Background(), "tcp", addr)
	if err == nil || errors.Is(err, ErrNoFDPassing) || !strings.Contains(err.Error(), "connect to "+addr) {
		t.Fatalf("dial to a closed port: %v", err)
	}
}

func TestStartHandedOver(t *testing.T) {
	client := startSocketAgent(t, Options{})
	ch, reqs, err := client.Conn().OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	stdin, stdout, err := client.StartHandedOver(ch, "exec", ssh.Marshal(execRequest{Command: "tr a-z A-Z; echo err >&2; exit 3"}))
	if err != nil {
		t.Fatalf("StartHandedOver: %v", err)
	}
	if _, ok := stdin.(*os.File); !ok {
		t.Fatalf("stdin is a %T, want the pipe itself", stdin)
	}
	io.WriteString(stdin, "shout")
	stdin.Close()
	out, err := io.ReadAll(stdout)
	stdout.Close()
	if err != nil || string(out) != "SHOUT" {
		t.Fatalf("stdout %q, %v", out, err)
	}
	var errb bytes.Buffer
	errDone := make(chan struct{})
	go func() { io.Copy(&errb, ch.Stderr()); close(errDone) }()
	status := exitStatusOf(reqs)
	<-errDone
	if status != 3 || errb.String() != "err\n" {
		t.Fatalf("exit status %d, stderr %q; want 3 and %q", status, errb.String(), "err\n")
	}
}

// A session with a pty is not handed over, and a refusal leaves it to be started plainly.
func TestStartHandedOverRefusedWithPty(t *testing.T) {
	client := startSocketAgent(t, Options{})
	ch, reqs, err := client.Conn().OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	go ssh.DiscardRequests(reqs)
	if ok, err := ch.SendRequest("pty-req", true, ssh.Marshal(ptyRequest{Term: "xterm", Cols: 80, Rows: 24})); !ok || err != nil {
		t.Fatalf("pty-req: %v %v", ok, err)
	}
	_, _, err = client.StartHandedOver(ch, "exec", ssh.Marshal(execRequest{Command: "echo hi"}))
	if !errors.Is(err, ErrNoFDPassing) {
		t.Fatalf("hand-over with a pty: %v, want ErrNoFDPassing", err)
	}
	if ok, err := ch.SendRequest("exec", true, ssh.Marshal(execRequest{Command: "echo hi"})); !ok || err != nil {
		t.Fatalf("plain exec after the refusal: %v %v", ok, err)
	}
	out, _ := io.ReadAll(ch)
	if !strings.Contains(string(out), "hi") {
		t.Fatalf("output %q", out)
	}
}

// Over a private stream (stdio) there is no hand-over: callers fall back.
func TestNoHandOverOnStream(t *testing.T) {
	client := startStreamClient(t)
	ctx := context.Background()
	if client.CanHandOver() {
		t.Fatal("a private stream claims descriptor hand-over")
	}
	if _, err := client.DialHandedOver(ctx, "tcp", "127.0.0.1:1"); !errors.Is(err, ErrNoFDPassing) {
		t.Fatalf("DialHandedOver over a stream: %v", err)
	}
}

// A connection to the socket that presents a wrong token gets nothing and is closed.
func TestFDPipeWrongToken(t *testing.T) {
	client := startSocketAgent(t, Options{})
	sock := client.fd.socket
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, fdPipeMagic+"00112233445566778899aabbccddeeff\n")
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("wrong token: read %d bytes, %v; want the connection closed", n, err)
	}
}

// Many programs that exit at once, started concurrently: each start is answered before the
// session reports the exit and closes (a close first would fail the start), even when the
// answer is slow to go out.
func TestStartHandedOverFastExits(t *testing.T) {
	testHookStartFDReply = func() { time.Sleep(20 * time.Millisecond) }
	t.Cleanup(func() { testHookStartFDReply = nil })
	client := startSocketAgent(t, Options{})
	const n, par = 200, 16
	errs := make(chan error, n)
	sem := make(chan struct{}, par)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- fastExit(client, i)
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func fastExit(client *Client, i int) error {
	ch, reqs, err := client.Conn().OpenChannel("session", nil)
	if err != nil {
		return err
	}
	defer ch.Close()
	stdin, stdout, err := client.StartHandedOver(ch, "exec", ssh.Marshal(execRequest{Command: fmt.Sprintf("exit %d", i%256)}))
	if err != nil {
		return fmt.Errorf("session %d: StartHandedOver: %w", i, err)
	}
	stdin.Close()
	io.Copy(io.Discard, stdout)
	stdout.Close()
	status := exitStatusOf(reqs)
	if status != i%256 {
		return fmt.Errorf("session %d: exit status %d", i, status)
	}
	return nil
}

// Hand-overs nobody takes any more (the caller gave up) are closed, not leaked: dials
// cancelled at once, whose sockets the agent still hands over, leave no descriptor open.
func TestHandOverGivenUpIsClosed(t *testing.T) {
	client := startSocketAgent(t, Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	// One dial sets the fd pipe up before counting.
	c, err := client.DialHandedOver(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// No collection meanwhile: the finalizer of a leaked *os.File would close it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	before := openFDs(t)
	for range 50 {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if c, err := client.DialHandedOver(ctx, "tcp", l.Addr().String()); err == nil {
			c.Close()
		}
	}
	// The hand-overs of the cancelled dials arrive after their callers left: a dial that
	// completes after them shows the agent got that far.
	time.Sleep(500 * time.Millisecond)
	if c, err := client.DialHandedOver(context.Background(), "tcp", l.Addr().String()); err == nil {
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	n := openFDs(t)
	for ; n > before+2 && time.Now().Before(deadline); n = openFDs(t) {
		time.Sleep(50 * time.Millisecond)
	}
	if n > before+2 {
		t.Errorf("%d descriptors open after 50 abandoned hand-overs, %d before", n, before)
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count open descriptors: %v", err)
	}
	return len(entries)
}

// exitStatusOf answers a session's requests until the channel closes and returns the status
// of its exit-status request, or -1.
func exitStatusOf(reqs <-chan *ssh.Request) int {
	status := -1
	for r := range reqs {
		if r.Type == "exit-status" {
			var st exitStatus
			ssh.Unmarshal(r.Payload, &st)
			status = int(st.Status)
		}
		r.Reply(false, nil)
	}
	return status
}
