package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"
)

// halfCloseServer reads everything until EOF and only then answers with the byte count,
// so it works only if the client's half-close reaches it.
func halfCloseServer(t *testing.T, l net.Listener) {
	t.Helper()
	go func() {
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
	}()
}

func checkHalfClose(t *testing.T, c net.Conn) {
	t.Helper()
	defer c.Close()
	if _, err := io.WriteString(c, "hello"); err != nil {
		t.Fatal(err)
	}
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "got 5" {
		t.Fatalf("answer %q %v", b, err)
	}
}

func TestDirectTCPIP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	halfCloseServer(t, l)
	c := startAgent(t, Options{})
	_, port, _ := net.SplitHostPort(l.Addr().String())
	conn, err := c.Dial("tcp", "localhost:"+port)
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)

	if _, err := c.Dial("tcp", "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "in the workspace") {
		t.Fatalf("dial closed port: %v", err)
	}
}

func TestDirectStreamLocal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	halfCloseServer(t, l)
	c := startAgent(t, Options{})
	conn, err := c.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)
}

func TestTCPIPForward(t *testing.T) {
	c := startAgent(t, Options{})
	l, err := c.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	halfCloseServer(t, l)
	// The agent listens on this host ("inside the workspace" for this test).
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)
	l.Close() // cancel-tcpip-forward
	waitFor(t, "the forward to be cancelled", func() bool {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

func TestStreamLocalForward(t *testing.T) {
	c := startAgent(t, Options{})
	path := filepath.Join(t.TempDir(), "fwd.sock")
	l, err := c.ListenUnix(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	halfCloseServer(t, l)
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	checkHalfClose(t, conn)
}

func TestSFTPRoundTripKeepsModes(t *testing.T) {
	home := worldDir(t)
	etc := worldDir(t)
	passwd := writeFile(t, etc, "passwd", fmt.Sprintf("me:x:%d:%d::%s:/bin/sh\n", os.Getuid(), os.Getgid(), home))
	c := startAgent(t, Options{User: "me", PasswdFile: passwd})
	// A raw session channel, to see the exit-status the sftp subsystem ends with.
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(execRequest{Command: "sftp"})); !ok || err != nil {
		t.Fatalf("subsystem sftp: %v %v", ok, err)
	}
	status := make(chan string, 1)
	go func() {
		var got []string
		for r := range reqs {
			got = append(got, fmt.Sprintf("%s %x", r.Type, r.Payload))
		}
		status <- strings.Join(got, ",")
	}()
	sc, err := sftp.NewClientPipe(ch, halfCloser{ch})
	if err != nil {
		t.Fatal(err)
	}
	wd, err := sc.Getwd()
	if err != nil || wd != home {
		t.Fatalf("sftp starts in %q (%v), want home %s", wd, err, home)
	}
	f, err := sc.Create("data.bin")
	if err != nil {
		t.Fatal(err)
	}
	payload := strings.Repeat("0123456789", 100000)
	if _, err := io.WriteString(f, payload); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := sc.Chmod("data.bin", 0o741); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(home, "data.bin"))
	if err != nil || string(got) != payload {
		t.Fatalf("uploaded file differs (%d bytes, %v)", len(got), err)
	}
	fi, err := os.Stat(filepath.Join(home, "data.bin"))
	if err != nil || fi.Mode().Perm() != 0o741 {
		t.Fatalf("mode %v (%v), want 0741", fi.Mode().Perm(), err)
	}
	rf, err := sc.Open("data.bin")
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(rf)
	rf.Close()
	if string(back) != payload {
		t.Fatalf("downloaded %d bytes, want %d", len(back), len(payload))
	}
	sc.Close()
	if got := <-status; got != "exit-status 00000000" {
		t.Fatalf("sftp session ended with %q, want exit-status 0", got)
	}
}

func TestAgentForwardingOneSocketPerConnection(t *testing.T) {
	if _, err := os.Stat("/usr/bin/ssh-add"); err != nil {
		t.Skip("ssh-add not installed")
	}
	c := startAgent(t, Options{})
	keyring := sshagent.NewKeyring()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(sshagent.AddedKey{PrivateKey: priv, Comment: "mochi-test-key"}); err != nil {
		t.Fatal(err)
	}
	if err := sshagent.ForwardToAgent(c, keyring); err != nil {
		t.Fatal(err)
	}
	socks := map[string]bool{}
	for i := 0; i < 2; i++ {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sshagent.RequestAgentForwarding(s); err != nil {
			t.Fatal(err)
		}
		out, err := s.Output(`echo "$SSH_AUTH_SOCK"; ssh-add -l`)
		s.Close()
		if err != nil {
			t.Fatalf("ssh-add -l: %v: %s", err, out)
		}
		lines := strings.SplitN(string(out), "\n", 2)
		socks[lines[0]] = true
		if !strings.Contains(lines[1], "mochi-test-key") {
			t.Fatalf("ssh-add -l: %q", out)
		}
	}
	if len(socks) != 1 {
		t.Fatalf("sessions of one connection got different sockets: %v", socks)
	}
}

func TestListPorts(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	want := l.Addr().(*net.TCPAddr).Port

	client := startStreamClient(t)
	ctx := context.Background()
	ports, err := client.ListPorts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if p.Port == want && p.Addr == "127.0.0.1" && p.Loopback() {
			return
		}
	}
	t.Fatalf("port %d not in %+v", want, ports)
}

// halfCloser turns Close into CloseWrite, so the channel stays open for the exit status.
type halfCloser struct{ ch ssh.Channel }

func (h halfCloser) Write(b []byte) (int, error) { return h.ch.Write(b) }
func (h halfCloser) Close() error                { return h.ch.CloseWrite() }

func TestAgentSocketOwnedBySessionUser(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat("/usr/bin/ssh-add"); err != nil {
		t.Skip("ssh-add not installed")
	}
	etc := worldDir(t)
	home := worldDir(t)
	passwd := writeFile(t, etc, "passwd", "tester:x:4242:4242::"+home+":/bin/sh\n")
	c := startAgent(t, Options{User: "tester", PasswdFile: passwd, GroupFile: filepath.Join(etc, "group")})
	keyring := sshagent.NewKeyring()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyring.Add(sshagent.AddedKey{PrivateKey: priv, Comment: "user-key"})
	if err := sshagent.ForwardToAgent(c, keyring); err != nil {
		t.Fatal(err)
	}
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sshagent.RequestAgentForwarding(s)
	out, err := s.Output(`stat -c '%u %a' "$SSH_AUTH_SOCK" "$(dirname "$SSH_AUTH_SOCK")"; ssh-add -l`)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	if len(lines) < 3 || lines[0] != "4242 600" || lines[1] != "4242 700" || !strings.Contains(lines[2], "user-key") {
		t.Fatalf("socket as tester: %q", out)
	}
}
