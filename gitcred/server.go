package gitcred

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mochi-dev/mochi/gitwt"
)

// requestTimeout bounds one request, including the host's credential helpers.
const requestTimeout = 2 * time.Minute

// Server answers credential requests with the host's git.
type Server struct {
	// Git runs the host's git (its environment decides which helpers answer).
	Git gitwt.Git
	Log *slog.Logger
}

// ServeGitCredentials serves $runDir/git-credential.sock with the host's git until ctx
// ends: the function `mochi server` runs for each workspace's run folder.
func ServeGitCredentials(ctx context.Context, runDir string, log *slog.Logger) error {
	return Server{Log: log}.Serve(ctx, filepath.Join(runDir, SocketName))
}

// Serve listens on the unix socket at path (replacing a stale socket) and answers requests
// until ctx ends; it removes the socket when it returns.
func (s Server) Serve(ctx context.Context, path string) error {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "gitcred", "socket", path)
	if st, err := os.Lstat(path); err == nil {
		if st.Mode()&fs.ModeSocket == 0 {
			return fmt.Errorf("serve git credentials: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("serve git credentials: remove stale socket: %w", err)
		}
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("serve git credentials: %w", err)
	}
	// The run folder (owner-only on the host) guards the socket; inside the workspace any
	// user that can reach the folder may ask.
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return fmt.Errorf("serve git credentials: %w", err)
	}
	var wg sync.WaitGroup
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer wg.Wait()
	defer os.Remove(path)
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("serve git credentials: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, c, log)
		}()
	}
}

// handle answers one connection.
func (s Server) handle(ctx context.Context, c net.Conn, log *slog.Logger) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	req, err := readRequest(c)
	if err != nil {
		log.Warn("refused a git credential request", "error", err)
		return
	}
	// Never prompt on the host's terminal: the answer is what the helpers already know.
	out, err := s.Git.RunInput(ctx, "", req.attrs, "credential", gitOp[req.op])
	if err != nil {
		// No credential is an ordinary answer: git in the workspace goes on without one.
		log.Debug("host git credential gave no answer", "op", req.op, "error", err)
		return
	}
	if req.op == "get" {
		if _, err := c.Write([]byte(out)); err != nil {
			log.Debug("write git credential answer", "error", err)
		}
	}
	log.Debug("answered a git credential request", "op", req.op)
}
