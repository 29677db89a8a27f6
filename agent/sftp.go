package agent

import (
	"bufio"
	"errors"
	"io"
	"os"
	"runtime/debug"

	"github.com/mochi-dev/mochi/internal/wbuf"

	"github.com/pkg/sftp"
)

// The sftp subsystem runs in a child process, the agent binary itself re-executed as
// the session's user, so that files are created with the user's ownership and umask.
// The child is recognised by this environment variable when the agent package
// initialises, before main runs.
const (
	reexecEnv  = "MOCHI_AGENT_REEXEC"
	reexecSFTP = "sftp-server"
)

func init() {
	if os.Getenv(reexecEnv) != reexecSFTP {
		return
	}
	os.Unsetenv(reexecEnv)
	os.Exit(runSFTPServer(os.Stdin, os.Stdout))
}

type stdio struct {
	io.Reader
	io.WriteCloser
}

// flushCloser sends what is buffered before closing.
type flushCloser struct {
	*wbuf.Writer
	c io.Closer
}

func (f flushCloser) Close() error {
	f.Writer.Close()
	return f.c.Close()
}

// runSFTPServer serves SFTP on r/w from the working directory (the user's home) and
// returns the exit status: 0 when the client ended the session cleanly.
//
// It is tuned for bulk transfers, which are most of what sftp does: requests are read
// through a large buffer and replies written behind (a 32 KiB read reply is one pipe
// write among many, not two of its own), packet buffers are reused, and the collector
// runs less often (the live heap is a few buffers).
func runSFTPServer(r io.Reader, w io.WriteCloser) int {
	debug.SetGCPercent(400)
	dir, _ := os.Getwd()
	out := wbuf.NewWriter(w, 0)
	defer out.Close()
	srv, err := sftp.NewServer(stdio{bufio.NewReaderSize(r, 256<<10), flushCloser{out, w}},
		sftp.WithServerWorkingDirectory(dir), sftp.WithAllocator())
	if err != nil {
		return 1
	}
	if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
		return 1
	}
	return 0
}
