package providertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

func (s *suite) execer(t *testing.T) providers.Execer {
	e, ok := s.p.(providers.Execer)
	if !ok {
		t.Skipf("%s does not implement Execer", s.p.Capabilities().Name)
	}
	return e
}

// run execs spec and returns the exit code, stdout and stderr.
func (s *suite) run(t *testing.T, id string, spec providers.ExecSpec) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	spec.Stdout, spec.Stderr = &stdout, &stderr
	code, err := s.execer(t).Exec(s.ctx(t), id, spec)
	if err != nil {
		t.Fatalf("Exec(%q): %v", spec.Cmd, err)
	}
	return code, stdout.String(), stderr.String()
}

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func (s *suite) testExec(t *testing.T, id string) {
	t.Run("ExitCode", func(t *testing.T) {
		for _, want := range []int{0, 1, 3, 255} {
			code, _, _ := s.run(t, id, providers.ExecSpec{Cmd: sh("exit " + strconv.Itoa(want))})
			if code != want {
				t.Errorf("exit %d: code = %d", want, code)
			}
		}
	})
	t.Run("Signal", func(t *testing.T) {
		code, _, _ := s.run(t, id, providers.ExecSpec{Cmd: sh("kill -9 $$")})
		if code != 128+9 {
			t.Errorf("killed by SIGKILL: code = %d, want 137", code)
		}
	})
	t.Run("StdoutStderr", func(t *testing.T) {
		code, out, errOut := s.run(t, id, providers.ExecSpec{Cmd: sh("echo to-stdout; echo to-stderr >&2; echo more-stdout")})
		if code != 0 || out != "to-stdout\nmore-stdout\n" || errOut != "to-stderr\n" {
			t.Errorf("code %d stdout %q stderr %q", code, out, errOut)
		}
	})
	t.Run("NilWriters", func(t *testing.T) {
		code, err := s.execer(t).Exec(s.ctx(t), id, providers.ExecSpec{Cmd: sh("echo discarded; echo discarded >&2; exit 4")})
		if err != nil || code != 4 {
			t.Errorf("Exec with nil writers = %d, %v; want 4, nil", code, err)
		}
	})
	t.Run("StdinEOF", func(t *testing.T) {
		in := strings.Repeat("line of input\n", 5000)
		code, out, _ := s.run(t, id, providers.ExecSpec{Cmd: []string{"/bin/cat"}, Stdin: strings.NewReader(in)})
		if code != 0 || out != in {
			t.Errorf("cat: code %d, %d bytes out, want %d", code, len(out), len(in))
		}
		code, out, _ = s.run(t, id, providers.ExecSpec{Cmd: sh("read line; echo \"got $line\""), Stdin: strings.NewReader("")})
		if code != 0 || out != "got \n" {
			t.Errorf("read at EOF: code %d stdout %q", code, out)
		}
	})
	t.Run("Env", func(t *testing.T) {
		_, out, _ := s.run(t, id, providers.ExecSpec{Cmd: sh(`echo "$MOCHI_EXEC|$MOCHI_CREATE"`), Env: []string{"MOCHI_EXEC=exec value"}})
		if firstLine(out) != "exec value|created value" {
			t.Errorf("env: stdout %q", out)
		}
		_, out, _ = s.run(t, id, providers.ExecSpec{Cmd: sh(`echo "$MOCHI_CREATE"`), Env: []string{"MOCHI_CREATE=overridden"}})
		if firstLine(out) != "overridden" {
			t.Errorf("exec env overriding instance env: stdout %q", out)
		}
	})
	t.Run("WorkDir", func(t *testing.T) {
		_, out, _ := s.run(t, id, providers.ExecSpec{Cmd: sh("pwd"), WorkDir: "/etc"})
		if firstLine(out) != "/etc" {
			t.Errorf("pwd in /etc: stdout %q", out)
		}
	})
	t.Run("User", func(t *testing.T) {
		if s.opts.User == "" {
			t.Skip("no Options.User")
		}
		uid, _, _ := strings.Cut(s.opts.User, ":")
		_, out, _ := s.run(t, id, providers.ExecSpec{Cmd: []string{"/bin/id", "-u"}})
		if firstLine(out) != uid {
			t.Errorf("id -u as the instance user: %q, want %s", out, uid)
		}
		_, out, _ = s.run(t, id, providers.ExecSpec{Cmd: []string{"/bin/id", "-u"}, User: "0"})
		if firstLine(out) != "0" {
			t.Errorf("id -u as user 0: %q", out)
		}
	})
	t.Run("Tty", func(t *testing.T) {
		var out bytes.Buffer
		code, err := s.execer(t).Exec(s.ctx(t), id, providers.ExecSpec{Cmd: sh("echo one; echo two >&2"), Tty: true, Stdout: &out})
		if err != nil || code != 0 {
			t.Fatalf("Exec with Tty = %d, %v", code, err)
		}
		got := strings.ReplaceAll(out.String(), "\r\n", "\n")
		if !strings.Contains(got, "one\n") || !strings.Contains(got, "two\n") {
			t.Errorf("Tty output %q lacks stdout or stderr", out.String())
		}
	})
	t.Run("ContextCancel", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err := s.execer(t).Exec(ctx, id, providers.ExecSpec{Cmd: sh("sleep 60")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Exec past its deadline: error = %v, want DeadlineExceeded", err)
		}
	})
}

func (s *suite) testAttach(t *testing.T, id string) {
	a, ok := s.p.(providers.Attacher)
	if !ok {
		t.Skipf("%s does not implement Attacher", s.p.Capabilities().Name)
	}
	rwc, err := a.Attach(s.ctx(t), id, sh("echo noise on stderr >&2; cat"))
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	defer rwc.Close()
	msg := "ping through the attach stream\n"
	if _, err := io.WriteString(rwc, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(rwc, buf); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if string(buf) != msg {
		t.Errorf("echo = %q, want %q", buf, msg)
	}
	cw, ok := rwc.(interface{ CloseWrite() error })
	if !ok {
		t.Fatalf("attach stream %T has no CloseWrite", rwc)
	}
	if _, err := io.WriteString(rwc, "last"); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatalf("CloseWrite: %v", err)
	}
	rest, err := io.ReadAll(rwc)
	if err != nil {
		t.Fatalf("read to EOF after CloseWrite: %v", err)
	}
	if string(rest) != "last" {
		t.Errorf("after CloseWrite read %q, want %q (and no stderr)", rest, "last")
	}
}
