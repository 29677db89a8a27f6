package agent

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// cmdStream is the stdio of a command as one stream (docker exec -i).
type cmdStream struct {
	io.WriteCloser
	io.Reader
	cmd *exec.Cmd
}

func (c *cmdStream) Close() error {
	c.WriteCloser.Close()
	c.cmd.Process.Kill()
	return c.cmd.Wait()
}

// TestAgentInDocker runs the agent the way the Docker provider does: a static binary
// mounted read-only into a busybox container (no /etc/passwd, few tools), reached over
// the stdio of `docker exec -i`.
func TestAgentInDocker(t *testing.T) {
	testenv.RequireEngine(t, "docker", func() error { return exec.Command("docker", "version").Run() })
	bin := filepath.Join(t.TempDir(), "mochi")
	build := exec.Command("go", "build", "-o", bin, "./testdata/agentmain")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build agent: %v\n%s", err, out)
	}
	out, err := exec.Command("docker", "run", "-d", "--label", "mochi.test=1", "-v", bin+":/.mochi/bin/mochi:ro",
		"mochi-test/busybox:latest", "sleep", "3600").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	ctr := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", ctr).Run() })

	cmd := exec.Command("docker", "exec", "-i", ctr, "/.mochi/bin/mochi")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client, err := Dial(ctx, &cmdStream{stdin, stdout, cmd}, ClientOptions{})
	if err != nil {
		t.Fatalf("dial agent in container: %v (stderr %s)", err, stderr.String())
	}
	defer client.Close()

	runOut := func(c Command) string {
		t.Helper()
		var o, e strings.Builder
		c.Stdout, c.Stderr = &o, &e
		res, err := client.Run(ctx, c)
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("run %q: %+v %v; stderr %s", c.Cmd, res, err, e.String())
		}
		return o.String()
	}
	if got := runOut(Command{Cmd: "cat /etc/hostname"}); !strings.HasPrefix(ctr, strings.TrimSpace(got)) {
		t.Fatalf("not inside the container: hostname %q, container %s", got, ctr)
	}
	if got := runOut(Command{Cmd: "id -u; echo $HOME", User: "1234"}); got != "1234\n/\n" {
		t.Fatalf("numeric user: %q", got)
	}

	// A server on the container's loopback, reached through direct-tcpip: the agent
	// dials inside the container's network namespace.
	runOut(Command{Cmd: "mkdir -p /tmp/www && echo hello-from-container > /tmp/www/index.html && busybox httpd -p 127.0.0.1:8080 -h /tmp/www"})
	var found bool
	waitFor(t, "httpd to listen", func() bool {
		ports, err := client.ListPorts(ctx)
		for _, p := range ports {
			found = found || (p.Port == 8080 && p.Addr == "127.0.0.1")
		}
		return err == nil && found
	})
	ch, reqs, err := client.Conn().OpenChannel("direct-tcpip", ssh.Marshal(directTCPIP{Host: "localhost", Port: 8080, OriginHost: "127.0.0.1", OriginPort: 1}))
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(reqs)
	io.WriteString(ch, "GET /index.html HTTP/1.0\r\n\r\n")
	body, _ := io.ReadAll(ch)
	ch.Close()
	if !bytes.Contains(body, []byte("hello-from-container")) {
		t.Fatalf("http through direct-tcpip: %q", body)
	}

	// SFTP as uid 1234: the re-executed agent binary writes with that owner.
	runOut(Command{Cmd: "mkdir -p /tmp/drop && chmod 1777 /tmp/drop"})
	sch, sreqs, err := client.Conn().OpenChannel("session", SessionSpec{User: "1234"}.marshal())
	if err != nil {
		t.Fatal(err)
	}
	go ssh.DiscardRequests(sreqs)
	if ok, err := sch.SendRequest("subsystem", true, ssh.Marshal(execRequest{Command: "sftp"})); !ok || err != nil {
		t.Fatalf("sftp subsystem: %v %v", ok, err)
	}
	sc, err := sftp.NewClientPipe(sch, sch)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sc.Create("/tmp/drop/up.txt")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(f, "uploaded")
	f.Close()
	sc.Chmod("/tmp/drop/up.txt", 0o640)
	sc.Close()
	if got := runOut(Command{Cmd: "cat /tmp/drop/up.txt; echo; busybox stat -c '%u %a' /tmp/drop/up.txt"}); got != "uploaded\n1234 640\n" {
		t.Fatalf("uploaded file: %q", got)
	}
}
