package docker

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"

	"github.com/mochi-dev/mochi/providers"
)

// Create creates (does not start) a container from spec. The options are applied in the
// order the reference CLI writes its `docker run` command: ports, mounts, labels, env and
// user first, then RunArgs (which may override them), then GPUs, init, privileged,
// capabilities, security options and the entrypoint.
func (p *Provider) Create(ctx context.Context, spec providers.CreateSpec) (*providers.Instance, error) {
	if spec.Image == "" {
		return nil, fmt.Errorf("create container: no image given")
	}
	cfg, host, netCfg, name, err := p.createRequest(spec)
	if err != nil {
		return nil, fmt.Errorf("create container from %s: %w", spec.Image, err)
	}
	if err := p.checkExternalVolumes(ctx, spec.Mounts); err != nil {
		return nil, err
	}
	resp, err := p.cli.ContainerCreate(ctx, cfg, host, netCfg, nil, name)
	if err != nil {
		return nil, p.wrap(err, "create container from %s", spec.Image)
	}
	for _, w := range resp.Warnings {
		p.log.Warn("engine warning on create", "container", resp.ID, "warning", w)
	}
	return p.Inspect(ctx, resp.ID)
}

// createRequest turns spec into the engine's create request; it does not talk to the engine.
func (p *Provider) createRequest(spec providers.CreateSpec) (*container.Config, *container.HostConfig, *network.NetworkingConfig, string, error) {
	rc := newRunConfig()
	if err := rc.applySpecEarly(spec); err != nil {
		return nil, nil, nil, "", err
	}
	if err := parseRunArgs(rc, spec.RunArgs, p.log); err != nil {
		return nil, nil, nil, "", err
	}
	rc.applySpecLate(spec)
	cfg, host, netCfg, err := rc.finish()
	if err != nil {
		return nil, nil, nil, "", err
	}
	return cfg, host, netCfg, rc.name, nil
}

// checkExternalVolumes makes sure that volumes marked External exist, since creating the
// container would otherwise create them silently.
func (p *Provider) checkExternalVolumes(ctx context.Context, mounts []providers.Mount) error {
	for _, m := range mounts {
		if !m.External || m.Type != string(mount.TypeVolume) || m.Source == "" {
			continue
		}
		if _, err := p.cli.VolumeInspect(ctx, m.Source); err != nil {
			return p.wrap(err, "external volume %s", m.Source)
		}
	}
	return nil
}
