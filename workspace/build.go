package workspace

import (
	"context"
	"fmt"
	"slices"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// BuildOptions are the flags of `mochi build`.
type BuildOptions struct {
	Locate
	FeatureOptions
	NoCache    bool
	ImageNames []string
	CacheFrom  []string
	Labels     map[string]string
}

// BuildResult is what `mochi build` prints.
type BuildResult struct {
	Outcome            string             `json:"outcome"`
	ImageName          []string           `json:"imageName"`
	OCIAuthDiagnostics OCIAuthDiagnostics `json:"ociAuthDiagnostics"`
}

// Build builds the workspace's image with the devcontainer.metadata label baked in (so a
// prebuilt image carries its configuration), as the reference's build does.
func (e *Engine) Build(ctx context.Context, o BuildOptions) (*BuildResult, error) {
	r, err := e.resolve(ctx, o.Locate)
	if err != nil {
		return nil, err
	}
	if r.cfg.IsCompose() {
		return nil, fmt.Errorf("%s: compose configurations (dockerComposeFile) are not supported yet", r.configPath)
	}
	if !r.cfg.IsImage() && !r.cfg.IsDockerfile() {
		return nil, fmt.Errorf("%s: no \"image\" or \"build.dockerfile\" property", r.configPath)
	}
	img, err := e.prepareImage(ctx, r, o.NoCache, o.CacheFrom)
	if err != nil {
		return nil, err
	}
	entries := append(slices.Clone(img.entries), devcontainer.ConfigMetadataEntry(r.raw.Raw))
	if hasFeatures(r.cfg, o.FeatureOptions) {
		if img, entries, err = e.buildFeatures(ctx, r, img, o.FeatureOptions, o.NoCache); err != nil {
			return nil, err
		}
	}
	names := o.ImageNames
	if len(names) == 0 {
		names = []string{img.ref}
		if !img.built {
			names = []string{devcontainer.ImageName(r.folder) + "-features"}
		}
	}
	dockerfile := fmt.Sprintf("FROM %s\n%s\n", img.ref, devcontainer.MetadataLabelInstruction(entries))
	_, err = e.be.BuildImage(ctx, providers.BuildSpec{
		DockerfileContent: []byte(dockerfile),
		Tags:              names,
		Labels:            o.Labels,
		Output:            e.out,
	})
	if err != nil {
		return nil, fmt.Errorf("label image %s: %w", img.ref, err)
	}
	return &BuildResult{Outcome: "success", ImageName: names}, nil
}
