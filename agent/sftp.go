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

// sftpOut is the server's side of the client: replies go through w (write-behind, with
// the limits extension added), Close flushes and closes the pipe c.
type sftpOut struct {
	io.Writer
	buf *wbuf.Writer
	c   io.Closer
}

func (o sftpOut) Close() error {
	o.buf.Close()
	return o.c.Close()
}

// runSFTPServer serves SFTP on r/w from the working directory (the user's home) and
// returns the exit status: 0 when the client ended the session cleanly.
//
// It is tuned for bulk transfers, which are most of what sftp does: requests are read
// through a large buffer and replies written behind (a read reply is one pipe write among
// many, not two of its own), packet buffers are reused, the collector runs less often (the
// live heap is a few buffers), and OpenSSH clients are told of reads and writes of up to
// 255 KiB (sftplimits.go).
func runSFTPServer(r io.Reader, w io.WriteCloser) int {
	debug.SetGCPercent(400)
	dir, _ := os.Getwd()
	buf := wbuf.NewWriter(w, 0)
	defer buf.Close()
	out := &versionWriter{w: buf}
	in := &limitsReader{r: bufio.NewReaderSize(r, 256<<10), reply: out}
	srv, err := sftp.NewServer(stdio{in, sftpOut{out, buf, w}},
		sftp.WithServerWorkingDirectory(dir), sftp.WithAllocator(), sftp.WithMaxTxPacket(sftpMaxData))
	if err != nil {
		return 1
	}
	if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
		return 1
	}
	return 0
}
