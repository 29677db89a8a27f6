package workspace

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// Compose labels on the main container, as docker compose writes them.
const (
	labelComposeProject = "com.docker.compose.project"
	labelComposeService = "com.docker.compose.service"
)

// orchestrator returns the compose orchestrator, or an error if the provider has none.
func (e *Engine) orchestrator() (*compose.Orchestrator, error) {
	if e.compose == nil {
		return nil, fmt.Errorf("provider %s cannot run compose configurations: %w", e.be.Capabilities().Name, providers.ErrUnsupported)
	}
	return compose.New(e.compose, e.log), nil
}

// loadCompose reads the config's compose files with the host environment.
func (e *Engine) loadCompose(ctx context.Context, r *resolved, workspaceName string) (*compose.Project, error) {
	var files []string
	for _, f := range r.cfg.DockerComposeFile {
		if !filepath.IsAbs(f) {
			f = filepath.Join(r.cfg.ConfigDir(), f)
		}
		files = append(files, f)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	opts := compose.LoadOptions{Files: files, WorkspaceFolder: r.folder, Env: env}
	if workspaceName != "" {
		// A named workspace (one of several worktrees of a repository) gets a project of its
		// own even when the compose file or .env fixes the project name.
		opts.Name = workspaceName + "_devcontainer"
	}
	p, err := compose.Load(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: dockerComposeFile: %w", r.configPath, err)
	}
	if r.cfg.Service == "" {
		return nil, fmt.Errorf("%s: a compose configuration needs \"service\"", r.configPath)
	}
	if _, err := p.Service(r.cfg.Service); err != nil {
		// err names the service, the compose files and the services they have.
		return nil, fmt.Errorf("%s: %w", r.configPath, err)
	}
	if err := e.checkConfigPorts(r, p.ServiceNames()); err != nil {
		return nil, err
	}
	return p, nil
}

// upCompose brings up the compose project of a compose configuration and returns its main
// container; an existing main container is reused (its project started if it is stopped).
func (e *Engine) upCompose(ctx context.Context, r *resolved, o UpOptions) (*providers.Instance, string, bool, error) {
	orch, err := e.orchestrator()
	if err != nil {
		return nil, "", false, err
	}
	p, err := e.loadCompose(ctx, r, o.Name)
	if err != nil {
		return nil, "", false, err
	}
	existing, err := e.findContainer(ctx, r)
	if err != nil {
		return nil, "", false, err
	}
	if existing != nil && o.RemoveExisting {
		if err := e.be.Remove(ctx, existing.ID, false); err != nil {
			return nil, "", false, fmt.Errorf("remove existing container %s: %w", short(existing.ID), err)
		}
		existing = nil
	}
	if existing == nil && o.ExpectExisting {
		return nil, "", false, ErrNoContainer
	}
	if existing != nil {
		if !existing.Running() {
			// Start the project again, keeping the main container as it is.
			opts := compose.UpOptions{MainService: r.cfg.Service, RunServices: r.cfg.RunServices, NoRecreate: true, Output: e.out}
			if _, err := orch.Up(ctx, p, opts); err != nil {
				return nil, "", false, fmt.Errorf("start compose project %s: %w", p.Name, err)
			}
		}
		return existing, p.Name, false, nil
	}

	img, entries, err := e.composeImage(ctx, r, orch, p, o.FeatureOptions, o.BuildNoCache, o.BuildNoCache, nil)
	if err != nil {
		return nil, "", false, err
	}
	m, err := e.merge(r, entries, nil)
	if err != nil {
		return nil, "", false, err
	}
	svc, _ := p.Service(r.cfg.Service)
	runImage, err := e.composeUpdateUID(ctx, r, img, m, svc.User, o.UpdateRemoteUserUIDDefault)
	if err != nil {
		return nil, "", false, err
	}
	main := compose.MainOverrides{
		Labels: maps.Clone(r.idLabels), Env: m.ContainerEnv, User: m.ContainerUser,
		Init: m.Init, Privileged: m.Privileged, CapAdd: m.CapAdd, SecurityOpt: m.SecurityOpt,
	}
	if img.built || runImage != img.ref {
		main.Image = runImage
	}
	if !img.labelled {
		main.Labels[labelMetadata] = devcontainer.EncodeMetadataLabel(entries)
	}
	// The keep-alive script runs first; unless overrideCommand is true (false by default for
	// compose), the service's (or image's) entrypoint and command follow.
	main.Entrypoint = []string{"/bin/sh", "-c", keepAlive(m.Entrypoints), "-"}
	main.Cmd = []string{}
	if m.OverrideCommand == nil || !*m.OverrideCommand {
		ep := []string(svc.Entrypoint)
		if ep == nil {
			ep = img.info.Entrypoint
		}
		main.Entrypoint = append(main.Entrypoint, ep...)
		main.Cmd = []string(svc.Command)
		if main.Cmd == nil && svc.Entrypoint == nil {
			main.Cmd = img.info.Cmd
		}
	}
	for _, mt := range m.Mounts {
		main.Mounts = append(main.Mounts, compose.Mount{Type: orDefault(mt.Type, "volume"), Source: mt.Source, Target: mt.Target, ReadOnly: mt.ReadOnly, External: mt.External})
	}
	for _, s := range o.Mounts {
		mt, err := devcontainer.ParseMountFlag(s)
		if err != nil {
			return nil, "", false, fmt.Errorf("--mount %q: %w", s, err)
		}
		main.Mounts = append(main.Mounts, compose.Mount{Type: mt.Type, Source: mt.Source, Target: mt.Target, External: mt.External})
	}
	if e.agentPath != "" && e.home != "" {
		spec := providers.CreateSpec{Labels: main.Labels, Cmd: []string{"-c", main.Entrypoint[2]}}
		if err := e.addAgent(r, &spec); err != nil {
			return nil, "", false, err
		}
		main.Entrypoint[2] = spec.Cmd[1]
		for _, mt := range spec.Mounts {
			main.Mounts = append(main.Mounts, compose.Mount{Type: mt.Type, Source: mt.Source, Target: mt.Target})
		}
		main.Mounts = append(main.Mounts, compose.Mount{Type: "bind", Source: spec.AgentPath, Target: providers.AgentTarget, ReadOnly: true})
	}
	e.log.Info("Starting compose project.", "project", p.Name, "service", r.cfg.Service)
	id, err := orch.Up(ctx, p, compose.UpOptions{
		MainService: r.cfg.Service, RunServices: r.cfg.RunServices, Main: main,
		NoCache: o.BuildNoCache, Output: e.out,
	})
	if err != nil {
		return nil, "", false, fmt.Errorf("compose project %s: %w", p.Name, err)
	}
	inst, err := e.be.Inspect(ctx, id)
	if err != nil {
		return nil, "", false, fmt.Errorf("inspect container %s: %w", short(id), err)
	}
	return inst, p.Name, true, nil
}

// composeImage makes the main service's image available, with the configuration's Features
// built on it, and returns it with its metadata entries (the configuration's last). The image
// with Features is named as the reference names it: vsc-<folder>-<hash> for a service with
// an image, the service's own image name (and its build tags) for one with a build section.
func (e *Engine) composeImage(ctx context.Context, r *resolved, orch *compose.Orchestrator, p *compose.Project, fo FeatureOptions, rebuild, noCache bool, cacheFrom []string) (*preparedImage, []map[string]any, error) {
	feats := hasFeatures(r.cfg, fo)
	ref, _, err := orch.ServiceImage(ctx, p, r.cfg.Service, compose.ImageOptions{Rebuild: rebuild, NoCache: noCache, Base: feats, CacheFrom: cacheFrom, Output: e.out})
	if err != nil {
		return nil, nil, fmt.Errorf("image of service %s: %w", r.cfg.Service, err)
	}
	info, err := e.be.InspectImage(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	base, err := metadataEntries(info.Labels)
	if err != nil {
		return nil, nil, err
	}
	img := &preparedImage{ref: ref, info: info, entries: base}
	entries := append(slices.Clone(base), devcontainer.ConfigMetadataEntry(r.raw.Raw))
	if !feats {
		return img, entries, nil
	}
	svc, err := p.Service(r.cfg.Service)
	if err != nil {
		return nil, nil, err
	}
	tags := []string{devcontainer.ImageName(r.folder)}
	if svc.Build != nil {
		tags = append([]string{p.ImageName(r.cfg.Service)}, svc.Build.Tags...)
	}
	return e.buildFeatures(ctx, r, img, fo, noCache, tags)
}

// composeUpdateUID gives the remote user of the main service the host user's UID/GID, as the
// reference does for compose configurations too (the `-uid` image), and returns the image the
// main service runs. The user the container runs as (containerUser, else the service's user)
// takes the place that runArgs' -u has for other configurations.
func (e *Engine) composeUpdateUID(ctx context.Context, r *resolved, img *preparedImage, m *devcontainer.Merged, serviceUser, mode string) (string, error) {
	base := *img
	if u := orDefault(m.ContainerUser, serviceUser); u != "" && img.info != nil {
		info := *img.info
		info.User = u
		base.info = &info
	}
	return e.updateUID(ctx, r, &base, m, mode)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// stopCompose applies shutdownAction to the project of a compose workspace's container:
// stopCompose (the default) stops every service, none leaves the project running. With remove
// the project is taken down (containers and networks; volumes with volumes).
func (e *Engine) stopCompose(ctx context.Context, inst *providers.Instance, action string, remove, volumes bool) (bool, error) {
	project := inst.Labels[labelComposeProject]
	if project == "" {
		return false, nil
	}
	orch, err := e.orchestrator()
	if err != nil {
		return true, err
	}
	if remove {
		return true, orch.Down(ctx, project, volumes)
	}
	if action == "" {
		action = "stopCompose"
	}
	if err := orch.Shutdown(ctx, project, action); err != nil && !errors.Is(err, compose.ErrUnsupported) {
		return true, err
	}
	return true, nil
}
