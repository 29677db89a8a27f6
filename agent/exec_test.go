package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestExecExitStatus(t *testing.T) {
	c := startAgent(t, Options{})
	tests := []struct {
		cmd    string
		status int
		signal string
	}{
		{cmd: "true", status: 0},
		{cmd: "exit 3", status: 3},
		{cmd: "test -x /nonexistent", status: 1},
		{cmd: "no-such-command-mochi", status: 127},
		{cmd: "kill -TERM $$", signal: "TERM"},
		{cmd: "kill -KILL $$", signal: "KILL"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			_, _, err := run(t, c, tt.cmd, "")
			var ee *ssh.ExitError
			switch {
			case tt.status == 0 && tt.signal == "":
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
			case !errors.As(err, &ee):
				t.Fatalf("got %v, want an exit error", err)
			case tt.signal != "" && ee.Signal() != tt.signal:
				t.Fatalf("signal = %q, want %q (%v)", ee.Signal(), tt.signal, err)
			case tt.signal == "" && ee.ExitStatus() != tt.status:
				t.Fatalf("status = %d, want %d", ee.ExitStatus(), tt.status)
			}
		})
	}
}

func TestExecStdoutStderrApart(t *testing.T) {
	c := startAgent(t, Options{})
	out, errOut, err := run(t, c, "echo out; echo err >&2; echo out2", "")
	if err != nil {
		t.Fatal(err)
	}
	if out != "out\nout2\n" || errOut != "err\n" {
		t.Fatalf("stdout %q stderr %q", out, errOut)
	}
}

func TestExecStdinEOF(t *testing.T) {
	c := startAgent(t, Options{})
	out, _, err := run(t, c, "sort -r", "a\nc\nb\n")
	if err != nil {
		t.Fatal(err)
	}
	if out != "c\nb\na\n" {
		t.Fatalf("sort -r gave %q", out)
	}
}

func TestExecLongCommandLine(t *testing.T) {
	c := startAgent(t, Options{})
	payload := strings.Repeat("x", 64*1024)
	out, _, err := run(t, c, "printf %s '"+payload+"' | wc -c", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != strconv.Itoa(len(payload)) {
		t.Fatalf("wc -c = %q, want %d", out, len(payload))
	}
}

func TestExecNoBanner(t *testing.T) {
	c := startAgent(t, Options{})
	out, errOut, err := run(t, c, "true", "")
	if err != nil || out != "" || errOut != "" {
		t.Fatalf("true printed stdout %q stderr %q (err %v)", out, errOut, err)
	}
}

func TestEnvRequests(t *testing.T) {
	c := startAgent(t, Options{Env: []string{"FROM_OPTIONS=1", "LANG=C"}})
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, kv := range [][2]string{{"LANG", "C.UTF-8"}, {"LC_ALL", "C.UTF-8"}, {"GIT_PROTOCOL", "version=2"}, {"TERM", "xterm-256color"}} {
		if err := s.Setenv(kv[0], kv[1]); err != nil {
			t.Fatalf("setenv %s refused: %v", kv[0], err)
		}
	}
	for _, k := range []string{"LD_PRELOAD", "PATH"} {
		if err := s.Setenv(k, "/tmp/evil"); err == nil {
			t.Fatalf("setenv %s accepted", k)
		}
	}
	out, err := s.Output(`echo "$LANG|$LC_ALL|$GIT_PROTOCOL|$TERM|$FROM_OPTIONS|$LD_PRELOAD|$HOME|$USER"`)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	want := fmt.Sprintf("C.UTF-8|C.UTF-8|version=2|xterm-256color|1||%s|%s\n", home, os.Getenv("USER"))
	if os.Getuid() == 0 {
		want = "C.UTF-8|C.UTF-8|version=2|xterm-256color|1||/root|root\n"
	}
	if string(out) != want {
		t.Fatalf("env = %q, want %q", out, want)
	}
}

func TestSessionDir(t *testing.T) {
	dir := worldDir(t)
	c := startAgent(t, Options{Dir: dir})
	out, _, err := run(t, c, "pwd", "")
	if err != nil || strings.TrimSpace(out) != dir {
		t.Fatalf("pwd = %q (%v), want %s", out, err, dir)
	}
}

func TestSessionAsUser(t *testing.T) {
	requireRoot(t)
	etc := worldDir(t)
	home := worldDir(t)
	os.Chown(home, 4242, 4242)
	passwd := writeFile(t, etc, "passwd", "root:x:0:0:root:/root:/bin/sh\ntester:x:4242:4242:Test:"+home+":/bin/sh\n")
	group := writeFile(t, etc, "group", "root:x:0:\ntester:x:4242:\nextra:x:4343:someone,tester\nother:x:4444:someone\n")
	c := startAgent(t, Options{User: "tester", PasswdFile: passwd, GroupFile: group})
	out, _, err := run(t, c, `id -u; id -g; id -G; echo "$HOME $USER $LOGNAME $SHELL"; pwd; touch f; stat -c %u f`, "")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("4242\n4242\n4242 4343\n%s tester tester /bin/sh\n%s\n4242\n", home, home)
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

func TestSessionUnknownUser(t *testing.T) {
	etc := worldDir(t)
	passwd := writeFile(t, etc, "passwd", "root:x:0:0:root:/root:/bin/sh\n")
	c := startAgent(t, Options{User: "ghost", PasswdFile: passwd})
	_, errOut, err := run(t, c, "true", "")
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 1 || !strings.Contains(errOut, "ghost") {
		t.Fatalf("got %v, stderr %q; want status 1 naming the user", err, errOut)
	}
}

func TestBackgroundProcessSurvivesChannel(t *testing.T) {
	dir := worldDir(t)
	fifo := filepath.Join(dir, "go")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "survived")
	c := startAgent(t, Options{})
	// The background job blocks on the fifo until the test writes to it, which happens
	// only after the session that started it has closed.
	cmd := fmt.Sprintf("(read x < %s; echo \"$x\" > %s) >/dev/null 2>&1 </dev/null & echo started", fifo, marker)
	out, _, err := run(t, c, cmd, "")
	if err != nil || out != "started\n" {
		t.Fatalf("start background job: %q %v", out, err)
	}
	if err := os.WriteFile(fifo, []byte("yes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the background job's marker", func() bool {
		b, err := os.ReadFile(marker)
		return err == nil && string(b) == "yes\n"
	})
}

func TestSignalRequest(t *testing.T) {
	c := startAgent(t, Options{})
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stdout, _ := s.StdoutPipe()
	if err := s.Start("echo ready; exec sleep 60"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("read ready: %q %v", buf, err)
	}
	if err := s.Signal(ssh.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	var ee *ssh.ExitError
	if err := s.Wait(); !errors.As(err, &ee) || ee.Signal() != "USR1" {
		t.Fatalf("wait: %v, want exit-signal USR1", err)
	}
}
