package reliability

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"golang.org/x/crypto/ssh"
)

// gw is the env's gateway as a client sees it.
type gw struct {
	e    *env
	addr string
	key  ssh.Signer
}

// withGateway points the env's gateway at a free loopback port (mochi up starts it there)
// and registers `mochi server stop` for cleanup.
func withGateway(t *testing.T, e *env) *gw {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if err := os.WriteFile(filepath.Join(e.mochi, "server.addr"), []byte(addr+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.run("server", "stop") })
	return &gw{e: e, addr: addr}
}

// upGateway runs `mochi up` (starting the gateway) and loads the user key it made.
func (g *gw) up(t *testing.T, ws string) upResult {
	t.Helper()
	r := g.e.run("up", "--workspace-folder", ws)
	var res upResult
	if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
		t.Fatalf("mochi up %s: exit %d %+v\n%s", ws, r.code, res, tail(r.stderr, 2000))
	}
	if g.key == nil {
		data, err := os.ReadFile(filepath.Join(g.e.mochi, "id_ed25519"))
		if err != nil {
			t.Fatalf("user key: %v", err)
		}
		if g.key, err = ssh.ParsePrivateKey(data); err != nil {
			t.Fatalf("user key: %v", err)
		}
	}
	return res
}

// pid returns the running gateway's process id.
func (g *gw) pid(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(g.e.mochi, "server.pid"))
	if err != nil {
		t.Fatalf("server pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("server pid: %v", err)
	}
	return pid
}

// dial opens an SSH connection to workspace user with the given auth methods (the user's
// key when none are given).
func (g *gw) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	if len(auth) == 0 {
		auth = []ssh.AuthMethod{ssh.PublicKeys(g.key)}
	}
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: auth,
		// Loopback test of our own gateway; the host key is not what is tested here.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         30 * time.Second,
	}
	return ssh.Dial("tcp", g.addr, cfg)
}

// run executes cmd in a new session of c and returns its combined output.
func sshRun(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", err
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	return string(out), err
}

// echoPort is where startEcho's server listens inside a workspace container.
const echoPort = 7777

// startEcho starts a TCP echo server on 127.0.0.1:echoPort inside the container (perl is in
// the Debian base image) and waits until it answers.
func startEcho(t *testing.T, cli *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	script := fmt.Sprintf(`$SIG{CHLD}="IGNORE"; my $s=IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>%d,Listen=>256,ReuseAddr=>1) or die $!; while(1){ my $c=$s->accept or next; if(!fork){ while(sysread($c,my $b,65536)){ syswrite($c,$b) } exit } close $c }`, echoPort)
	created, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: []string{"perl", "-MIO::Socket::INET", "-e", script}})
	if err != nil {
		t.Fatalf("start echo server: %v", err)
	}
	if err := cli.ContainerExecStart(ctx, created.ID, container.ExecStartOptions{Detach: true}); err != nil {
		t.Fatalf("start echo server: %v", err)
	}
	for range 100 {
		if out := execIn(t, cli, id, fmt.Sprintf(`perl -MIO::Socket::INET -e 'IO::Socket::INET->new("127.0.0.1:%d") and print "up"'`, echoPort)); out == "up" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("echo server did not start")
}
