package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/gitcred"
	"github.com/mochi-dev/mochi/gitwt"
	"github.com/mochi-dev/mochi/providers"
)

// Labels a worktree workspace's container carries besides the id labels.
const (
	labelWorkspaceName = "dev.mochi.workspace"
	labelWorktreeRepo  = "dev.mochi.worktree.repo"
)

// agentSockTarget is where a forwarded host ssh-agent socket appears in a workspace.
const agentSockTarget = "/.mochi/ssh-agent.sock"

// Named is what mochi keeps about a worktree workspace (`mochi workspace create`), in
// $MOCHI_HOME/named/NAME.json; the workspace's Record is kept as for any up.
type Named struct {
	Name string `json:"name"`
	// Repo is the main work tree of the repository; CommonDir its shared git folder,
	// mounted at the same path inside the workspace.
	Repo      string `json:"repo"`
	CommonDir string `json:"commonDir"`
	Branch    string `json:"branch"`
	// CreatedBranch is true when create made the branch (--new-branch).
	CreatedBranch bool   `json:"createdBranch,omitempty"`
	Worktree      string `json:"worktree"`
	Provider      string `json:"provider"`
	// SSHAuthSock is the host ssh-agent socket bind-mounted into the workspace ("" for none).
	SSHAuthSock      string    `json:"sshAuthSock,omitempty"`
	NoGitCredentials bool      `json:"noGitCredentials,omitempty"`
	NoGitConfig      bool      `json:"noGitConfig,omitempty"`
	Mounts           []string  `json:"mounts,omitempty"`
	RemoteEnv        []string  `json:"remoteEnv,omitempty"`
	Created          time.Time `json:"created"`
}

// NamedStore keeps Named records as one JSON file each, written atomically.
type NamedStore struct{ dir string }

// OpenNamedStore opens (creating, owner-only) $home/named.
func OpenNamedStore(home string) (*NamedStore, error) {
	if home == "" {
		return nil, errors.New("named workspaces need mochi's data folder (MOCHI_HOME)")
	}
	dir := filepath.Join(home, "named")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create named workspaces folder: %w", err)
	}
	return &NamedStore{dir: dir}, nil
}

// Get returns the record of name, or an error wrapping fs.ErrNotExist.
func (s *NamedStore) Get(name string) (*Named, error) {
	return readRecord[Named](s.dir, name)
}

// List returns every record, sorted by name.
func (s *NamedStore) List() ([]*Named, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list named workspaces: %w", err)
	}
	var out []*Named
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			if n, err := s.Get(name); err == nil {
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// put writes n atomically; with reserve it fails with fs.ErrExist when n.Name is taken.
func (s *NamedStore) put(n *Named, reserve bool) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write workspace %s: %w", n.Name, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write workspace %s: %w", n.Name, err)
	}
	final := filepath.Join(s.dir, n.Name+".json")
	if reserve {
		// A hard link never replaces: two creates of one name cannot both win.
		err = os.Link(tmp.Name(), final)
	} else {
		err = os.Rename(tmp.Name(), final)
	}
	if err != nil {
		return fmt.Errorf("write workspace %s: %w", n.Name, err)
	}
	return nil
}

// Delete removes the record of name (no error if absent).
func (s *NamedStore) Delete(name string) error {
	if err := os.Remove(filepath.Join(s.dir, name+".json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete workspace %s: %w", name, err)
	}
	return nil
}

// Named returns the store of worktree workspaces.
func (e *Engine) Named() (*NamedStore, error) { return OpenNamedStore(e.home) }

// CreateOptions are the flags of `mochi workspace create`.
type CreateOptions struct {
	Name string
	// Repo is a folder inside the repository (default: the current directory).
	Repo string
	// Branch checks out an existing branch; NewBranch creates one from HEAD.
	Branch, NewBranch string
	// Path is the worktree folder (default $MOCHI_HOME/worktrees/NAME).
	Path string
	// Provider must name the engine's provider when set.
	Provider string
	// SSHAuthSock, when set, is bind-mounted into the workspace as SSH_AUTH_SOCK.
	SSHAuthSock string
	Git         GitOptions
	// Up carries the other up flags (dotfiles, mounts, remote env, ...).
	Up UpOptions
}

// CreateNamed adds a worktree for the branch and brings up a workspace named o.Name for it.
// On failure nothing is left: the container, the worktree, a branch it made and the
// records are removed.
func (e *Engine) CreateNamed(ctx context.Context, o CreateOptions) (_ *Named, _ *UpResult, err error) {
	if !validName.MatchString(o.Name) {
		return nil, nil, fmt.Errorf("workspace name %q: use lower-case letters, digits and dashes (at most 63)", o.Name)
	}
	if p := e.be.Capabilities().Name; o.Provider != "" && o.Provider != p {
		return nil, nil, fmt.Errorf("--provider %q: this mochi runs workspaces on %s", o.Provider, p)
	}
	ns, err := e.Named()
	if err != nil {
		return nil, nil, err
	}
	st, err := e.store()
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.Get(o.Name); err == nil {
		return nil, nil, fmt.Errorf("workspace name %s is already used", o.Name)
	}
	git := o.Git.Host
	repoDir := o.Repo
	if repoDir == "" {
		repoDir = "."
	}
	repo, err := git.Open(ctx, repoDir)
	if err != nil {
		return nil, nil, err
	}
	main := repo.Root
	if filepath.Base(repo.CommonDir) == ".git" {
		main = filepath.Dir(repo.CommonDir)
	}
	path := o.Path
	if path == "" {
		path = filepath.Join(e.home, "worktrees", o.Name)
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, nil, fmt.Errorf("worktree path %s: %w", o.Path, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, nil, fmt.Errorf("%s: %w", path, gitwt.ErrPathExists)
	}
	n := &Named{
		Name: o.Name, Repo: main, CommonDir: repo.CommonDir, Worktree: path, Provider: e.be.Capabilities().Name,
		SSHAuthSock: o.SSHAuthSock, NoGitCredentials: !o.Git.Credentials, NoGitConfig: !o.Git.Config,
		Mounts: o.Up.Mounts, RemoteEnv: o.Up.RemoteEnv, Created: time.Now().UTC(),
		Branch: o.Branch, CreatedBranch: o.NewBranch != "",
	}
	if o.NewBranch != "" {
		n.Branch = o.NewBranch
	}
	if err := ns.put(n, true); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, nil, fmt.Errorf("workspace name %s is already used", o.Name)
		}
		return nil, nil, err
	}
	added := false
	defer func() {
		if err == nil {
			return
		}
		bg := context.WithoutCancel(ctx)
		if added {
			if rmErr := git.RemoveWorktree(bg, main, path, true); rmErr != nil {
				e.log.Warn("could not remove the half-created worktree", "path", path, "error", rmErr)
			}
			if n.CreatedBranch {
				if _, rmErr := git.Run(bg, main, "branch", "-D", "--", n.Branch); rmErr != nil {
					e.log.Warn("could not delete the half-created branch", "branch", n.Branch, "error", rmErr)
				}
			}
		}
		_ = ns.Delete(o.Name)
	}()
	if _, err = git.AddWorktree(ctx, main, path, gitwt.AddOptions{Branch: o.Branch, NewBranch: o.NewBranch,
		LockReason: "mochi workspace " + o.Name + " (its container sees the folder at another path)"}); err != nil {
		return nil, nil, err
	}
	added = true
	res, err := e.upNamed(ctx, n, o.Up, o.Git)
	if err != nil {
		if res != nil && res.ContainerID != "" {
			if rmErr := e.be.Remove(context.WithoutCancel(ctx), res.ContainerID, true); rmErr != nil && !errors.Is(rmErr, providers.ErrNotFound) {
				e.log.Warn("could not remove the half-created container", "container", short(res.ContainerID), "error", rmErr)
			}
			e.forget(res.ContainerID)
		}
		return nil, res, err
	}
	return n, res, nil
}

// UpNamed brings up (creating or starting) the worktree workspace name with the settings
// it was created with; up adds flags such as dotfiles or --remove-existing-container.
func (e *Engine) UpNamed(ctx context.Context, name string, up UpOptions, g GitOptions) (*UpResult, error) {
	ns, err := e.Named()
	if err != nil {
		return nil, err
	}
	n, err := ns.Get(name)
	if errors.Is(err, fs.ErrNotExist) {
		// A workspace made by a plain up: up its folder again under its name.
		rec, recErr := e.namedRecord(name)
		if recErr != nil {
			return nil, fmt.Errorf("no workspace named %s", name)
		}
		up.Name = name
		up.Locate = Locate{WorkspaceFolder: rec.Folder, ConfigFile: rec.ConfigFile, MountWorkspaceGitRoot: true}
		return e.Up(ctx, up)
	}
	if err != nil {
		return nil, err
	}
	g.Credentials = g.Credentials && !n.NoGitCredentials
	g.Config = g.Config && !n.NoGitConfig
	up.Mounts = append(append([]string(nil), n.Mounts...), up.Mounts...)
	up.RemoteEnv = append(append([]string(nil), n.RemoteEnv...), up.RemoteEnv...)
	return e.upNamed(ctx, n, up, g)
}

// upNamed runs up for the worktree of n and sets git up inside.
func (e *Engine) upNamed(ctx context.Context, n *Named, up UpOptions, g GitOptions) (*UpResult, error) {
	if st, err := os.Stat(n.Worktree); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("worktree of %s: %w", n.Name, errNotDir(err))
	}
	up.Name = n.Name
	up.WorkspaceFolder = n.Worktree
	up.MountWorkspaceGitRoot = true
	gitMount, err := bindMount(n.CommonDir, n.CommonDir)
	if err != nil {
		return nil, fmt.Errorf("git folder of %s: %w", n.Name, err)
	}
	up.Mounts = append(append([]string(nil), up.Mounts...), gitMount)
	if n.SSHAuthSock != "" {
		agentMount, err := bindMount(n.SSHAuthSock, agentSockTarget)
		if err != nil {
			return nil, fmt.Errorf("ssh agent of %s: %w", n.Name, err)
		}
		up.Mounts = append(up.Mounts, agentMount)
		up.RemoteEnv = append(up.RemoteEnv, "SSH_AUTH_SOCK="+agentSockTarget)
	}
	labels := map[string]string{labelWorkspaceName: n.Name, labelWorktreeRepo: n.Repo}
	for k, v := range up.ExtraLabels {
		labels[k] = v
	}
	up.ExtraLabels = labels
	res, err := e.Up(ctx, up)
	if err != nil {
		return res, err
	}
	loc := Locate{WorkspaceFolder: n.Worktree, MountWorkspaceGitRoot: true, ContainerID: res.ContainerID}
	if n.SSHAuthSock != "" {
		if err := e.setAgentProfile(ctx, loc, up.HookOptions); err != nil {
			e.log.Warn("workspace is up but its sessions may not find the ssh-agent: "+err.Error(), "workspace", n.Name)
		}
	}
	g.SafeDirs = append(g.SafeDirs, res.RemoteWorkspaceFolder, n.CommonDir)
	if err := e.SetUpGit(ctx, loc, up.HookOptions, g); err != nil {
		e.log.Warn("workspace is up but git is not set up in it: "+err.Error(), "workspace", n.Name)
	}
	return res, nil
}

// bindMount is a --mount string binding source at target; the flag's strict format has no
// room for a comma in a path.
func bindMount(source, target string) (string, error) {
	if strings.Contains(source, ",") || strings.Contains(target, ",") {
		return "", fmt.Errorf("cannot mount %s: the path has a comma", source)
	}
	return "type=bind,source=" + source + ",target=" + target, nil
}

// StopNamed stops (remove: and removes) the container of a named workspace; the worktree
// and the named record stay.
func (e *Engine) StopNamed(ctx context.Context, name string, remove bool) (*StopResult, error) {
	loc, err := e.namedLocate(name)
	if err != nil {
		return nil, err
	}
	return e.Stop(ctx, StopOptions{Locate: loc, Remove: remove})
}

// namedLocate finds a named workspace: by its record when it has one, else by its worktree.
func (e *Engine) namedLocate(name string) (Locate, error) {
	st, err := e.store()
	if err != nil {
		return Locate{}, err
	}
	if rec, err := st.Get(name); err == nil && rec.ContainerID != "" {
		return Locate{WorkspaceFolder: rec.Folder, ConfigFile: rec.ConfigFile, ContainerID: rec.ContainerID, MountWorkspaceGitRoot: true}, nil
	}
	ns, err := e.Named()
	if err != nil {
		return Locate{}, err
	}
	n, err := ns.Get(name)
	if err != nil {
		return Locate{}, fmt.Errorf("no workspace named %s: %w", name, fs.ErrNotExist)
	}
	return Locate{WorkspaceFolder: n.Worktree, MountWorkspaceGitRoot: true}, nil
}

// RemoveNamed removes a worktree workspace: its container, its worktree (refused when the
// worktree has uncommitted changes, unless force) and its records. The branch stays. A
// workspace made by a plain up loses only its container and record; its folder stays.
func (e *Engine) RemoveNamed(ctx context.Context, name string, force bool, git gitwt.Git) error {
	ns, err := e.Named()
	if err != nil {
		return err
	}
	n, err := ns.Get(name)
	if errors.Is(err, fs.ErrNotExist) {
		if _, recErr := e.namedRecord(name); recErr != nil {
			return fmt.Errorf("no workspace named %s", name)
		}
		if _, err := e.StopNamed(ctx, name, true); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove the container of %s: %w", name, err)
		}
		if st, err := e.store(); err == nil {
			_ = st.Delete(name)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if _, statErr := os.Stat(n.Worktree); statErr == nil && !force {
		lines, err := git.Status(ctx, n.Worktree)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			return fmt.Errorf("%s: %w (%d paths changed or untracked; commit them or use --force)", n.Worktree, gitwt.ErrDirty, len(lines))
		}
	}
	_, recErr := e.namedRecord(name)
	_, wtErr := os.Stat(n.Worktree)
	// Without a record or a worktree there is nothing to find a container by.
	if recErr == nil || wtErr == nil {
		if _, err := e.StopNamed(ctx, name, true); err != nil && !errors.Is(err, ErrNotFound) {
			if !force {
				return fmt.Errorf("remove the container of %s: %w", name, err)
			}
			e.log.Warn("could not remove the workspace container", "workspace", name, "error", err)
		}
	}
	if err := git.RemoveWorktree(ctx, n.Repo, n.Worktree, force); err != nil {
		return err
	}
	if st, err := e.store(); err == nil {
		_ = st.Delete(name)
	}
	return ns.Delete(name)
}

// namedRecord returns the workspace record of name.
func (e *Engine) namedRecord(name string) (*Record, error) {
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	return st.Get(name)
}

// GitOptions say how git is set up inside a workspace after up (each part opt-out).
type GitOptions struct {
	// Host runs the host's git (to read user.name and user.email).
	Host gitwt.Git
	// Credentials sets credential.helper to mochi's helper, which asks the host's git.
	Credentials bool
	// Config copies the host's user.name and user.email when the workspace has none.
	Config bool
	// SafeDirs are added to safe.directory (folders mounted from the host, whose owner
	// may differ from the remote user).
	SafeDirs []string
}

// runScript runs a shell script with args in the session's container as user, with the
// session's environment (HOME set for a non-root user); it returns the exit code and the
// trimmed output.
func (e *Engine) runScript(ctx context.Context, inst *providers.Instance, s *session, user, script string, args ...string) (int, string, error) {
	var out strings.Builder
	env := envList(s.env)
	if user != "root" {
		env = append(env, "HOME="+s.home)
	}
	code, err := e.execer(ctx, inst, s.shell).Exec(ctx, inst.ID, providers.ExecSpec{
		Cmd: append([]string{"/bin/sh", "-c", script, "mochi"}, args...), User: user, Env: env, WorkDir: "/",
		Stdout: &out, Stderr: &out,
	})
	return code, strings.TrimSpace(out.String()), err
}

// agentProfile makes login shells (and so the user env probe of every later session) use
// the bind-mounted host ssh-agent when the session has no agent of its own.
const agentProfile = `mkdir -p /etc/profile.d && cat > /etc/profile.d/mochi-ssh-agent.sh <<'EOF'
# Written by mochi (workspace create --forward-ssh-agent): the host's ssh-agent.
if [ -z "$SSH_AUTH_SOCK" ] && [ -S ` + agentSockTarget + ` ]; then export SSH_AUTH_SOCK=` + agentSockTarget + `; fi
EOF
`

// setAgentProfile installs agentProfile in the running workspace at loc.
func (e *Engine) setAgentProfile(ctx context.Context, loc Locate, ho HookOptions) error {
	r, inst, err := e.locateContainer(ctx, loc)
	if err != nil {
		return err
	}
	s, err := e.newSession(ctx, r, inst, ho, false)
	if err != nil {
		return err
	}
	code, out, err := e.runScript(ctx, inst, s, "root", agentProfile)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, out)
	}
	if err != nil {
		return fmt.Errorf("set SSH_AUTH_SOCK for sessions: %w", err)
	}
	return nil
}

// gitSystemScript sets the system git configuration; $1 is the credential helper ("" for
// none), the other arguments safe directories. Exit 3: no git in the workspace.
const gitSystemScript = `command -v git >/dev/null 2>&1 || exit 3
helper="$1"; shift
for d in "$@"; do
  git config --system --get-all safe.directory 2>/dev/null | grep -qxF "$d" || git config --system --add safe.directory "$d" || exit 1
done
if [ -n "$helper" ]; then git config --system credential.helper "$helper" || exit 1; fi
`

// gitUserScript copies user.name ($1) and user.email ($2) into the remote user's global
// config when it has none.
const gitUserScript = `command -v git >/dev/null 2>&1 || exit 3
if [ -n "$1" ] && [ -z "$(git config --global user.name)" ]; then git config --global user.name "$1" || exit 1; fi
if [ -n "$2" ] && [ -z "$(git config --global user.email)" ]; then git config --global user.email "$2" || exit 1; fi
`

// errNoGit: the workspace has no git binary, so there is nothing to set up.
var errNoGit = errors.New("no git in the workspace")

// SetUpGit configures git in the running workspace at loc: the safe directories and the
// credential helper (system config, as root) and the user's name and e-mail (the remote
// user's global config). A workspace without git is left alone.
func (e *Engine) SetUpGit(ctx context.Context, loc Locate, ho HookOptions, g GitOptions) error {
	if !g.Credentials && !g.Config && len(g.SafeDirs) == 0 {
		return nil
	}
	r, inst, err := e.locateContainer(ctx, loc)
	if err != nil {
		return err
	}
	s, err := e.newSession(ctx, r, inst, ho, false)
	if err != nil {
		return err
	}
	run := func(user, script string, args ...string) error {
		code, out, err := e.runScript(ctx, inst, s, user, script, args...)
		switch {
		case err != nil:
			return fmt.Errorf("set up git: %w", err)
		case code == 3:
			return errNoGit
		case code != 0:
			return fmt.Errorf("set up git: exit %d: %s", code, out)
		}
		return nil
	}
	helper := ""
	if g.Credentials {
		helper = gitcred.HelperCommand
	}
	if err := run("root", gitSystemScript, append([]string{helper}, g.SafeDirs...)...); err != nil {
		if errors.Is(err, errNoGit) {
			e.log.Debug("no git in the workspace: git set-up skipped")
			return nil
		}
		return err
	}
	if !g.Config {
		return nil
	}
	dir := loc.WorkspaceFolder
	if dir == "" {
		dir = r.folder
	}
	name, _, _ := g.Host.ConfigGet(ctx, dir, "user.name")
	email, _, _ := g.Host.ConfigGet(ctx, dir, "user.email")
	if name == "" && email == "" {
		return nil
	}
	return run(s.user, gitUserScript, name, email)
}

// NamedEntry is one line of `mochi workspace list`.
type NamedEntry struct {
	Name     string `json:"name"`
	Branch   string `json:"branch,omitempty"`
	Provider string `json:"provider"`
	// State is the container's state, "absent" when it has none, "" when the workspace
	// runs on another provider than the engine's.
	State       string `json:"state"`
	Folder      string `json:"folder"`
	Worktree    bool   `json:"worktree"`
	ContainerID string `json:"containerId,omitempty"`
}

// ListNamed lists every named workspace: those made by up (records) and the worktree
// workspaces, whether or not they have a container.
func (e *Engine) ListNamed(ctx context.Context, git gitwt.Git) ([]NamedEntry, error) {
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	recs, err := st.List()
	if err != nil {
		return nil, err
	}
	ns, err := e.Named()
	if err != nil {
		return nil, err
	}
	named, err := ns.List()
	if err != nil {
		return nil, err
	}
	byName := map[string]*NamedEntry{}
	for _, n := range named {
		byName[n.Name] = &NamedEntry{Name: n.Name, Branch: n.Branch, Provider: n.Provider, State: "absent", Folder: n.Worktree, Worktree: true}
	}
	for _, r := range recs {
		ent, ok := byName[r.Name]
		if !ok {
			ent = &NamedEntry{Name: r.Name, Provider: r.Provider, Folder: r.Folder}
			if b, err := git.CurrentBranch(ctx, r.Folder); err == nil {
				ent.Branch = b
			}
			byName[r.Name] = ent
		}
		if r.Provider == "" || r.Provider == e.be.Capabilities().Name {
			ent.State, ent.ContainerID = e.recordState(ctx, r)
		} else {
			// Another provider's workspace: its engine knows the state.
			ent.State = ""
		}
	}
	out := make([]NamedEntry, 0, len(byName))
	for _, ent := range byName {
		out = append(out, *ent)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// recordState returns the state and id of a record's container ("absent" when gone).
func (e *Engine) recordState(ctx context.Context, r *Record) (string, string) {
	inst, err := e.be.Inspect(ctx, r.ContainerID)
	if errors.Is(err, providers.ErrNotFound) || r.ContainerID == "" {
		inst, err = e.be.Find(ctx, r.IDLabels)
	}
	switch {
	case err != nil:
		return "unknown", r.ContainerID
	case inst == nil:
		return "absent", ""
	}
	return string(inst.State), inst.ID
}
