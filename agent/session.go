package agent

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/crypto/ssh"
)

// session is one "session" channel: at most one program (shell, exec or subsystem).
type session struct {
	a    *conn
	p    *peer
	ch   ssh.Channel
	spec SessionSpec

	mu        sync.Mutex
	env       envList // accepted env requests
	pty       *ptyState
	started   bool
	closed    bool
	proc      *os.Process
	agentSock string
}

type ptyState struct {
	master, tty *os.File
	term        string
	// drained: the program runs with `docker exec` semantics (SessionSpec.Plain) and
	// started; the goroutine reading the master owns it and closes it only once the last
	// holder of the terminal has closed it, so the terminal is never hung up.
	drained bool
}

func (a *conn) handleSession(p *peer, nc ssh.NewChannel, relayed bool) {
	var spec SessionSpec
	if relayed { // a relayed client gets the connection's defaults, never its own choice
		a.mu.Lock()
		spec = a.defaults
		a.mu.Unlock()
	} else {
		var err error
		if spec, err = parseSessionSpec(nc.ExtraData()); err != nil {
			nc.Reject(ssh.ConnectionFailed, err.Error())
			return
		}
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	s := &session{a: a, p: p, ch: ch, spec: spec}
	for req := range reqs {
		s.handle(req)
	}
	// The client closed the channel: hang up a pty as sshd does (unless the session has
	// `docker exec` semantics, whose program keeps running as with a client that went
	// away); a program without a pty keeps running and sees EOF/EPIPE on its pipes.
	s.mu.Lock()
	s.closed = true
	if s.pty != nil && !s.pty.drained {
		s.pty.master.Close()
		if s.pty.tty != nil {
			s.pty.tty.Close()
		}
	}
	s.mu.Unlock()
	ch.Close()
}

func (s *session) handle(req *ssh.Request) {
	ok := false
	switch req.Type {
	case "env":
		var r envRequest
		if ssh.Unmarshal(req.Payload, &r) == nil && s.a.acceptEnv(r.Name) {
			s.mu.Lock()
			s.env.Set(r.Name, r.Value)
			s.mu.Unlock()
			ok = true
		}
	case "pty-req":
		var r ptyRequest
		if ssh.Unmarshal(req.Payload, &r) == nil {
			ok = s.openPty(r)
		}
	case "window-change":
		var r windowChange
		if ssh.Unmarshal(req.Payload, &r) == nil {
			s.mu.Lock()
			if s.pty != nil {
				ok = pty.Setsize(s.pty.master, winsize(r.Cols, r.Rows, r.Width, r.Height)) == nil
			}
			s.mu.Unlock()
		}
	case "shell":
		ok = s.start(req, "shell", "")
		return
	case "exec":
		var r execRequest
		if ssh.Unmarshal(req.Payload, &r) == nil {
			ok = s.start(req, "exec", r.Command)
			return
		}
	case "subsystem":
		var r execRequest
		if ssh.Unmarshal(req.Payload, &r) == nil && r.Command == "sftp" {
			ok = s.start(req, "sftp", "")
			return
		}
	case StartFDRequestType:
		s.startFD(req)
		return
	case "signal":
		var r signalRequest
		if ssh.Unmarshal(req.Payload, &r) == nil {
			if sig, known := signalByName[r.Signal]; known {
				s.mu.Lock()
				if s.proc != nil {
					ok = s.proc.Signal(sig) == nil
				}
				s.mu.Unlock()
			}
		}
	case "auth-agent-req@openssh.com":
		acct, err := s.a.account(s.spec.User)
		if err == nil {
			var path string
			if path, err = s.p.agentSocketFor(acct); err == nil {
				s.mu.Lock()
				s.agentSock = path
				s.mu.Unlock()
				ok = true
			}
		}
		if err != nil {
			s.a.log.Info("agent forwarding", "err", err)
		}
	}
	req.Reply(ok, nil)
}

func winsize(cols, rows, w, h uint32) *pty.Winsize {
	return &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows), X: uint16(w), Y: uint16(h)}
}

func (s *session) openPty(r ptyRequest) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty != nil || s.started {
		return false
	}
	master, tty, err := pty.Open()
	if err != nil {
		s.a.log.Info("open pty", "err", err)
		return false
	}
	pty.Setsize(master, winsize(r.Cols, r.Rows, r.Width, r.Height))
	if err := applyModes(tty, []byte(r.Modes)); err != nil {
		s.a.log.Debug("apply terminal modes", "err", err)
	}
	s.pty = &ptyState{master: master, tty: tty, term: r.Term}
	return true
}

// start runs the session's program and replies to req once it runs.
func (s *session) start(req *ssh.Request, kind, command string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		req.Reply(false, nil)
		return false
	}
	s.started = true
	cmd, err := s.command(kind, command)
	if err != nil {
		req.Reply(true, nil)
		go s.fail(err)
		return true
	}
	var finish func()
	if s.pty != nil && kind != "sftp" {
		finish, err = s.startPty(cmd)
	} else {
		finish, err = s.startPipes(cmd)
	}
	if err != nil {
		req.Reply(true, nil)
		go s.fail(fmt.Errorf("start %s: %w", cmd.Path, err))
		return true
	}
	s.proc = cmd.Process
	req.Reply(true, nil)
	go func() {
		err := cmd.Wait()
		finish()
		s.exit(cmd, err)
	}()
	return true
}

// command builds the program of a session as sshd would: the user's shell with -c for
// exec, a login shell for shell, the sftp server for the subsystem.
func (s *session) command(kind, command string) (*exec.Cmd, error) {
	acct, err := s.a.account(s.spec.User)
	if err != nil {
		return nil, err
	}
	cred, err := credential(acct)
	if err != nil {
		return nil, fmt.Errorf("run as %s: %w", acct.Name, err)
	}
	var env *envList
	if s.spec.Plain {
		env = plainEnv(acct)
		env.SetAll(s.spec.Env)
		if s.pty != nil && s.pty.term != "" {
			env.Set("TERM", s.pty.term)
		}
	} else {
		env = loginEnv(acct)
		env.SetAll(s.p.sshEnv())
		env.SetAll(s.a.opts.Env)
		env.SetAll(s.spec.Env)
		env.SetAll(s.env.List())
		if s.pty != nil && kind != "sftp" {
			if s.pty.term != "" {
				env.Set("TERM", s.pty.term)
			}
			env.Set("SSH_TTY", s.pty.tty.Name())
		}
	}
	if s.agentSock != "" {
		env.Set("SSH_AUTH_SOCK", s.agentSock)
	}
	cmd := &exec.Cmd{SysProcAttr: &syscall.SysProcAttr{Setsid: true, Credential: cred}}
	base := filepath.Base(acct.Shell)
	switch kind {
	case "shell":
		cmd.Path, cmd.Args = acct.Shell, []string{"-" + base}
		cmd.Dir = workDir(firstNonEmpty(s.spec.Dir, s.a.opts.ShellDir), acct.Home)
	case "exec":
		cmd.Path, cmd.Args = acct.Shell, []string{base, "-c", command}
		cmd.Dir = workDir(firstNonEmpty(s.spec.Dir, s.a.opts.Dir), acct.Home)
		if s.spec.Plain && len(s.spec.Argv) > 0 {
			path, err := lookPathIn(s.spec.Argv[0], env.Get("PATH"))
			if err != nil {
				return nil, &notFoundError{err}
			}
			cmd.Path, cmd.Args = path, s.spec.Argv
		}
	case "sftp":
		cmd.Path, cmd.Args = "/proc/self/exe", []string{"mochi-sftp-server"}
		cmd.Dir = workDir(acct.Home, "")
		env.Set(reexecEnv, reexecSFTP)
	}
	cmd.Env = env.List()
	return cmd, nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ForegroundJob wraps argv so that, run on a terminal (a session with a pty, or `docker
// exec -t`), it is the foreground job of a job-control shell: argv gets a process group of
// its own and the terminal, and the shell, as the terminal's session leader, takes the
// terminal back when argv ends and only then exits. The kernel hangs up the foreground
// group when the session leader exits, which is then the shell alone: whatever argv left
// running in the background (`server &`, `nohup server &`, `(server &)`, a program that
// forks and exits) keeps running, however slowly it starts, as it does when a hook runs
// without a terminal. As a foreground job argv may also use the terminal like any
// program: set its modes (stty, a prompt, a pager) or read it.
//
// Run as a background job instead (`"$@" & wait $!`), argv is stopped by SIGTTOU or
// SIGTTIN as soon as it sets the terminal's modes or reads it; wait then returns 150 or
// 149, the shell exits, and the kernel hangs up and continues the now orphaned, stopped
// process group: the program and every server it left without nohup are killed.
func ForegroundJob(argv []string) []string {
	return append([]string{"/bin/sh", "-c", foregroundJobScript, "mochi-job"}, argv...)
}

// foregroundJobScript: `set -m` turns job control on; "$@" is not the last command, so no
// shell runs it in its own process (exec) in place of forking it as a job.
const foregroundJobScript = `set -m
"$@"
exit $?`

// startPipes runs cmd with stdin, stdout and stderr as pipes to the channel. The
// returned func waits until the output is drained.
func (s *session) startPipes(cmd *exec.Cmd) (func(), error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	err = cmd.Start()
	inR.Close()
	outW.Close()
	errW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		errR.Close()
		return nil, err
	}
	go func() {
		io.Copy(inW, s.ch) // EOF from the client closes the program's stdin
		inW.Close()
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(s.ch, outR)
		outR.Close()
	}()
	go func() {
		defer wg.Done()
		io.Copy(s.ch.Stderr(), errR)
		errR.Close()
	}()
	return wg.Wait, nil
}

// ptyDrain bounds how long output is read after the program exited while others (its
// background children) still hold the terminal.
const ptyDrain = 250 * time.Millisecond

// startPty runs cmd on the session's terminal. When the program has exited, a session with
// sshd's semantics hangs the terminal up, as sshd does: background processes still holding
// it get EIO on their next write (most programs then die: node, python) and, if they are
// the foreground group, SIGHUP. A session with `docker exec` semantics (SessionSpec.Plain:
// lifecycle hooks, `mochi exec`) does as Docker does instead: the terminal stays open and
// its output is read and dropped, after the session ended, until its last holder closes
// it, so a server that a hook left running and that writes to the terminal keeps running.
func (s *session) startPty(cmd *exec.Cmd) (func(), error) {
	p := s.pty
	if cred := cmd.SysProcAttr.Credential; cred != nil {
		p.tty.Chown(int(cred.Uid), int(cred.Gid))
		p.tty.Chmod(0o620)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.tty, p.tty, p.tty
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.tty.Close()
	p.tty = nil
	p.drained = s.spec.Plain
	go io.Copy(p.master, s.ch)
	done := make(chan struct{})
	go func() {
		io.Copy(s.ch, p.master)
		close(done)
		if p.drained {
			// The channel is gone (or nobody holds the terminal any more): drop what the
			// program's background children still write until the last one closes it.
			io.Copy(io.Discard, p.master)
			p.master.Close()
		}
	}()
	return func() {
		select {
		case <-done:
		case <-time.After(ptyDrain):
		}
		if p.drained {
			return
		}
		p.master.Close()
		// A background process may still hold the terminal, and the master was put in
		// blocking mode when the pty was set up, so Close does not wake the reading
		// goroutine: give it a moment, then report the exit anyway (it ends when the last
		// holder closes the terminal).
		select {
		case <-done:
		case <-time.After(ptyDrain):
		}
	}, nil
}

// exit reports how the program ended, as sshd does: exit-status, or exit-signal for a
// death by signal (OpenSSH's client then exits with 255), then EOF and close, in that
// order: some clients (PuTTY, dropbear) close on EOF and miss a later exit-status.
func (s *session) exit(cmd *exec.Cmd, waitErr error) {
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		s.ch.SendRequest("exit-signal", false, ssh.Marshal(exitSignal{
			Signal: signalName(ws.Signal()), CoreDumped: ws.CoreDump(),
		}))
	} else {
		s.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: uint32(cmd.ProcessState.ExitCode())}))
	}
	s.ch.CloseWrite()
	s.ch.Close()
}

// fail reports a session that could not start: the reason on stderr and status 1.
func (s *session) fail(err error) {
	s.a.log.Info("session start", "err", err)
	fmt.Fprintf(s.ch.Stderr(), "mochi agent: %v\n", err)
	status := uint32(1)
	var nf *notFoundError
	if errors.As(err, &nf) {
		status = 126 // as docker exec reports a program it cannot start
	}
	s.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: status}))
	s.ch.CloseWrite()
	s.ch.Close()
}

// notFoundError is a plain exec whose program does not exist.
type notFoundError struct{ err error }

func (e *notFoundError) Error() string { return e.err.Error() }
func (e *notFoundError) Unwrap() error { return e.err }

// lookPathIn finds name in the colon-separated dirs, as exec.LookPath does with $PATH.
func lookPathIn(name, dirs string) (string, error) {
	if strings.Contains(name, "/") {
		if fi, err := os.Stat(name); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return name, nil
		}
		return "", fmt.Errorf("exec: %q: no such executable", name)
	}
	for _, d := range filepath.SplitList(dirs) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}
