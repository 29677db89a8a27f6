package agent

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestPtyExitStatusAndTerm(t *testing.T) {
	c := startAgent(t, Options{})
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm-mochi", 24, 80, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.Stdout = &out
	err = s.Run(`test -t 0 && test -t 1 && echo "tty $TERM $(test "$SSH_TTY" = "$(tty)" && echo ssh_tty)"; exit 7`)
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 7 {
		t.Fatalf("exit: %v, want status 7", err)
	}
	if got := strings.TrimSpace(out.String()); got != "tty xterm-mochi ssh_tty" {
		t.Fatalf("output %q", got)
	}
}

func TestPtyModesNoNewlineRewriting(t *testing.T) {
	c := startAgent(t, Options{})
	for _, tt := range []struct {
		onlcr uint32
		want  string
	}{
		{onlcr: 1, want: "a\r\nb\r\n"},
		{onlcr: 0, want: "a\nb\n"},
	} {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ONLCR: tt.onlcr, ssh.OPOST: 1}); err != nil {
			t.Fatal(err)
		}
		out, err := s.Output(`printf 'a\nb\n'`)
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != tt.want {
			t.Fatalf("ONLCR=%d: output %q, want %q", tt.onlcr, out, tt.want)
		}
	}
}

func TestPtyWindowChange(t *testing.T) {
	c := startAgent(t, Options{})
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := s.StdinPipe()
	stdout, _ := s.StdoutPipe()
	if err := s.Start(`stty size; read x; stty size`); err != nil {
		t.Fatal(err)
	}
	readLine := func() string {
		var b []byte
		one := make([]byte, 1)
		for {
			if _, err := stdout.Read(one); err != nil {
				t.Fatalf("read: %v (so far %q)", err, b)
			}
			if one[0] == '\n' {
				return strings.TrimSpace(string(b))
			}
			b = append(b, one[0])
		}
	}
	if got := readLine(); got != "24 80" {
		t.Fatalf("first size %q", got)
	}
	// With want-reply the resize has happened before the newline is sent.
	ok, err := s.SendRequest("window-change", true, ssh.Marshal(windowChange{Cols: 132, Rows: 50}))
	if err != nil || !ok {
		t.Fatalf("window-change: %v %v", ok, err)
	}
	io.WriteString(stdin, "\n")
	if got := readLine(); got != "50 132" {
		t.Fatalf("size after window-change %q", got)
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestPtyShellIsLoginShell(t *testing.T) {
	c := startAgent(t, Options{})
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{ssh.ECHO: 0}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.Stdout = &out
	s.Stdin = strings.NewReader("echo \"argv0=$0\"; exit 5\n")
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	err = s.Wait()
	var ee *ssh.ExitError
	if !errors.As(err, &ee) || ee.ExitStatus() != 5 {
		t.Fatalf("shell exit: %v, want 5", err)
	}
	if !strings.Contains(out.String(), "argv0=-") {
		t.Fatalf("shell is not a login shell: %q", out.String())
	}
}
