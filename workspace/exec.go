package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mochi-dev/mochi/providers"
)

// ErrNotFound is returned when a verb needs the workspace's container and there is none.
var ErrNotFound = errors.New("Dev container not found.")

// ExecOptions are the flags of `mochi exec`.
type ExecOptions struct {
	Locate
	HookOptions
	Args   []string
	Tty    bool
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// locateContainer resolves the configuration (optional when a container id is given) and
// finds the workspace's container.
func (e *Engine) locateContainer(ctx context.Context, loc Locate) (*resolved, *providers.Instance, error) {
	r, err := e.resolve(ctx, loc)
	if err != nil {
		if loc.ContainerID == "" {
			return nil, nil, err
		}
		// A container named by id works without a config: its metadata label is enough.
		r, err = e.resolveWithoutConfig(loc)
		if err != nil {
			return nil, nil, err
		}
	}
	var inst *providers.Instance
	if loc.ContainerID != "" {
		inst, err = e.containerByID(ctx, loc.ContainerID)
	} else {
		inst, err = e.findContainer(ctx, r)
	}
	if err != nil {
		return nil, nil, err
	}
	if inst == nil {
		return nil, nil, ErrNotFound
	}
	return r, inst, nil
}

// Exec runs a command in the workspace's container as the remote user, in the workspace
// folder, with remoteEnv and the user env probe applied, and returns its exit code.
func (e *Engine) Exec(ctx context.Context, o ExecOptions) (int, error) {
	if len(o.Args) == 0 {
		return 1, fmt.Errorf("exec: no command given")
	}
	r, inst, err := e.locateContainer(ctx, o.Locate)
	if err != nil {
		return 1, err
	}
	if !inst.Running() {
		return 1, fmt.Errorf("container %s is not running (state %s): run mochi up first", short(inst.ID), inst.State)
	}
	s, err := e.newSession(ctx, r, inst, o.HookOptions, false)
	if err != nil {
		return 1, err
	}
	code, err := e.execer(ctx, inst, s.shell).Exec(ctx, inst.ID, providers.ExecSpec{
		Cmd: o.Args, User: s.user, Env: envList(s.env), WorkDir: s.dir, Tty: o.Tty,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
	})
	if err != nil {
		return 1, fmt.Errorf("exec %s: %w", o.Args[0], err)
	}
	return code, nil
}

// RunUserCommands runs the lifecycle hooks in an existing container (idempotent, by the
// same markers as up) and returns the reference's result word.
func (e *Engine) RunUserCommands(ctx context.Context, loc Locate, ho HookOptions) (string, error) {
	r, inst, err := e.locateContainer(ctx, loc)
	if err != nil {
		return "", err
	}
	if !inst.Running() {
		return "", fmt.Errorf("container %s is not running (state %s)", short(inst.ID), inst.State)
	}
	s, err := e.newSession(ctx, r, inst, ho, false)
	if err != nil {
		return "", err
	}
	if ho.SkipPostCreate {
		return hooksDone, nil
	}
	return e.runLifecycle(ctx, s, ho)
}

// SetUpResult is what `mochi set-up` prints.
type SetUpResult struct {
	Outcome             string          `json:"outcome"`
	Configuration       json.RawMessage `json:"configuration,omitempty"`
	MergedConfiguration map[string]any  `json:"mergedConfiguration,omitempty"`
}

// SetUp turns an already-running container into a dev container: env patches and hooks.
func (e *Engine) SetUp(ctx context.Context, loc Locate, ho HookOptions, withConfig, withMerged bool) (*SetUpResult, error) {
	if loc.ContainerID == "" {
		return nil, fmt.Errorf("set-up: --container-id is required")
	}
	r, inst, err := e.locateContainer(ctx, loc)
	if err != nil {
		return nil, err
	}
	s, err := e.setup(ctx, r, inst, ho, true)
	if err != nil {
		return nil, err
	}
	res := &SetUpResult{Outcome: "success"}
	if withConfig && s.cfg != nil {
		res.Configuration = configurationJSON(s.cfg, loc.ConfigFile != "")
	}
	if withMerged {
		var cfg map[string]any
		if s.cfg != nil {
			cfg = configurationMap(s.cfg, loc.ConfigFile != "")
		}
		res.MergedConfiguration = s.merged.JSON(cfg)
	}
	return res, nil
}
