package lxc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/mochi-dev/mochi/providers"
)

// waitDelay bounds how long an exec's output is read after the process ended (a background
// child may hold it open) and how long a cancelled exec gets before it is killed.
const waitDelay = 2 * time.Second

// defaultPath is the PATH an instance gets when its image sets none (as the Docker engine does).
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// attachCommand builds the lxc-attach command running argv as user in workDir with the
// instance environment plus env. The environment is cleared first, so nothing leaks from the
// host; HOME comes from the user's passwd entry unless set. Where the image has /bin/sh, a
// small script changes to the working folder (lxc-attach has no option for it) and makes the
// environment exactly the one asked for, as `docker exec` gives it: lxc-attach always adds
// container=lxc, and the shell adds PWD, OLDPWD and SHLVL. Supplementary groups are not set
// (lxc-attach sets the uid and gid only); the agent, mochi's usual way in, sets them.
func (p *Provider) attachCommand(ctx context.Context, id string, argv []string, user, workDir string, env []string) (*exec.Cmd, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("exec in %s: empty command", id)
	}
	rec, err := p.load(id)
	if err != nil {
		return nil, fmt.Errorf("exec in %s: %w", id, err)
	}
	pid, err := p.initPID(ctx, rec.Name)
	if err != nil {
		return nil, fmt.Errorf("exec in %s: %w", id, err)
	}
	if user == "" {
		user = rec.User
	}
	root := fmt.Sprintf("/proc/%d/root", pid)
	acc, err := resolveUser(root, user)
	if err != nil {
		return nil, fmt.Errorf("exec in %s: %w", id, err)
	}
	full := mergeEnv([]string{defaultPath, "HOSTNAME=" + rec.Hostname, "HOME=" + acc.home}, rec.Env, env)
	args := []string{"-P", p.lxcpath, "-n", rec.Name, "--clear-env",
		"-u", strconv.Itoa(acc.uid), "-g", strconv.Itoa(acc.gid)}
	for _, kv := range full {
		args = append(args, "-v", kv)
	}
	if workDir == "" {
		workDir = rec.WorkingDir
	}
	args = append(args, "--")
	if _, err := os.Lstat(filepath.Join(root, "bin/sh")); err == nil {
		args = append(args, "/bin/sh", "-c", attachScript, "sh", workDir)
		for _, k := range attachShellVars {
			v, ok := lookupEnv(full, k)
			if ok {
				v = "=" + v
			}
			args = append(args, v)
		}
	} else if workDir != "" && workDir != "/" {
		return nil, fmt.Errorf("exec in %s: the image has no /bin/sh to change to %s with", id, workDir)
	}
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "lxc-attach", args...)
	cmd.Dir = "/" // lxc-attach keeps its own working folder when the container has it
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = waitDelay
	return cmd, nil
}

// attachScript runs after lxc-attach: $1 is the working folder ("" for /), then one
// argument per attachShellVars name, "=VALUE" to set it or "" to unset it, then the command.
const attachScript = `[ -z "$1" ] || cd -- "$1" || exit 1
v() { case "$2" in =*) export "$1=${2#=}" ;; *) unset "$1" ;; esac; }
v container "$2"; v PWD "$3"; v OLDPWD "$4"; v SHLVL "$5"
shift 5
exec "$@"`

// attachShellVars are the variables lxc-attach or the shell set on their own.
var attachShellVars = []string{"container", "PWD", "OLDPWD", "SHLVL"}

// lookupEnv finds key in a KEY=VALUE list (the last one wins).
func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// initPID returns the host pid of the container's init, or an error when it is not running.
func (p *Provider) initPID(ctx context.Context, name string) (int, error) {
	out, err := p.lxc(ctx, "lxc-info", name, "-p", "-H")
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("container %s is not running", name)
	}
	return pid, nil
}

// Exec runs spec.Cmd in the container through lxc-attach and returns its exit code (128+n for
// a process killed by signal n). Cancelling ctx signals the process and returns ctx's error.
func (p *Provider) Exec(ctx context.Context, id string, spec providers.ExecSpec) (int, error) {
	cmd, err := p.attachCommand(ctx, id, spec.Cmd, spec.User, spec.WorkDir, spec.Env)
	if err != nil {
		return -1, err
	}
	stdout, stderr := orDiscard(spec.Stdout), orDiscard(spec.Stderr)
	if spec.Tty {
		err = runWithPty(cmd, spec.Stdin, stdout)
	} else {
		err = runPiped(cmd, spec.Stdin, stdout, stderr)
	}
	if ctx.Err() != nil {
		return -1, ctx.Err()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return -1, fmt.Errorf("exec %s in %s: %w", spec.Cmd[0], id, err)
	}
	return cmd.ProcessState.ExitCode(), nil
}

func runPiped(cmd *exec.Cmd, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd.Stdout, cmd.Stderr = stdout, stderr
	var in io.WriteCloser
	if stdin != nil {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			return err
		}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	if in != nil {
		// The copy may block on a reader that never ends; Wait closes the pipe when the
		// process exits, which ends it.
		go func() {
			io.Copy(in, stdin)
			in.Close()
		}()
	}
	return cmd.Wait()
}

// crCollapser turns "\r\r\n" into "\r\n": lxc-attach relays the container's terminal
// through a second, cooked one, which adds a carriage return to every line end.
type crCollapser struct {
	w       io.Writer
	pending int // carriage returns seen and not written yet
	out     []byte
}

func (c *crCollapser) Write(b []byte) (int, error) {
	c.out = c.out[:0]
	for _, ch := range b {
		switch ch {
		case '\r':
			c.pending++
			continue
		case '\n':
			if c.pending >= 2 {
				c.pending--
			}
		}
		c.out = append(c.out, bytes.Repeat([]byte{'\r'}, c.pending)...)
		c.pending = 0
		c.out = append(c.out, ch)
	}
	if _, err := c.w.Write(c.out); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (c *crCollapser) flush() {
	if c.pending > 0 {
		c.w.Write(bytes.Repeat([]byte{'\r'}, c.pending))
		c.pending = 0
	}
}

// runWithPty gives lxc-attach a terminal, so that it allocates one in the container too.
// Output (stdout and stderr merged) is copied to stdout; end of stdin sends ^D.
func runWithPty(cmd *exec.Cmd, stdin io.Reader, stdout io.Writer) error {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return fmt.Errorf("open pty: %w", err)
	}
	defer ptmx.Close()
	// The container's terminal does the line discipline; a second one here would double it.
	if _, err := term.MakeRaw(int(tty.Fd())); err != nil {
		tty.Close()
		return fmt.Errorf("pty raw mode: %w", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		tty.Close()
		return err
	}
	tty.Close()
	if stdin != nil {
		go func() {
			io.Copy(ptmx, stdin)
			ptmx.Write([]byte{4})
		}()
	}
	copied := make(chan struct{})
	go func() {
		w := &crCollapser{w: stdout}
		io.Copy(w, ptmx) // ends with EIO once the terminal's last user is gone
		w.flush()
		close(copied)
	}()
	err = cmd.Wait()
	select {
	case <-copied:
	case <-time.After(waitDelay):
	}
	return err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Attach runs argv in the container with stdin and stdout piped and returns a stream over
// them: reads see its stdout, writes go to its stdin, CloseWrite closes its stdin. Its stderr
// goes to the provider's logger. ctx bounds setting the stream up only.
func (p *Provider) Attach(ctx context.Context, id string, argv []string) (io.ReadWriteCloser, error) {
	cmd, err := p.attachCommand(context.WithoutCancel(ctx), id, argv, "", "", nil)
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	cmd.Stderr = &lineLogger{log: p.log, container: id, cmd: argv[0]}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	return &stream{cmd: cmd, stdin: stdin, stdout: stdout}, nil
}

// stream is an attached process's stdin (writes) and stdout (reads).
type stream struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
}

func (s *stream) Read(b []byte) (int, error)  { return s.stdout.Read(b) }
func (s *stream) Write(b []byte) (int, error) { return s.stdin.Write(b) }

// CloseWrite closes the process's stdin; reads continue until it closes its stdout.
func (s *stream) CloseWrite() error { return s.stdin.Close() }

// Close closes both directions and ends the process.
func (s *stream) Close() error {
	s.stdin.Close()
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
	}
	go s.cmd.Wait() // Wait closes stdout and reaps lxc-attach
	return nil
}
