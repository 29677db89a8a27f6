package sshgate

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// realEnv is a gateway plus what real clients need to reach workspace ws1 through it:
// a user key on disk and the ssh_config/known_hosts that WriteSSHConfig writes.
type realEnv struct {
	*gateway
	home    string // HOME for the client processes
	keyPath string
	sshCfg  string
	port    int
}

// newRealEnv is a gateway for real clients whose link goes to an agent on a unix socket,
// as for every local workspace: bulk data is handed over (sftp, forwards) there. The
// in-process tests (gateway_test.go) cover links over a private stream.
func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	return newRealEnvConfig(t, nil)
}

func newRealEnvConfig(t *testing.T, mutate func(*Config)) *realEnv {
	t.Helper()
	return newRealEnvLink(t, true, mutate)
}

// linkModes are the two kinds of agent link that tests of the data paths run over.
var linkModes = []struct {
	name   string
	socket bool
}{{"socket", true}, {"stream", false}}

// newRealEnvLink is newRealEnvConfig with the link over a socket or a private stream.
func newRealEnvLink(t *testing.T, socket bool, mutate func(*Config)) *realEnv {
	t.Helper()
	g := startGatewayLink(t, socket, mutate)
	home := t.TempDir()
	keyPath := UserKeyPath(home)
	signer, err := GenerateUserKey(keyPath, "tester@mochi")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Keys().Add("ws1", signer.PublicKey(), "tester"); err != nil {
		t.Fatal(err)
	}
	_, portStr, _ := net.SplitHostPort(g.addr)
	port, _ := strconv.Atoi(portStr)
	cfg, err := WriteSSHConfig(ConfigDir(home), g.srv.HostKey(), []Host{{Workspace: "ws1", HostName: "127.0.0.1", Port: port, IdentityFile: keyPath}})
	if err != nil {
		t.Fatal(err)
	}
	return &realEnv{gateway: g, home: home, keyPath: keyPath, sshCfg: cfg, port: port}
}

func needBinary(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not installed", n)
		}
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs a client program with HOME pointing at the test's home and no ssh-agent.
func (e *realEnv) run(t *testing.T, stdin string, name string, args ...string) result {
	t.Helper()
	cmd := e.command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return result{out.String(), errb.String(), code}
}

func (e *realEnv) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+e.home, "SSH_AUTH_SOCK=")
	cmd.Dir = e.home
	return cmd
}

func (e *realEnv) ssh(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return e.run(t, stdin, "ssh", append([]string{"-F", e.sshCfg, "-o", "BatchMode=yes"}, args...)...)
}

func writeRandom(t *testing.T, path string, size int, mode os.FileMode) []byte {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
	return b
}

func sameFile(t *testing.T, want []byte, path string, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes differ from the %d sent", path, len(got), len(want))
	}
	if mode != 0 {
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != mode {
			t.Fatalf("%s: mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
}

func TestOpenSSHExec(t *testing.T) {
	needBinary(t, "ssh")
	for _, lm := range linkModes {
		t.Run(lm.name, func(t *testing.T) {
			e := newRealEnvLink(t, lm.socket, nil)
			r := e.ssh(t, "", "ws1.mochi", "echo out; echo err >&2; exit 7")
			if r.code != 7 || r.stdout != "out\n" || !strings.Contains(r.stderr, "err\n") {
				t.Fatalf("exec: %+v", r)
			}
			r = e.ssh(t, "", "ws1.mochi", "kill -TERM $$")
			if r.code != 255 {
				t.Fatalf("death by signal: %+v, want 255", r)
			}
			script := "uname -s\nprintf 'c\\na\\nb\\n' | sort\nexit 0\n"
			r = e.ssh(t, script, "-T", "ws1.mochi", "bash")
			if r.code != 0 || r.stdout != "Linux\na\nb\nc\n" {
				t.Fatalf("ssh -T bash < script: %+v", r)
			}
			r = e.ssh(t, "x\ny\n", "ws1.mochi", "wc -l")
			if strings.TrimSpace(r.stdout) != "2" {
				t.Fatalf("stdin EOF: %+v", r)
			}
		})
	}
}

func TestOpenSSHPtyExitCode(t *testing.T) {
	needBinary(t, "ssh")
	e := newRealEnv(t)
	r := e.ssh(t, "", "-tt", "ws1.mochi", "test -t 1 && echo tty; exit 9")
	if r.code != 9 || !strings.Contains(r.stdout, "tty\r\n") {
		t.Fatalf("ssh -tt: %+v", r)
	}
	// An interactive login shell: commands typed on the terminal, in the home folder.
	r = e.ssh(t, "echo \"in $(pwd) as $0\"; exit 3\n", "-tt", "ws1.mochi")
	if r.code != 3 || !strings.Contains(r.stdout, "in "+e.userHome+" as -") {
		t.Fatalf("ssh -tt shell: %+v", r)
	}
}

// freePort returns a TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// background starts ssh with forwarding options and stops it at the end of the test.
func (e *realEnv) background(t *testing.T, args ...string) {
	t.Helper()
	cmd := e.command("ssh", append([]string{"-F", e.sshCfg, "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-N"}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("ssh %v stderr:\n%s", args, errb.String())
		}
	})
}

func counterServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go serveCount(l)
	return l.Addr().(*net.TCPAddr).Port
}

// exchange sends hello over a fresh connection made by dial, half-closes and returns
// the answer; it retries while the forward is being set up.
func exchange(t *testing.T, what string, dial func() (net.Conn, error)) {
	t.Helper()
	waitFor(t, what, func() bool {
		c, err := dial()
		if err != nil {
			return false
		}
		defer c.Close()
		io.WriteString(c, "hello")
		c.(interface{ CloseWrite() error }).CloseWrite()
		b, _ := io.ReadAll(c)
		return string(b) == "got 5"
	})
}

func TestOpenSSHForwarding(t *testing.T) {
	needBinary(t, "ssh")
	for _, lm := range linkModes {
		t.Run(lm.name, func(t *testing.T) {
			e := newRealEnvLink(t, lm.socket, nil)
			target := counterServer(t)

			lport := freePort(t)
			e.background(t, "-L", fmt.Sprintf("127.0.0.1:%d:localhost:%d", lport, target), "ws1.mochi")
			exchange(t, "ssh -L", func() (net.Conn, error) { return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", lport)) })

			rport := freePort(t)
			e.background(t, "-R", fmt.Sprintf("%d:127.0.0.1:%d", rport, target), "ws1.mochi")
			exchange(t, "ssh -R", func() (net.Conn, error) { return net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", rport)) })

			dport := freePort(t)
			e.background(t, "-D", fmt.Sprintf("127.0.0.1:%d", dport), "ws1.mochi")
			exchange(t, "ssh -D", func() (net.Conn, error) {
				return socks5Dial(fmt.Sprintf("127.0.0.1:%d", dport), "localhost", target)
			})
		})
	}
}

// socks5Dial connects through a SOCKS5 proxy to host:port, the host sent as a name so
// that the far side resolves it.
func socks5Dial(proxy, host string, port int) (net.Conn, error) {
	c, err := net.Dial("tcp", proxy)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fail := func(err error) (net.Conn, error) { c.Close(); return nil, err }
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return fail(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(c, buf); err != nil || buf[1] != 0 {
		return fail(fmt.Errorf("socks greeting: %v %v", buf, err))
	}
	req := []byte{5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req); err != nil {
		return fail(err)
	}
	head := make([]byte, 4)
	if _, err := io.ReadFull(c, head); err != nil || head[1] != 0 {
		return fail(fmt.Errorf("socks connect: %v %v", head, err))
	}
	skip := map[byte]int{1: 4 + 2, 4: 16 + 2}[head[3]]
	if head[3] == 3 {
		l := make([]byte, 1)
		io.ReadFull(c, l)
		skip = int(l[0]) + 2
	}
	if _, err := io.ReadFull(c, make([]byte, skip)); err != nil {
		return fail(err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func TestSCP(t *testing.T) {
	needBinary(t, "ssh", "scp")
	for _, lm := range linkModes {
		t.Run(lm.name, func(t *testing.T) {
			e := newRealEnvLink(t, lm.socket, nil)
			dir := t.TempDir()
			src := filepath.Join(dir, "src.bin")
			want := writeRandom(t, src, 3<<20, 0o751)
			for _, mode := range []struct {
				name  string
				flags []string
			}{{"sftp", nil}, {"legacy", []string{"-O"}}} {
				t.Run(mode.name, func(t *testing.T) {
					up := filepath.Join(dir, "up-"+mode.name)
					args := append([]string{"-F", e.sshCfg, "-o", "BatchMode=yes", "-p"}, mode.flags...)
					r := e.run(t, "", "scp", append(args, src, "ws1.mochi:"+up)...)
					if r.code != 0 {
						t.Fatalf("scp upload: %+v", r)
					}
					sameFile(t, want, up, 0o751)
					down := filepath.Join(dir, "down-"+mode.name)
					r = e.run(t, "", "scp", append(args, "ws1.mochi:"+up, down)...)
					if r.code != 0 {
						t.Fatalf("scp download: %+v", r)
					}
					sameFile(t, want, down, 0o751)
				})
			}
			// Through an agent on a socket the transfers' data was handed over; through a
			// stream it cannot be.
			if n := e.srv.handedOver.Load(); (n > 0) != lm.socket {
				t.Fatalf("%d channels handed over through a %s link", n, lm.name)
			}
		})
	}
}

func TestSFTPBatch(t *testing.T) {
	needBinary(t, "sftp")
	e := newRealEnv(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "a.txt")
	want := writeRandom(t, src, 100000, 0o640)
	remote := filepath.Join(dir, "remote")
	os.Mkdir(remote, 0o755)
	batch := filepath.Join(dir, "batch")
	os.WriteFile(batch, []byte(fmt.Sprintf(`cd %s
put -p %s a.txt
rename a.txt b.txt
chmod 600 b.txt
get b.txt %s/back.txt
ls -l
`, remote, src, dir)), 0o644)
	r := e.run(t, "", "sftp", "-F", e.sshCfg, "-o", "BatchMode=yes", "-b", batch, "ws1.mochi")
	if r.code != 0 {
		t.Fatalf("sftp -b: %+v", r)
	}
	sameFile(t, want, filepath.Join(remote, "b.txt"), 0o600)
	sameFile(t, want, filepath.Join(dir, "back.txt"), 0)
	if !strings.Contains(r.stdout, "b.txt") {
		t.Fatalf("ls output: %q", r.stdout)
	}
}

func TestRsync(t *testing.T) {
	needBinary(t, "ssh", "rsync")
	e := newRealEnv(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	one := writeRandom(t, filepath.Join(src, "one"), 200000, 0o600)
	two := writeRandom(t, filepath.Join(src, "sub", "two"), 5000, 0o755)
	dst := filepath.Join(dir, "dst")
	rsh := "ssh -F " + e.sshCfg + " -o BatchMode=yes"
	r := e.run(t, "", "rsync", "-a", "-e", rsh, src+"/", "ws1.mochi:"+dst+"/")
	if r.code != 0 {
		t.Fatalf("rsync: %+v", r)
	}
	sameFile(t, one, filepath.Join(dst, "one"), 0o600)
	sameFile(t, two, filepath.Join(dst, "sub", "two"), 0o755)
	// A second run has nothing to send and still exits 0.
	if r := e.run(t, "", "rsync", "-a", "-e", rsh, src+"/", "ws1.mochi:"+dst+"/"); r.code != 0 {
		t.Fatalf("rsync again: %+v", r)
	}
}

func TestGitClone(t *testing.T) {
	needBinary(t, "ssh", "git")
	e := newRealEnv(t)
	dir := t.TempDir()
	gitEnv := []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	git := func(args ...string) result {
		t.Helper()
		cmd := e.command("git", args...)
		cmd.Env = append(cmd.Env, gitEnv...)
		cmd.Env = append(cmd.Env, "GIT_SSH_COMMAND=ssh -F "+e.sshCfg+" -o BatchMode=yes")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		return result{out.String(), errb.String(), code}
	}
	work := filepath.Join(dir, "work")
	bare := filepath.Join(dir, "repo.git")
	for _, args := range [][]string{
		{"init", "-q", "-b", "main", work},
		{"-C", work, "commit", "-q", "--allow-empty", "-m", "first"},
		{"clone", "-q", "--bare", work, bare},
	} {
		if r := git(args...); r.code != 0 {
			t.Fatalf("git %v: %+v", args, r)
		}
	}
	os.WriteFile(filepath.Join(work, "f.txt"), []byte("content\n"), 0o644)
	clone := filepath.Join(dir, "clone")
	r := git("-c", "protocol.version=2", "clone", "-q", "ssh://ws1.mochi"+bare, clone)
	if r.code != 0 {
		t.Fatalf("git clone: %+v", r)
	}
	r = git("-C", clone, "log", "--format=%s")
	if r.stdout != "first\n" {
		t.Fatalf("cloned log %q", r.stdout)
	}
	// And push back (git-receive-pack).
	if r := git("-C", clone, "commit", "-q", "--allow-empty", "-m", "second"); r.code != 0 {
		t.Fatal(r)
	}
	if r := git("-C", clone, "push", "-q", "origin", "main"); r.code != 0 {
		t.Fatalf("git push: %+v", r)
	}
	if r := git("-C", bare, "log", "--format=%s", "main"); r.stdout != "second\nfirst\n" {
		t.Fatalf("bare log after push %q", r.stdout)
	}
}

func TestParamiko(t *testing.T) {
	needBinary(t, "/usr/bin/python3")
	if err := exec.Command("/usr/bin/python3", "-c", "import paramiko").Run(); err != nil {
		t.Skip("paramiko not installed")
	}
	e := newRealEnv(t)
	dir := t.TempDir()
	script := `
import sys, paramiko, io, os
port, key, d, hostkey = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = paramiko.SSHClient()
c.get_host_keys().add("[127.0.0.1]:%d" % port, "ssh-ed25519", paramiko.Ed25519Key(data=__import__("base64").b64decode(hostkey)))
c.connect("127.0.0.1", port=port, username="ws1", key_filename=key, look_for_keys=False, allow_agent=False)
def run(cmd, pty=False):
    chan = c.get_transport().open_session()
    if pty:
        chan.get_pty()
    chan.exec_command(cmd)
    out = chan.makefile("rb").read()
    return chan.recv_exit_status(), out
print("exec", *run("echo hi; exit 4"))
print("missing", run("test -x /nonexistent")[0])
print("pty", run("exit 6", pty=True)[0])
sftp = c.open_sftp()
local = os.path.join(d, "p.bin")
with open(local, "wb") as f:
    f.write(os.urandom(300000))
sftp.put(local, os.path.join(d, "up.bin"))
sftp.chmod(os.path.join(d, "up.bin"), 0o705)
sftp.get(os.path.join(d, "up.bin"), os.path.join(d, "down.bin"))
print("mode", oct(sftp.stat(os.path.join(d, "up.bin")).st_mode & 0o777))
sftp.close()
c.close()
`
	hostKey := strings.Fields(string(ssh.MarshalAuthorizedKey(e.srv.HostKey())))[1]
	r := e.run(t, "", "/usr/bin/python3", "-c", script, strconv.Itoa(e.port), e.keyPath, dir, hostKey)
	if r.code != 0 {
		t.Fatalf("paramiko: %+v", r)
	}
	want := "exec 4 b'hi\\n'\nmissing 1\npty 6\nmode 0o705\n"
	if r.stdout != want {
		t.Fatalf("paramiko output:\n%s\nwant:\n%s", r.stdout, want)
	}
	up, _ := os.ReadFile(filepath.Join(dir, "p.bin"))
	sameFile(t, up, filepath.Join(dir, "down.bin"), 0)
}

func TestDropbearClient(t *testing.T) {
	needBinary(t, "dbclient", "dropbearconvert")
	e := newRealEnv(t)
	dbKey := filepath.Join(e.home, "id_dropbear")
	if r := e.run(t, "", "dropbearconvert", "openssh", "dropbear", e.keyPath, dbKey); r.code != 0 {
		t.Fatalf("dropbearconvert: %+v", r)
	}
	// -y -y skips host key checking: the key pinning is OpenSSH's part of this suite.
	r := e.run(t, "a\nb\n", "dbclient", "-y", "-y", "-i", dbKey, "-p", strconv.Itoa(e.port), "ws1@127.0.0.1", "wc -l; exit 5")
	if r.code != 5 || strings.TrimSpace(r.stdout) != "2" {
		t.Fatalf("dbclient: %+v", r)
	}
}

func TestPuTTY(t *testing.T) {
	needBinary(t, "plink", "pscp", "puttygen")
	e := newRealEnv(t)
	ppk := filepath.Join(e.home, "id.ppk")
	if r := e.run(t, "", "puttygen", e.keyPath, "-O", "private", "-o", ppk); r.code != 0 {
		t.Fatalf("puttygen: %+v", r)
	}
	fp := ssh.FingerprintSHA256(e.srv.HostKey())
	common := []string{"-batch", "-P", strconv.Itoa(e.port), "-i", ppk, "-hostkey", fp}
	r := e.run(t, "", "plink", append(common, "-ssh", "ws1@127.0.0.1", "echo plink; exit 3")...)
	if r.code != 3 || r.stdout != "plink\n" {
		t.Fatalf("plink: %+v", r)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	want := writeRandom(t, src, 500000, 0o644)
	for _, proto := range []string{"-sftp", "-scp"} {
		dst := filepath.Join(dir, "dst"+proto)
		r := e.run(t, "", "pscp", append(common, proto, src, "ws1@127.0.0.1:"+dst)...)
		if r.code != 0 {
			t.Fatalf("pscp %s: %+v", proto, r)
		}
		sameFile(t, want, dst, 0)
	}
}

// A process started in the background by an exec, its output redirected, outlives the
// session: ssh returns at once and the process runs on, over either kind of link (with a
// socket link the session's pipes are the gateway's, not the agent's).
func TestOpenSSHBackgroundSurvives(t *testing.T) {
	needBinary(t, "ssh")
	for _, lm := range linkModes {
		t.Run(lm.name, func(t *testing.T) {
			e := newRealEnvLink(t, lm.socket, nil)
			r := e.ssh(t, "", "ws1.mochi", "nohup sleep 60 >/dev/null 2>&1 & echo $!")
			pid, err := strconv.Atoi(strings.TrimSpace(r.stdout))
			if r.code != 0 || err != nil {
				t.Fatalf("start in the background: %+v", r)
			}
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
			time.Sleep(200 * time.Millisecond)
			if err := syscall.Kill(pid, 0); err != nil {
				t.Fatalf("background process %d is gone after the session ended: %v", pid, err)
			}
		})
	}
}
