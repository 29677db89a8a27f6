package sshgate

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// remoteSSHScript has the shape of VS Code Remote-SSH's server setup script: markers,
// a server started in the background with its output redirected, key==value== lines,
// then a keep-alive loop that holds the exec channel open.
const remoteSSHScript = `
echo "mochi-id: running"
LOG=$(mktemp)
/usr/bin/python3 -u -m http.server 0 --bind 127.0.0.1 > "$LOG" 2>&1 < /dev/null &
PID=$!
for i in $(seq 1 100); do
  PORT=$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$LOG" | head -n1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
echo "mochi-id: start"
echo "listeningOn==$PORT=="
echo "serverPid==$PID=="
echo "osReleaseId==$(. /etc/os-release; echo $ID)=="
echo "mochi-id: end"
while true; do sleep 180; printf ' '; done
`

func TestRemoteSSHStyleSession(t *testing.T) {
	needBinary(t, "ssh", "/usr/bin/python3")
	e := newRealEnv(t)
	socks := freePort(t)
	cmd := e.command("ssh", "-F", e.sshCfg, "-o", "BatchMode=yes", "-T", "-D", fmt.Sprintf("127.0.0.1:%d", socks),
		"-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=1", "ws1.mochi", "bash")
	cmd.Stdin = strings.NewReader(remoteSSHScript)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sshDone := false
	t.Cleanup(func() {
		if !sshDone {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	vals := map[string]string{}
	kv := regexp.MustCompile(`^(\w+)==(.*)==$`)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := kv.FindStringSubmatch(sc.Text()); m != nil {
			vals[m[1]] = m[2]
		}
		if sc.Text() == "mochi-id: end" {
			break
		}
	}
	port, err := strconv.Atoi(vals["listeningOn"])
	if err != nil {
		t.Fatalf("no port in the script's output: %v", vals)
	}
	pid, _ := strconv.Atoi(vals["serverPid"])
	if pid > 0 {
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
	go io.Copy(io.Discard, stdout)

	// The tunnel: an HTTP request through ssh's SOCKS port, i.e. direct-tcpip to
	// 127.0.0.1:<port> as the agent sees it.
	get := func(dial func() (net.Conn, error)) (int, error) {
		c, err := dial()
		if err != nil {
			return 0, err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	code, err := get(func() (net.Conn, error) { return socks5Dial(fmt.Sprintf("127.0.0.1:%d", socks), "127.0.0.1", port) })
	if err != nil || code != 200 {
		t.Fatalf("GET through -D: %d %v", code, err)
	}
	// The server outlives the ssh connection that started it.
	cmd.Process.Kill()
	cmd.Wait()
	sshDone = true
	code, err = get(func() (net.Conn, error) { return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)) })
	if err != nil || code != 200 {
		t.Fatalf("server after the connection ended: %d %v", code, err)
	}
}
