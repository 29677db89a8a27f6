package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
)

// resolved is a workspace's configuration as every verb needs it: located, parsed,
// substituted (local and id phases) and laid out.
type resolved struct {
	folder     string // absolute host workspace folder
	configPath string // absolute path of devcontainer.json (may not exist with --override-config)
	raw        *devcontainer.Config
	local      *devcontainer.Config // substituted: local phase only
	cfg        *devcontainer.Config // substituted: local + devcontainerId phases
	layout     devcontainer.Layout
	idLabels   map[string]string
	id         string // ${devcontainerId}
}

func (e *Engine) resolve(ctx context.Context, loc Locate) (*resolved, error) {
	folder := loc.WorkspaceFolder
	if folder == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("find current directory: %w", err)
		}
		folder = wd
	}
	folder, err := filepath.Abs(folder)
	if err != nil {
		return nil, fmt.Errorf("resolve workspace folder %s: %w", loc.WorkspaceFolder, err)
	}
	if st, err := os.Stat(folder); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("workspace folder %s: %w", folder, errNotDir(err))
	}
	r := &resolved{folder: folder}

	switch {
	case loc.OverrideConfig != "":
		r.configPath, err = devcontainer.Discover(folder, loc.ConfigFile)
		if err != nil {
			r.configPath = filepath.Join(folder, ".devcontainer", "devcontainer.json")
			if loc.ConfigFile != "" {
				r.configPath, _ = filepath.Abs(loc.ConfigFile)
			}
		}
		r.raw, err = devcontainer.LoadOverride(r.configPath, loc.OverrideConfig)
	default:
		r.configPath, err = devcontainer.Discover(folder, loc.ConfigFile)
		if err != nil {
			return nil, err
		}
		r.raw, err = devcontainer.Load(r.configPath)
	}
	if err != nil {
		return nil, err
	}

	r.idLabels, err = idLabels(loc.IDLabels, folder, r.configPath)
	if err != nil {
		return nil, err
	}
	r.id = devcontainer.DevcontainerID(r.idLabels)

	// The layout comes from the unsubstituted config; substituted values then win, as in
	// the reference.
	r.local, r.layout, err = devcontainer.ResolveLocal(r.raw, folder, loc.MountWorkspaceGitRoot, e.lookupEnv)
	if err != nil {
		return nil, err
	}
	r.cfg, err = r.raw.Substitute(devcontainer.SubstContext{
		LocalWorkspaceFolder: folder, ContainerWorkspaceFolder: r.layout.WorkspaceFolder,
		LookupEnv: e.lookupEnv, DevcontainerID: r.id,
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func errNotDir(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("not a directory")
}

// idLabels parses --id-label flags, or returns the default id labels.
func idLabels(flags []string, folder, configPath string) (map[string]string, error) {
	if len(flags) == 0 {
		return devcontainer.IDLabels(folder, configPath), nil
	}
	m := make(map[string]string, len(flags))
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("--id-label %q: want name=value", f)
		}
		m[k] = v
	}
	return m, nil
}

// resolveWithoutConfig is the resolved form of a workspace known only by its container.
func (e *Engine) resolveWithoutConfig(loc Locate) (*resolved, error) {
	r := &resolved{}
	var err error
	if loc.WorkspaceFolder != "" {
		if r.folder, err = filepath.Abs(loc.WorkspaceFolder); err != nil {
			return nil, err
		}
	}
	r.idLabels = map[string]string{}
	return r, nil
}
