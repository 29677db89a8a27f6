package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/mochi-dev/mochi/providers"
)

// running returns a copy of the running instance id; p.mu must not be held.
func (p *Provider) running(id string) (*providers.Instance, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, err := p.lookup(id)
	if err != nil {
		return nil, err
	}
	if in.inst.State != providers.StateRunning {
		return nil, fmt.Errorf("instance %s is not running", id)
	}
	return clone(&in.inst), nil
}

func (p *Provider) record(id string, spec providers.ExecSpec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.execs = append(p.execs, Exec{ID: id, Spec: spec})
}

// Exec records the call and hands it to ExecFunc. With Tty set, stderr is merged into
// stdout as a terminal would. Cancelling ctx returns ctx's error without waiting.
func (p *Provider) Exec(ctx context.Context, id string, spec providers.ExecSpec) (int, error) {
	if len(spec.Cmd) == 0 {
		return -1, fmt.Errorf("exec in %s: empty command", id)
	}
	inst, err := p.running(id)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	p.record(inst.ID, spec)
	if p.ExecFunc == nil {
		return 0, nil
	}
	if spec.Stdout == nil {
		spec.Stdout = io.Discard
	}
	if spec.Stderr == nil {
		spec.Stderr = io.Discard
	}
	if spec.Tty {
		spec.Stderr = spec.Stdout
	}
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := p.ExecFunc(ctx, inst, spec)
		done <- result{code, err}
	}()
	select {
	case r := <-done:
		return r.code, r.err
	case <-ctx.Done():
		return -1, ctx.Err()
	}
}

// Attach runs argv through ExecFunc with piped stdin and stdout and returns the stream;
// stderr is discarded. CloseWrite on the stream ends the process's stdin.
func (p *Provider) Attach(ctx context.Context, id string, argv []string) (io.ReadWriteCloser, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("attach to %s: empty command", id)
	}
	if p.ExecFunc == nil {
		return nil, fmt.Errorf("attach to %s: %w: the fake has no ExecFunc", id, providers.ErrUnsupported)
	}
	inst, err := p.running(id)
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", id, err)
	}
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	spec := providers.ExecSpec{Cmd: argv, Stdin: inR, Stdout: outW, Stderr: io.Discard}
	p.record(inst.ID, spec)
	go func() {
		_, err := p.ExecFunc(context.WithoutCancel(ctx), inst, spec)
		inR.CloseWithError(errors.New("process exited"))
		outW.CloseWithError(err)
	}()
	return &stream{in: inW, out: outR}, nil
}

type stream struct {
	in   *io.PipeWriter
	out  *io.PipeReader
	once sync.Once
}

func (s *stream) Read(b []byte) (int, error)  { return s.out.Read(b) }
func (s *stream) Write(b []byte) (int, error) { return s.in.Write(b) }

// CloseWrite ends the process's stdin.
func (s *stream) CloseWrite() error { return s.in.Close() }

// Close ends both directions.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.in.Close()
		s.out.Close()
	})
	return nil
}
