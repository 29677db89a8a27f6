package agent

import (
	"errors"
	"io"
	"os"

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

// runSFTPServer serves SFTP on r/w from the working directory (the user's home) and
// returns the exit status: 0 when the client ended the session cleanly.
func runSFTPServer(r io.Reader, w io.WriteCloser) int {
	dir, _ := os.Getwd()
	srv, err := sftp.NewServer(stdio{r, w}, sftp.WithServerWorkingDirectory(dir))
	if err != nil {
		return 1
	}
	if err := srv.Serve(); err != nil && !errors.Is(err, io.EOF) {
		return 1
	}
	return 0
}
