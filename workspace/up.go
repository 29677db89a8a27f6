package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/internal/flock"
	"github.com/mochi-dev/mochi/providers"
)

// ErrNoContainer is returned by --expect-existing-container when there is none.
var ErrNoContainer = errors.New("The expected container does not exist.")

// Up creates (or finds and starts) the workspace's container and runs its lifecycle.
func (e *Engine) Up(ctx context.Context, o UpOptions) (*UpResult, error) {
	for _, m := range o.Mounts {
		if _, err := devcontainer.ParseMountFlag(m); err != nil {
			return nil, fmt.Errorf("--mount %q: %w", m, err)
		}
	}
	r, err := e.resolve(ctx, o.Locate)
	if err != nil {
		return nil, err
	}
	if !r.cfg.IsCompose() && !r.cfg.IsImage() && !r.cfg.IsDockerfile() {
		return nil, fmt.Errorf("%s: no \"image\", \"build.dockerfile\" or \"dockerComposeFile\" property", r.configPath)
	}
	if err := e.checkConfigPorts(r, nil); err != nil {
		return nil, err
	}
	if err := e.checkConfig(r); err != nil {
		return nil, err
	}
	if err := checkHostRequirements(r.cfg.HostRequirements); err != nil {
		return nil, fmt.Errorf("%s: %w", r.configPath, err)
	}
	if err := e.runInitialize(ctx, r); err != nil {
		return nil, err
	}
	unlock, err := e.lockWorkspace(ctx, r)
	if err != nil {
		return nil, err
	}
	defer unlock()

	var inst *providers.Instance
	project, created := "", false
	if r.cfg.IsCompose() {
		inst, project, created, err = e.upCompose(ctx, r, o)
		if err != nil {
			return nil, err
		}
	} else if inst, err = e.findContainer(ctx, r); err != nil {
		return nil, err
	}
	if inst != nil && o.RemoveExisting && project == "" {
		e.log.Info("Removing existing container.", "container", inst.ID)
		if err := e.be.Remove(ctx, inst.ID, false); err != nil {
			return nil, fmt.Errorf("remove existing container %s: %w", short(inst.ID), err)
		}
		inst = nil
	}
	switch {
	case inst == nil && o.ExpectExisting:
		return nil, ErrNoContainer
	case inst == nil:
		inst, err = e.createContainer(ctx, r, o)
		if err != nil {
			return nil, err
		}
		created = true
	case !inst.Running():
		e.log.Info("Starting container.", "container", short(inst.ID))
		if err := e.be.Start(ctx, inst.ID); err != nil {
			return nil, fmt.Errorf("start container %s: %w", short(inst.ID), err)
		}
	}
	inst, err = e.be.Inspect(ctx, inst.ID)
	if err != nil {
		return nil, fmt.Errorf("inspect container: %w", err)
	}

	s, err := e.setup(ctx, r, inst, o.HookOptions, true)
	if err != nil {
		return &UpResult{Outcome: "error", ContainerID: inst.ID}, err
	}
	name, err := e.remember(r, inst, s, o.Name, o.RemoteEnv)
	if err != nil && e.home != "" {
		return &UpResult{Outcome: "error", ContainerID: inst.ID}, err
	}
	res := &UpResult{
		Workspace:             name,
		Created:               created,
		ComposeProjectName:    project,
		Outcome:               "success",
		ContainerID:           inst.ID,
		RemoteUser:            s.user,
		RemoteWorkspaceFolder: r.layout.WorkspaceFolder,
		OCIAuthDiagnostics:    &OCIAuthDiagnostics{},
	}
	if o.IncludeConfiguration {
		res.Configuration = configurationJSON(s.cfg, o.ConfigFile != "")
	}
	if o.IncludeMergedConfiguration {
		res.MergedConfiguration = s.merged.JSON(configurationMap(s.cfg, o.ConfigFile != ""))
	}
	return res, nil
}

// short abbreviates a container id for messages.
func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// configurationJSON is the `configuration` object of results, in the reference's key order.
func configurationJSON(c *devcontainer.Config, explicit bool) json.RawMessage {
	return json.RawMessage(c.Result(explicit))
}

// configurationMap is the configuration object as a map, the input of Merged.JSON.
func configurationMap(c *devcontainer.Config, explicit bool) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(c.Result(explicit), &m)
	return m
}

// removeOnError removes a container this call created when a later step fails, so a
// failed up leaves nothing half-made.
func (e *Engine) removeOnError(ctx context.Context, inst *providers.Instance, err *error) {
	if *err == nil || inst == nil {
		return
	}
	if rmErr := e.be.Remove(context.WithoutCancel(ctx), inst.ID, true); rmErr != nil {
		e.log.Warn("could not remove the half-created container", "container", short(inst.ID), "error", rmErr)
	}
}

// lockWorkspace takes the workspace's lock ($MOCHI_HOME/locks/<id>.lock) so that two ups of
// the same workspace at once make one container: the second waits, then finds it.
func (e *Engine) lockWorkspace(ctx context.Context, r *resolved) (func(), error) {
	if e.home == "" {
		return func() {}, nil
	}
	id := r.id
	if len(id) > 16 {
		id = id[:16]
	}
	if err := os.MkdirAll(filepath.Join(e.home, "locks"), 0o700); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	l, err := flock.Acquire(ctx, filepath.Join(e.home, "locks", id+".lock"))
	if err != nil {
		return nil, fmt.Errorf("wait for another mochi up of this workspace: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}
