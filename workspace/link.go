package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/internal/flock"
	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/sshgate"
)

// store returns the workspace records (opened once).
func (e *Engine) store() (*Store, error) {
	e.storeOnce.Do(func() {
		if e.home == "" {
			e.storeErr = errors.New("named workspaces need mochi's data folder (MOCHI_HOME)")
			return
		}
		e.records, e.storeErr = OpenStore(e.home)
	})
	return e.records, e.storeErr
}

// Records returns the workspace records.
func (e *Engine) Records() (*Store, error) { return e.store() }

// remember records (or refreshes) the named workspace of an up.
func (e *Engine) remember(r *resolved, inst *providers.Instance, s *session, want string, remoteEnv []string) (string, error) {
	st, err := e.store()
	if err != nil {
		return "", err
	}
	unlock, err := e.lockRecords()
	if err != nil {
		return "", err
	}
	defer unlock()
	name := want
	if name == "" {
		if name, err = st.NameFor(r.folder, r.configPath); err != nil {
			return "", err
		}
	} else if old, err := st.Get(name); err == nil && (old.Folder != r.folder || old.ConfigFile != r.configPath) {
		return "", fmt.Errorf("workspace name %s is already used by %s", name, old.Folder)
	} else if !validName.MatchString(name) {
		return "", fmt.Errorf("workspace name %q: use lower-case letters, digits and dashes", name)
	}
	rec := &Record{
		Name: name, Folder: r.folder, ConfigFile: r.configPath, Provider: e.be.Capabilities().Name,
		ContainerID: inst.ID, IDLabels: r.idLabels, RemoteUser: s.user, WorkspaceFolder: r.layout.WorkspaceFolder,
		RemoteEnv: remoteEnv,
	}
	if err := st.Put(rec); err != nil {
		return "", err
	}
	return name, nil
}

// StartStopped makes Link start a stopped workspace instead of refusing it.
func (e *Engine) StartStopped(on bool) { e.startStopped = on }

// Link opens a stream to an agent serving the named workspace as its remote user, in its
// workspace folder, with its remote env: sshgate's Linker.
func (e *Engine) Link(ctx context.Context, name string) (io.ReadWriteCloser, error) {
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	rec, err := st.Get(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", sshgate.ErrWorkspaceNotFound, name)
	}
	if err != nil {
		return nil, err
	}
	att, ok := e.be.(providers.Attacher)
	if !ok {
		return nil, fmt.Errorf("provider %s cannot attach to workspaces", e.be.Capabilities().Name)
	}
	inst, err := e.be.Inspect(ctx, rec.ContainerID)
	if errors.Is(err, providers.ErrNotFound) {
		inst, err = e.be.Find(ctx, rec.IDLabels)
		if err == nil && inst == nil {
			return nil, fmt.Errorf("%w: %s has no container (run mochi up)", sshgate.ErrWorkspaceNotFound, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("inspect workspace %s: %w", name, err)
	}
	if !inst.Running() {
		if !e.startStopped {
			return nil, fmt.Errorf("%w: %s is %s (run mochi up)", sshgate.ErrWorkspaceStopped, name, inst.State)
		}
		if err := e.be.Start(ctx, inst.ID); err != nil {
			return nil, fmt.Errorf("start workspace %s: %w", name, err)
		}
		if inst, err = e.be.Inspect(ctx, inst.ID); err != nil {
			return nil, err
		}
	}
	r, err := e.resolve(ctx, Locate{WorkspaceFolder: rec.Folder, ConfigFile: rec.ConfigFile, MountWorkspaceGitRoot: true})
	if err != nil {
		// The config moved or broke: the container's own metadata still says who and where.
		r = &resolved{folder: rec.Folder, idLabels: rec.IDLabels}
		r.layout.WorkspaceFolder = rec.WorkspaceFolder
	}
	s, err := e.newSession(ctx, r, inst, HookOptions{RemoteEnv: rec.RemoteEnv}, false)
	if err != nil {
		return nil, err
	}
	env := append(append([]string(nil), inst.Env...), envList(s.env)...)
	spec := agent.SessionSpec{User: s.user, Env: env, Dir: s.dir}
	// The agent already listening on the workspace's socket is the fast path: no engine
	// round trip, no copy through the engine's stream. OnLink then sends it spec.
	if sock := inst.Labels[labelAgentSocket]; sock != "" {
		if c, err := agent.DialSocket(ctx, sock); err == nil {
			e.setLinkMode(name, linkMode{socket: true, agentID: inst.Labels[labelAgentID], spec: spec})
			return c, nil
		}
	}
	e.setLinkMode(name, linkMode{})
	argv := []string{providers.AgentTarget, "agent", "serve", "--stdio", "--user", s.user, "--dir", s.dir}
	for _, kv := range env {
		argv = append(argv, "--env", kv)
	}
	return att.Attach(ctx, inst.ID, argv)
}

// linkMode is how the last link to a workspace was made.
type linkMode struct {
	socket  bool
	agentID string
	spec    agent.SessionSpec
}

func (e *Engine) setLinkMode(name string, m linkMode) {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	if e.linkModes == nil {
		e.linkModes = map[string]linkMode{}
	}
	e.linkModes[name] = m
}

func (e *Engine) getLinkMode(name string) linkMode {
	e.linkMu.Lock()
	defer e.linkMu.Unlock()
	return e.linkModes[name]
}

// LinkSigner proves the gateway to the agent of a link made by Link: the workspace key for
// its socket, none for a private stdio stream.
func (e *Engine) LinkSigner(name string) (ssh.Signer, error) {
	m := e.getLinkMode(name)
	if !m.socket {
		return nil, nil
	}
	return loadOrCreateKey(e.agentFiles(m.agentID).keyFile)
}

// LinkReady tells the agent of a socket link which user, env and folder the sessions relayed
// over it get (a stdio link got them as flags).
func (e *Engine) LinkReady(ctx context.Context, name string, c *agent.Client) error {
	m := e.getLinkMode(name)
	if !m.socket {
		return nil
	}
	payload, err := json.Marshal(m.spec)
	if err != nil {
		return err
	}
	ok, _, err := c.Conn().SendRequest(agent.DefaultsRequestType, true, payload)
	if err != nil {
		return fmt.Errorf("send session defaults: %w", err)
	}
	if !ok {
		return fmt.Errorf("the workspace agent refused session defaults (an older agent? run mochi up --remove-existing-container)")
	}
	return nil
}

// linkState is the part of Engine used by Link and the records.
type linkState struct {
	storeOnce    sync.Once
	records      *Store
	storeErr     error
	startStopped bool
	linkModes    map[string]linkMode
}

// lockRecords serialises naming and writing workspace records across mochi processes.
func (e *Engine) lockRecords() (func(), error) {
	l, err := flock.Acquire(context.Background(), filepath.Join(e.home, "locks", "records.lock"))
	if err != nil {
		return nil, fmt.Errorf("lock workspace records: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}
