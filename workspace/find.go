package workspace

import (
	"context"
	"errors"
	"fmt"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

const (
	labelLocalFolder = "devcontainer.local_folder"
	labelConfigFile  = "devcontainer.config_file"
	labelMetadata    = "devcontainer.metadata"
)

// findContainer finds the workspace's container by its id labels, falling back (as the
// reference does) to an old container that carries only the local-folder label.
func (e *Engine) findContainer(ctx context.Context, r *resolved) (*providers.Instance, error) {
	inst, err := e.be.Find(ctx, r.idLabels)
	if err != nil {
		return nil, fmt.Errorf("look for the workspace container: %w", err)
	}
	if inst != nil {
		return inst, nil
	}
	folder, ok := r.idLabels[labelLocalFolder]
	if !ok || len(r.idLabels) != 2 {
		return nil, nil
	}
	old, err := e.be.List(ctx, map[string]string{labelLocalFolder: folder})
	if err != nil {
		return nil, fmt.Errorf("look for the workspace container: %w", err)
	}
	for _, c := range old {
		if _, has := c.Labels[labelConfigFile]; !has {
			return c, nil
		}
	}
	return nil, nil
}

// containerByID inspects a container named with --container-id.
func (e *Engine) containerByID(ctx context.Context, id string) (*providers.Instance, error) {
	inst, err := e.be.Inspect(ctx, id)
	if errors.Is(err, providers.ErrNotFound) {
		return nil, fmt.Errorf("container %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect container %s: %w", id, err)
	}
	return inst, nil
}

// metadataEntries reads the devcontainer.metadata label of a container or image.
func metadataEntries(labels map[string]string) ([]map[string]any, error) {
	v, ok := labels[labelMetadata]
	if !ok || v == "" {
		return nil, nil
	}
	entries, err := devcontainer.ParseMetadataLabel(v)
	if err != nil {
		return nil, fmt.Errorf("read %s label: %w", labelMetadata, err)
	}
	return entries, nil
}
