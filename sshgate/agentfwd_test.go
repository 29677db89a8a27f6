package sshgate

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	sshagent "golang.org/x/crypto/ssh/agent"
)

// agentSock runs one command in a new session with agent forwarding and returns
// $SSH_AUTH_SOCK and the output of ssh-add -l.
func agentSock(t *testing.T, c *ssh.Client) (string, string) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := sshagent.RequestAgentForwarding(s); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output(`echo "$SSH_AUTH_SOCK"; ssh-add -l`)
	if err != nil {
		t.Fatalf("ssh-add -l: %v: %s", err, out)
	}
	sock, list, _ := strings.Cut(string(out), "\n")
	return sock, list
}

func TestAgentForwardingScopedToConnection(t *testing.T) {
	needBinary(t, "ssh-add")
	g := startGateway(t, nil)
	keyring := sshagent.NewKeyring()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyring.Add(sshagent.AddedKey{PrivateKey: priv, Comment: "forwarded-key"})

	c1 := g.mustDial(t, "ws1")
	c2 := g.mustDial(t, "ws1")
	for _, c := range []*ssh.Client{c1, c2} {
		if err := sshagent.ForwardToAgent(c, keyring); err != nil {
			t.Fatal(err)
		}
	}
	s1a, list := agentSock(t, c1)
	s1b, _ := agentSock(t, c1)
	s2, _ := agentSock(t, c2)
	if !strings.Contains(list, "forwarded-key") {
		t.Fatalf("ssh-add -l through the gateway: %q", list)
	}
	if s1a != s1b || s1a == s2 {
		t.Fatalf("sockets: conn1 %s and %s, conn2 %s; want one per connection", s1a, s1b, s2)
	}
	if _, err := os.Stat(s1a); err != nil {
		t.Fatal(err)
	}
	c1.Close()
	waitFor(t, "the closed connection's agent socket to go", func() bool {
		_, err := os.Stat(s1a)
		return os.IsNotExist(err)
	})
	if _, err := os.Stat(s2); err != nil {
		t.Fatalf("other connection's socket: %v", err)
	}
}

func TestOpenSSHAgentForwarding(t *testing.T) {
	needBinary(t, "ssh", "ssh-agent", "ssh-add")
	e := newRealEnv(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	waitFor(t, "ssh-agent", func() bool { _, err := os.Stat(sock); return err == nil })
	add := exec.Command("ssh-add", e.keyPath)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}
	cmd := e.command("ssh", "-F", e.sshCfg, "-o", "BatchMode=yes", "-A", "ws1.mochi", `ssh-add -l`)
	cmd.Env = append(cmd.Env, "SSH_AUTH_SOCK="+sock)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "tester@mochi") {
		t.Fatalf("ssh -A ... ssh-add -l: %v %q", err, out.String())
	}
}

func TestOpenSSHStreamLocal(t *testing.T) {
	needBinary(t, "ssh")
	e := newRealEnv(t)
	dir := t.TempDir()
	// ssh -L port:/socket: direct-streamlocal@openssh.com, dialled by the agent.
	target := filepath.Join(dir, "target.sock")
	tl, err := net.Listen("unix", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	go serveCount(tl)
	lport := freePort(t)
	e.background(t, "-L", fmt.Sprintf("127.0.0.1:%d:%s", lport, target), "ws1.mochi")
	exchange(t, "ssh -L to a socket", func() (net.Conn, error) { return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lport)) })

	// ssh -R /socket:host:port: streamlocal-forward@openssh.com, listened on by the agent.
	remote := filepath.Join(dir, "remote.sock")
	e.background(t, "-R", fmt.Sprintf("%s:127.0.0.1:%d", remote, counterServer(t)), "ws1.mochi")
	exchange(t, "ssh -R from a socket", func() (net.Conn, error) { return net.Dial("unix", remote) })
}
