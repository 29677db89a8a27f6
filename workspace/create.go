package workspace

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// keepAlive is the container command mochi runs (as the reference does): announce the start,
// exit cleanly on SIGTERM, run the features' entrypoints, then either exec the image's own
// entrypoint/command (overrideCommand false) or wait forever.
func keepAlive(entrypoints []string) string {
	var b strings.Builder
	b.WriteString("echo Container started\ntrap \"exit 0\" 15\n")
	b.WriteString(strings.Join(entrypoints, "\n"))
	b.WriteString("\n")
	b.WriteString("exec \"$@\"\nwhile sleep 1 & wait $!; do :; done")
	return b.String()
}

// createContainer prepares the image and creates and starts a new container for r.
func (e *Engine) createContainer(ctx context.Context, r *resolved, o UpOptions) (inst *providers.Instance, err error) {
	img, err := e.prepareImage(ctx, r, o.BuildNoCache, o.CacheFrom)
	if err != nil {
		return nil, err
	}
	entries := append(slices.Clone(img.entries), devcontainer.ConfigMetadataEntry(r.raw.Raw))
	if hasFeatures(r.cfg, o.FeatureOptions) {
		if img, entries, err = e.buildFeatures(ctx, r, img, o.FeatureOptions, o.BuildNoCache, []string{featuresTag(r)}); err != nil {
			return nil, err
		}
	}
	merged, err := e.merge(r, entries, nil)
	if err != nil {
		return nil, err
	}
	runImage, err := e.updateUID(ctx, r, img, merged, o.UpdateRemoteUserUIDDefault)
	if err != nil {
		return nil, err
	}
	spec, err := e.createSpec(r, o, img, runImage, merged, entries)
	if err != nil {
		return nil, err
	}
	e.log.Info("Creating container.", "image", runImage)
	inst, err = e.be.Create(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: create container: %w", r.configPath, err)
	}
	defer e.removeOnError(ctx, inst, &err)
	e.log.Debug("Container created.", "container", short(inst.ID))
	if err = e.be.Start(ctx, inst.ID); err != nil {
		return nil, fmt.Errorf("start container: %w", err)
	}
	e.log.Debug("Container started.", "container", short(inst.ID))
	return inst, nil
}

// merge substitutes metadata entries (local, id and, when known, container phases) and
// merges them.
func (e *Engine) merge(r *resolved, entries []map[string]any, containerEnv map[string]string) (*devcontainer.Merged, error) {
	sc := devcontainer.SubstContext{
		LocalWorkspaceFolder:     r.folder,
		ContainerWorkspaceFolder: r.layout.WorkspaceFolder,
		LookupEnv:                e.lookupEnv,
		DevcontainerID:           r.id,
		ContainerEnv:             containerEnv,
	}
	sub := make([]map[string]any, 0, len(entries))
	for _, en := range entries {
		s, ok := devcontainer.Substitute(en, sc).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("substitute metadata entry: not an object")
		}
		sub = append(sub, s)
	}
	m, err := devcontainer.Merge(sub)
	if err != nil {
		return nil, fmt.Errorf("merge devcontainer metadata: %w", err)
	}
	return m, nil
}

// createSpec builds the provider's create request, in the reference's `docker run` order.
func (e *Engine) createSpec(r *resolved, o UpOptions, img *preparedImage, runImage string, m *devcontainer.Merged, entries []map[string]any) (providers.CreateSpec, error) {
	labels := maps.Clone(r.idLabels)
	for k, v := range o.ExtraLabels {
		labels[k] = v
	}
	if !img.labelled {
		// Like the reference, no label when there is nothing to record.
		if l := devcontainer.EncodeMetadataLabel(entries); l != "[]" && l != "" {
			labels[labelMetadata] = l
		}
	}
	spec := providers.CreateSpec{
		Image:       runImage,
		Labels:      labels,
		User:        m.ContainerUser,
		Entrypoint:  []string{"/bin/sh"},
		Cmd:         []string{"-c", keepAlive(m.Entrypoints), "-"},
		Ports:       r.cfg.AppPort,
		Init:        m.Init,
		Privileged:  m.Privileged,
		CapAdd:      m.CapAdd,
		SecurityOpt: m.SecurityOpt,
		RunArgs:     r.cfg.RunArgs,
	}
	if e.agentPath != "" && e.home != "" {
		if err := e.addAgent(r, &spec); err != nil {
			return spec, err
		}
	}
	if m.OverrideCommand != nil && !*m.OverrideCommand {
		spec.Cmd = append(spec.Cmd, img.info.Entrypoint...)
		spec.Cmd = append(spec.Cmd, img.info.Cmd...)
	}
	for _, k := range slices.Sorted(maps.Keys(m.ContainerEnv)) {
		spec.Env = append(spec.Env, k+"="+m.ContainerEnv[k])
	}
	if r.layout.WorkspaceMount != "" {
		wm, err := devcontainer.ParseMount(r.layout.WorkspaceMount)
		if err != nil {
			return spec, fmt.Errorf("%s: workspaceMount: %w", r.configPath, err)
		}
		spec.Mounts = append(spec.Mounts, providerMount(wm))
	}
	for _, mt := range m.Mounts {
		spec.Mounts = append(spec.Mounts, providerMount(mt))
	}
	for _, s := range o.Mounts {
		mt, err := devcontainer.ParseMountFlag(s)
		if err != nil {
			return spec, fmt.Errorf("--mount %q: %w", s, err)
		}
		spec.Mounts = append(spec.Mounts, providerMount(mt))
	}
	if gpuRequired(r.cfg.HostRequirements) {
		e.log.Warn("No GPU support found yet a GPU was required - consider marking it as \"optional\"")
	}
	return spec, nil
}

func providerMount(m devcontainer.Mount) providers.Mount {
	t := m.Type
	if t == "" {
		t = "volume"
	}
	return providers.Mount{Type: t, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, External: m.External}
}
