package sshgate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

const stateFile = "server.json"

// ServerState describes a running gateway; RunServer writes it to the data folder
// while it serves and removes it when it stops, for `mochi server status|stop`.
type ServerState struct {
	PID     int       `json:"pid"`
	Addr    string    `json:"addr"`
	HostKey string    `json:"hostKey"` // SHA256 fingerprint
	Started time.Time `json:"started"`
}

// ReadServerState returns the state RunServer left in dataDir; os.ErrNotExist (wrapped)
// means no gateway was started there or it stopped cleanly.
func ReadServerState(dataDir string) (ServerState, error) {
	var st ServerState
	path := filepath.Join(dataDir, stateFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("read server state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("parse %s: %w", path, err)
	}
	return st, nil
}

// Running says whether the recorded gateway process exists and accepts connections.
func (st ServerState) Running() bool {
	if st.PID <= 0 {
		return false
	}
	if err := syscall.Kill(st.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	c, err := net.DialTimeout("tcp", st.Addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Stop asks the recorded gateway process to end (SIGTERM); RunServer's caller should
// cancel its context on that signal.
func (st ServerState) Stop() error {
	if st.PID <= 0 {
		return errors.New("stop gateway: no process recorded")
	}
	if err := syscall.Kill(st.PID, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stop gateway (pid %d): %w", st.PID, err)
	}
	return nil
}

func writeServerState(dataDir string, st ServerState) error {
	b, _ := json.MarshalIndent(st, "", "  ")
	return writeFileAtomic(filepath.Join(dataDir, stateFile), append(b, '\n'), 0o600)
}

func removeServerState(dataDir string, pid int) {
	if st, err := ReadServerState(dataDir); err == nil && st.PID == pid {
		os.Remove(filepath.Join(dataDir, stateFile))
	}
}
