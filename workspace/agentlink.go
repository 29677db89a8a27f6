package workspace

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/providers"
)

// Where the agent's files appear inside a workspace, and the label naming its socket on
// the host.
const (
	agentRunTarget   = "/.mochi/run"
	labelAgentSocket = "dev.mochi.agent.socket"
	labelAgentID     = "dev.mochi.agent.id"
)

// agentFiles are the host files of one workspace's agent link.
type agentFiles struct {
	runDir  string // mounted at agentRunTarget: authorized_keys, agent.sock, agent.log
	keyFile string // the workspace key (host only, never mounted)
}

func (e *Engine) agentFiles(id string) agentFiles {
	short := id
	if len(short) > 16 {
		short = short[:16]
	}
	return agentFiles{
		runDir:  filepath.Join(e.home, "run", short),
		keyFile: filepath.Join(e.home, "keys", short+".key"),
	}
}

// ensureAgentFiles creates the workspace key (once) and the authorized_keys the agent
// checks, owner-only.
func (e *Engine) ensureAgentFiles(f agentFiles) error {
	signer, err := loadOrCreateKey(f.keyFile)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(f.runDir, 0o700); err != nil {
		return fmt.Errorf("create agent folder: %w", err)
	}
	auth := ssh.MarshalAuthorizedKey(signer.PublicKey())
	if err := os.WriteFile(filepath.Join(f.runDir, "authorized_keys"), auth, 0o600); err != nil {
		return fmt.Errorf("write agent authorized_keys: %w", err)
	}
	return nil
}

// loadOrCreateKey reads an ed25519 private key (OpenSSH PEM), creating it if absent.
func loadOrCreateKey(file string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if err == nil {
		s, err := ssh.ParsePrivateKey(data)
		if err != nil {
			return nil, fmt.Errorf("read workspace key %s: %w", file, err)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read workspace key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, fmt.Errorf("create key folder: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate workspace key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "mochi workspace")
	if err != nil {
		return nil, fmt.Errorf("encode workspace key: %w", err)
	}
	if err := writeFileAtomic(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	return ssh.NewSignerFromKey(priv)
}

func writeFileAtomic(file string, data []byte, mode os.FileMode) error {
	tmp := fmt.Sprintf("%s.tmp-%d", file, os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// agentCommand is the keep-alive line that starts the agent on the workspace's socket.
func agentCommand() string {
	return fmt.Sprintf("%s agent serve --listen %s/agent.sock --authorized-keys %s/authorized_keys </dev/null >>%s/agent.log 2>&1 &",
		providers.AgentTarget, agentRunTarget, agentRunTarget, agentRunTarget)
}

// stableAgentBinary copies the mochi binary to $MOCHI_HOME/bin/mochi-<size>-<mtime> (once
// per build), so a workspace keeps a binary that rebuilding mochi does not pull away.
func (e *Engine) stableAgentBinary() (string, error) {
	fi, err := os.Stat(e.agentPath)
	if err != nil {
		return "", fmt.Errorf("agent binary: %w", err)
	}
	dst := filepath.Join(e.home, "bin", fmt.Sprintf("mochi-%d-%d", fi.Size(), fi.ModTime().UnixNano()))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	data, err := os.ReadFile(e.agentPath)
	if err != nil {
		return "", fmt.Errorf("read agent binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("create agent binary folder: %w", err)
	}
	if err := writeFileAtomic(dst, data, 0o755); err != nil {
		return "", err
	}
	return dst, nil
}

// addAgent makes the workspace's agent start with it: the binary and the run folder are
// mounted, and the keep-alive script starts the agent on the socket the labels name.
func (e *Engine) addAgent(r *resolved, spec *providers.CreateSpec) error {
	bin, err := e.stableAgentBinary()
	if err != nil {
		return err
	}
	f := e.agentFiles(r.id)
	if err := e.ensureAgentFiles(f); err != nil {
		return err
	}
	spec.AgentPath = bin
	spec.Mounts = append(spec.Mounts, providers.Mount{Type: "bind", Source: f.runDir, Target: agentRunTarget})
	spec.Labels[labelAgentSocket] = filepath.Join(f.runDir, "agent.sock")
	spec.Labels[labelAgentID] = r.id
	spec.Cmd[1] = agentCommand() + "\n" + spec.Cmd[1]
	return nil
}

// agentRetry is how long an engine goes without dialling an agent that did not answer.
const agentRetry = 30 * time.Second

// execer returns how to run processes in inst as a user whose shell is shell: through its
// agent when it has one listening (and the shell is a POSIX shell), else through the engine.
func (e *Engine) execer(ctx context.Context, inst *providers.Instance, shell string) providers.Execer {
	sock := inst.Labels[labelAgentSocket]
	if sock == "" || !inst.Running() || e.home == "" || !posixShell(shell) {
		return e.be
	}
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	// A link belongs to one start of the container: a restart starts a new agent.
	key := inst.ID + "@" + inst.StartedAt
	if x, ok := e.links[key]; ok {
		return x
	}
	// An agent that did not answer is not dialled again for a while, unless its container
	// has just started (the agent may still be on its way).
	failed, tried := e.linkFailed[key]
	if tried && time.Since(failed) < agentRetry && !justStarted(inst) {
		return e.be
	}
	c, err := e.dialAgent(ctx, inst, sock)
	if err != nil {
		// Works, but slower, and hides a broken agent (a binary that cannot run in the
		// image): say so where the user looks, once per start of the container.
		if !tried {
			e.log.Warn("the workspace's agent does not answer on its socket; running processes through the engine instead",
				"container", short(inst.ID), "agent log", filepath.Join(filepath.Dir(sock), "agent.log"), "error", err)
		}
		if e.linkFailed == nil {
			e.linkFailed = map[string]time.Time{}
		}
		e.linkFailed[key] = time.Now()
		return e.be
	}
	delete(e.linkFailed, key)
	x := &agentExecer{client: c, baseEnv: inst.Env}
	e.links[key] = x
	return x
}

func posixShell(shell string) bool {
	if shell == "" {
		return true
	}
	switch path.Base(shell) {
	case "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return false
}

// dialAgent connects to the agent's socket, waiting briefly for a just-started agent.
func (e *Engine) dialAgent(ctx context.Context, inst *providers.Instance, sock string) (*agent.Client, error) {
	id := inst.Labels[labelAgentID]
	signer, err := loadOrCreateKey(e.agentFiles(id).keyFile)
	if err != nil {
		return nil, err
	}
	// A just-started agent may need a moment to listen; an older one either is there or not.
	deadline := time.Now()
	if justStarted(inst) {
		deadline = deadline.Add(3 * time.Second)
	}
	var conn net.Conn
	for {
		conn, err = agent.DialSocket(ctx, sock)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return nil, err
	}
	return agent.Dial(ctx, conn, agent.ClientOptions{Signer: signer})
}

// justStarted reports an instance started less than 15 s ago.
func justStarted(inst *providers.Instance) bool {
	started, err := time.Parse(time.RFC3339Nano, inst.StartedAt)
	return err == nil && time.Since(started) < 15*time.Second
}

// Close releases the engine's agent connections.
func (e *Engine) Close() error {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	for id, x := range e.links {
		if a, ok := x.(*agentExecer); ok {
			a.client.Close()
		}
		delete(e.links, id)
	}
	return nil
}
