package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"slices"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// ReadConfigOptions are the flags of `mochi read-configuration`.
type ReadConfigOptions struct {
	Locate
	IncludeMerged bool
}

// ReadConfigResult is what `mochi read-configuration` prints.
type ReadConfigResult struct {
	Configuration       json.RawMessage    `json:"configuration"`
	Workspace           json.RawMessage    `json:"workspace"`
	MergedConfiguration map[string]any     `json:"mergedConfiguration,omitempty"`
	OCIAuthDiagnostics  OCIAuthDiagnostics `json:"ociAuthDiagnostics"`
}

// ReadConfiguration returns the parsed configuration; when the workspace's container exists
// its id and env are substituted and the merged configuration comes from its label.
func (e *Engine) ReadConfiguration(ctx context.Context, o ReadConfigOptions) (*ReadConfigResult, error) {
	r, err := e.resolve(ctx, o.Locate)
	if err != nil {
		return nil, err
	}
	var inst *providers.Instance
	if o.ContainerID != "" {
		inst, err = e.containerByID(ctx, o.ContainerID)
	} else {
		inst, err = e.findContainer(ctx, r)
	}
	if err != nil {
		return nil, err
	}
	cfg := r.local // the reference substitutes ${devcontainerId} only when a container exists
	var cenv map[string]string
	if inst != nil {
		cenv = envMap(inst.Env)
		cfg, err = r.raw.Substitute(devcontainer.SubstContext{
			LocalWorkspaceFolder: r.folder, ContainerWorkspaceFolder: r.layout.WorkspaceFolder,
			LookupEnv: e.lookupEnv, DevcontainerID: r.id, ContainerEnv: cenv,
		})
		if err != nil {
			return nil, err
		}
	}
	ws := json.RawMessage(r.layout.JSON())
	explicit := o.ConfigFile != ""
	res := &ReadConfigResult{Configuration: configurationJSON(cfg, explicit), Workspace: ws}
	if !o.IncludeMerged {
		return res, nil
	}
	var entries []map[string]any
	if inst != nil {
		entries, err = containerEntries(r, inst)
	} else {
		entries, err = e.imageEntries(ctx, r)
		entries = append(entries, devcontainer.ConfigMetadataEntry(r.raw.Raw))
	}
	if err != nil {
		return nil, err
	}
	m, err := e.merge(r, entries, cenv)
	if err != nil {
		return nil, err
	}
	res.MergedConfiguration = m.JSON(configurationMap(cfg, explicit))
	return res, nil
}

// imageEntries reads the metadata label of the config's image without building or pulling
// (a missing image contributes nothing).
func (e *Engine) imageEntries(ctx context.Context, r *resolved) ([]map[string]any, error) {
	if !r.cfg.IsImage() {
		return nil, nil
	}
	info, err := e.be.InspectImage(ctx, r.cfg.Image)
	if errors.Is(err, providers.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries, err := metadataEntries(info.Labels)
	return slices.Clip(entries), err
}
