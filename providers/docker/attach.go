package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/mochi-dev/mochi/providers"
)

// Attach runs argv in the container with stdin and stdout attached and no TTY, and returns a
// stream over them: reads see the process's stdout, writes go to its stdin, and CloseWrite
// closes its stdin. The process's stderr goes to the provider's logger. When argv[0] is
// providers.AgentTarget and the container lacks it (a container created by another tool), the
// agent binary is first copied there. ctx bounds setting the stream up; the stream itself
// lives until Close or until the process exits.
func (p *Provider) Attach(ctx context.Context, id string, argv []string) (io.ReadWriteCloser, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("attach to %s: empty command", id)
	}
	if argv[0] == providers.AgentTarget {
		if err := p.ensureAgent(ctx, id); err != nil {
			return nil, err
		}
	}
	hj, _, err := p.startExec(ctx, id, container.ExecOptions{
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		Cmd:          argv,
	})
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	stderr := &lineLogger{log: p.log, container: id, cmd: argv[0]}
	go func() {
		_, err := stdcopy.StdCopy(pw, stderr, hj.Reader)
		stderr.flush()
		pw.CloseWithError(err)
	}()
	return &stream{hj: hj, r: pr}, nil
}

// stream is the attached process's stdin (writes) and stdout (reads).
type stream struct {
	hj   types.HijackedResponse
	r    *io.PipeReader
	once sync.Once
}

func (s *stream) Read(b []byte) (int, error)  { return s.r.Read(b) }
func (s *stream) Write(b []byte) (int, error) { return s.hj.Conn.Write(b) }

// CloseWrite closes the process's stdin; reads continue until it closes its stdout.
func (s *stream) CloseWrite() error { return s.hj.CloseWrite() }

// Close closes both directions.
func (s *stream) Close() error {
	s.once.Do(func() {
		s.hj.Close()
		s.r.CloseWithError(errClosed)
	})
	return nil
}

var errClosed = errors.New("stream closed")

// lineLogger logs what an attached process writes to stderr, one record per line.
type lineLogger struct {
	log       *slog.Logger
	container string
	cmd       string
	mu        sync.Mutex
	buf       []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.emit(string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

func (l *lineLogger) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}

func (l *lineLogger) emit(line string) {
	l.log.Info("attached process stderr", "container", l.container, "cmd", l.cmd, "line", strings.TrimRight(line, "\r"))
}

// ensureAgent copies the agent binary to providers.AgentTarget unless it is already there.
func (p *Provider) ensureAgent(ctx context.Context, id string) error {
	p.agentMu.Lock()
	defer p.agentMu.Unlock()
	if _, err := p.cli.ContainerStatPath(ctx, id, providers.AgentTarget); err == nil {
		return nil
	} else if err = p.wrap(err, "look for agent in %s", id); !isNotFound(err) {
		return err
	}
	src := p.agentBin
	if src == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("copy agent into %s: locate mochi binary: %w", id, err)
		}
		src = exe
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy agent into %s: %w", id, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("copy agent into %s: %w", id, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeAgentTar(pw, f, fi.Size())) }()
	defer pr.Close()
	p.log.Info("copying agent into container", "container", id, "from", src, "to", providers.AgentTarget)
	if err := p.cli.CopyToContainer(ctx, id, "/", pr, container.CopyToContainerOptions{}); err != nil {
		return p.wrap(err, "copy agent into %s", id)
	}
	return nil
}

// writeAgentTar writes a tar holding AgentTarget's parent folders and the binary.
func writeAgentTar(w io.Writer, bin io.Reader, size int64) error {
	tw := tar.NewWriter(w)
	rel := strings.TrimPrefix(providers.AgentTarget, "/")
	var dirs []string
	for d := path.Dir(rel); d != "."; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o755, Size: size}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, bin, size); err != nil {
		return err
	}
	return tw.Close()
}
