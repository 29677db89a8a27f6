package workspace

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// session is a running container as the remote user sees it: who, where, with which env.
type session struct {
	inst   *providers.Instance
	cfg    *devcontainer.Config // substituted in all three phases
	merged *devcontainer.Merged
	user   string
	home   string
	shell  string
	// dir is the working folder of hooks and exec: the workspace folder, else home.
	dir string
	// env is what every process mochi runs gets: probed user env, --remote-env, remoteEnv, secrets.
	env       map[string]string
	dataDir   string // marker folder: <home>/.devcontainer by default
	sysDir    string // system marker folder: /var/devcontainer by default
	remoteDir string // the remote workspace folder ("" if none)
}

// containerEntries returns the metadata entries that describe a running container: its
// label, plus only remoteUser, userEnvProbe and remoteEnv from the current config when the
// container carries the id labels (everything else is fixed at creation), as the reference.
func containerEntries(r *resolved, inst *providers.Instance) ([]map[string]any, error) {
	var raw map[string]any
	if r.raw != nil {
		raw = r.raw.Raw
	}
	var ids []string
	for k := range r.idLabels {
		ids = append(ids, k)
	}
	if len(ids) == 0 {
		ids = nil
	}
	entries, err := devcontainer.ContainerMetadata(inst.Labels, ids, raw, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s label: %w", labelMetadata, err)
	}
	return entries, nil
}

// setup works out the remote user's session in inst and, for up and set-up (patchSystem),
// patches /etc/environment and /etc/profile once per container.
func (e *Engine) setup(ctx context.Context, r *resolved, inst *providers.Instance, ho HookOptions, lifecycle bool) (*session, error) {
	s, err := e.newSession(ctx, r, inst, ho, lifecycle)
	if err != nil {
		return nil, err
	}
	e.log.Debug("Session ready.", "user", s.user, "home", s.home)
	if !lifecycle || ho.SkipPostCreate {
		return s, nil
	}
	if _, err := e.runLifecycle(ctx, s, ho); err != nil {
		return s, err
	}
	return s, nil
}

func (e *Engine) newSession(ctx context.Context, r *resolved, inst *providers.Instance, ho HookOptions, patchSystem bool) (*session, error) {
	entries, err := containerEntries(r, inst)
	if err != nil {
		return nil, err
	}
	cenv := envMap(inst.Env)
	merged, err := e.merge(r, entries, cenv)
	if err != nil {
		return nil, err
	}
	s := &session{inst: inst, merged: merged, remoteDir: r.layout.WorkspaceFolder}
	if r.raw != nil {
		s.cfg, err = r.raw.Substitute(devcontainer.SubstContext{
			LocalWorkspaceFolder: r.folder, ContainerWorkspaceFolder: r.layout.WorkspaceFolder,
			LookupEnv: e.lookupEnv, DevcontainerID: r.id, ContainerEnv: cenv,
		})
		if err != nil {
			return nil, err
		}
	}
	s.user = merged.RemoteUser
	if s.user == "" {
		s.user = inst.User
	}
	s.user, _, _ = strings.Cut(s.user, ":")
	if s.user == "" || s.user == "0" {
		s.user = "root"
	}

	pw, err := e.rootPrepare(ctx, inst, s.user, cenv, ho.SystemDataFolder, patchSystem)
	if err != nil {
		return nil, err
	}
	s.home = homeFolder(cenv, pw)
	s.shell = cenv["SHELL"]
	if s.shell == "" && pw != nil {
		s.shell = pw.shell
	}
	if s.shell == "" {
		s.shell = "/bin/sh"
	}
	s.dir = s.remoteDir
	if s.dir == "" {
		s.dir = s.home
	}
	s.dataDir = resolvePosix(s.home, ho.ContainerDataFolder, ".devcontainer")

	probe := merged.UserEnvProbe
	if probe == "" {
		probe = ho.DefaultUserEnvProbe
	}
	if probe == "" {
		probe = "loginInteractiveShell"
	}
	s.env, err = e.probeUserEnv(ctx, s, probe, ho.SessionDataFolder)
	if err != nil {
		return nil, err
	}
	for _, kv := range ho.RemoteEnv {
		k, v, _ := strings.Cut(kv, "=")
		s.env[k] = v
	}
	for k, v := range merged.RemoteEnv {
		if v == nil {
			delete(s.env, k)
			continue
		}
		s.env[k] = *v
	}
	maps.Copy(s.env, ho.Secrets)
	return s, nil
}

// envMap turns KEY=VALUE pairs into a map (later pairs win).
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envList turns a map into sorted KEY=VALUE pairs.
func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sortStrings(out)
	return out
}

// resolvePosix resolves p (default def) against base like path.posix.resolve.
func resolvePosix(base, p, def string) string {
	if p == "" {
		p = def
	}
	if strings.HasPrefix(p, "/") {
		return p
	}
	return strings.TrimSuffix(base, "/") + "/" + p
}

// run executes argv in the container and returns stdout; a non-zero exit is an error that
// includes stderr.
func (e *Engine) run(ctx context.Context, inst *providers.Instance, shell string, spec providers.ExecSpec) (string, int, error) {
	var out, errb bytes.Buffer
	spec.Stdout, spec.Stderr = &out, &errb
	code, err := e.execer(ctx, inst, shell).Exec(ctx, inst.ID, spec)
	if err != nil {
		return "", -1, fmt.Errorf("run %s in container: %w", spec.Cmd[0], err)
	}
	if code != 0 {
		return out.String(), code, fmt.Errorf("%s exited with %d: %s", strings.Join(spec.Cmd, " "), code, strings.TrimSpace(errb.String()))
	}
	return out.String(), 0, nil
}
