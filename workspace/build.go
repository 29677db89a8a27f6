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
	Outcome string `json:"outcome"`
	// ImageName is a list of names, or for a compose configuration built without
	// --image-name the one name, as the reference prints them.
	ImageName          any                `json:"imageName"`
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
		return e.buildCompose(ctx, r, o)
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
		if img, entries, err = e.buildFeatures(ctx, r, img, o.FeatureOptions, o.NoCache, []string{featuresTag(r)}); err != nil {
			return nil, err
		}
	}
	names := o.ImageNames
	if len(names) == 0 {
		names = []string{img.ref}
		if !img.built {
			names = []string{featuresTag(r)}
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

// buildCompose builds the main service's image of a compose configuration, with the
// configuration's Features, as the reference's build does: the service is always built (the
// layer cache makes an unchanged build quick), the result keeps the name the reference gives
// it, --cache-from adds cache sources to the service's build, and --image-name adds names.
// As with the reference, --label does not apply to compose configurations.
func (e *Engine) buildCompose(ctx context.Context, r *resolved, o BuildOptions) (*BuildResult, error) {
	orch, err := e.orchestrator()
	if err != nil {
		return nil, err
	}
	p, err := e.loadCompose(ctx, r, "")
	if err != nil {
		return nil, err
	}
	img, _, err := e.composeImage(ctx, r, orch, p, o.FeatureOptions, true, o.NoCache, o.CacheFrom)
	if err != nil {
		return nil, err
	}
	if len(o.ImageNames) == 0 {
		return &BuildResult{Outcome: "success", ImageName: img.ref}, nil
	}
	// A Dockerfile of FROM alone gives the same image: this only tags it.
	_, err = e.be.BuildImage(ctx, providers.BuildSpec{
		DockerfileContent: []byte("FROM " + img.ref + "\n"),
		Tags:              o.ImageNames,
		Output:            e.out,
	})
	if err != nil {
		return nil, fmt.Errorf("tag image %s: %w", img.ref, err)
	}
	return &BuildResult{Outcome: "success", ImageName: o.ImageNames}, nil
}
