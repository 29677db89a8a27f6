package docker

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/mochi-dev/mochi/providers"
)

const (
	mediaRaw         = "application/vnd.docker.raw-stream"
	mediaMultiplexed = "application/vnd.docker.multiplexed-stream"
)

// Exec runs spec.Cmd in the container and returns its exit code. Stdin, when given, is copied
// to the process and then closed, so the process sees end of file. Cancelling ctx returns at
// once with ctx's error; the process itself is left running (the engine has no exec kill).
func (p *Provider) Exec(ctx context.Context, id string, spec providers.ExecSpec) (int, error) {
	if len(spec.Cmd) == 0 {
		return -1, fmt.Errorf("exec in %s: empty command", id)
	}
	hj, execID, err := p.startExec(ctx, id, container.ExecOptions{
		User:         spec.User,
		Tty:          spec.Tty,
		AttachStdin:  spec.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
		Env:          spec.Env,
		WorkingDir:   spec.WorkDir,
		Cmd:          spec.Cmd,
	})
	if err != nil {
		return -1, err
	}
	defer hj.Close()

	stdout, stderr := orDiscard(spec.Stdout), orDiscard(spec.Stderr)
	done := make(chan error, 1)
	go func() { done <- copyOutput(hj, spec.Tty, stdout, stderr) }()
	if spec.Stdin != nil {
		// The copy may block on a reader that never ends (a terminal); it ends when the
		// connection is closed on return, at the latest.
		go func() {
			if _, err := io.Copy(hj.Conn, spec.Stdin); err != nil {
				p.log.Debug("exec stdin copy", "container", id, "err", err)
			}
			if err := hj.CloseWrite(); err != nil {
				p.log.Debug("exec stdin close", "container", id, "err", err)
			}
		}()
	}
	select {
	case err := <-done:
		if err != nil {
			return -1, fmt.Errorf("exec %s in %s: read output: %w", spec.Cmd[0], id, err)
		}
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	return p.execExitCode(ctx, id, execID)
}

// startExec creates an exec instance and attaches to it.
func (p *Provider) startExec(ctx context.Context, id string, opts container.ExecOptions) (types.HijackedResponse, string, error) {
	created, err := p.cli.ContainerExecCreate(ctx, id, opts)
	if err != nil {
		return types.HijackedResponse{}, "", p.wrap(err, "exec %s in %s", opts.Cmd[0], id)
	}
	hj, err := p.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: opts.Tty})
	if err != nil {
		return types.HijackedResponse{}, "", p.wrap(err, "start exec %s in %s", opts.Cmd[0], id)
	}
	return hj, created.ID, nil
}

// copyOutput copies the exec's output until the process closes it, demultiplexing stdout and
// stderr unless the stream is a raw (TTY) one.
func copyOutput(hj types.HijackedResponse, tty bool, stdout, stderr io.Writer) error {
	raw := tty
	if mt, ok := hj.MediaType(); ok {
		raw = mt == mediaRaw
	}
	var err error
	if raw {
		_, err = io.Copy(stdout, hj.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, hj.Reader)
	}
	return err
}

// execExitCode waits for the engine to record the exec's exit code; the output stream can
// end a moment before it does.
func (p *Provider) execExitCode(ctx context.Context, id, execID string) (int, error) {
	delay := time.Millisecond
	for {
		ins, err := p.cli.ContainerExecInspect(ctx, execID)
		if err != nil {
			return -1, p.wrap(err, "inspect exec in %s", id)
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
