package sshgate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// dockerLinker reaches the agent as the Docker provider will: `docker exec -i`.
type dockerLinker struct{ containers map[string]string }

type execStream struct {
	io.WriteCloser
	io.Reader
	cmd *exec.Cmd
}

func (s *execStream) Close() error {
	s.WriteCloser.Close()
	s.cmd.Process.Kill()
	return s.cmd.Wait()
}

func (d dockerLinker) Link(ctx context.Context, ws string) (io.ReadWriteCloser, error) {
	ctr, ok := d.containers[ws]
	if !ok {
		return nil, fmt.Errorf("find %s: %w", ws, ErrWorkspaceNotFound)
	}
	cmd := exec.Command("docker", "exec", "-i", ctr, "/.mochi/bin/mochi")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("docker exec: %w", err)
	}
	return &execStream{in, out, cmd}, nil
}

// TestGatewayToDockerWorkspace drives the whole path with OpenSSH: ssh -> gateway ->
// docker exec -i -> static agent in a busybox container.
func TestGatewayToDockerWorkspace(t *testing.T) {
	testenv.RequireEngine(t, "docker", func() error { return exec.Command("docker", "version").Run() })
	needBinary(t, "ssh", "scp")
	bin := filepath.Join(t.TempDir(), "mochi")
	build := exec.Command("go", "build", "-o", bin, "../agent/testdata/agentmain")
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

	e := newRealEnvConfig(t, func(c *Config) { c.Linker = dockerLinker{containers: map[string]string{"ws1": ctr}} })

	r := e.ssh(t, "", "ws1.mochi", "cat /etc/hostname; mkdir -p /tmp/www; echo in-container > /tmp/www/index.html; busybox httpd -p 127.0.0.1:8080 -h /tmp/www; exit 4")
	if r.code != 4 || !strings.HasPrefix(ctr, strings.TrimSpace(r.stdout)) {
		t.Fatalf("ssh into the container: %+v (container %s)", r, ctr)
	}
	src := filepath.Join(t.TempDir(), "payload")
	writeRandom(t, src, 1<<20, 0o640)
	if r := e.run(t, "", "scp", "-F", e.sshCfg, "-o", "BatchMode=yes", "-p", src, "ws1.mochi:/tmp/payload"); r.code != 0 {
		t.Fatalf("scp into the container: %+v", r)
	}
	got, err := exec.Command("docker", "exec", ctr, "busybox", "sh", "-c", "busybox stat -c %a /tmp/payload; busybox md5sum /tmp/payload").Output()
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(got))
	sc.Scan()
	if sc.Text() != "640" {
		t.Fatalf("mode in the container: %q", got)
	}
	local, _ := exec.Command("md5sum", src).Output()
	sc.Scan()
	if strings.Fields(sc.Text())[0] != strings.Fields(string(local))[0] {
		t.Fatalf("content differs: %q vs %q", got, local)
	}

	// -L to the container's loopback: nothing on this host listens on its 8080.
	lport := freePort(t)
	e.background(t, "-L", "127.0.0.1:"+strconv.Itoa(lport)+":localhost:8080", "ws1.mochi")
	waitFor(t, "httpd through ssh -L", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(lport))
		if err != nil {
			return false
		}
		defer c.Close()
		io.WriteString(c, "GET /index.html HTTP/1.0\r\n\r\n")
		b, _ := io.ReadAll(c)
		return bytes.Contains(b, []byte("in-container"))
	})
}
