package compose

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// Orchestrator brings compose projects up and down on an Engine.
type Orchestrator struct {
	eng  Engine
	log  *slog.Logger
	poll time.Duration
}

// New returns an orchestrator on eng; a nil logger discards diagnostics.
func New(eng Engine, log *slog.Logger) *Orchestrator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Orchestrator{eng: eng, log: log.With("component", "compose"), poll: 250 * time.Millisecond}
}

// UpOptions configure Up.
type UpOptions struct {
	// MainService is the devcontainer's service; its container id is returned.
	MainService string
	// RunServices are the services to start besides the main one; empty (nil or [], as with
	// the reference CLI) means every service of the active profiles.
	RunServices []string
	// Main are the devcontainer's changes to the main service.
	Main MainOverrides
	// Build rebuilds the images of services with a build section even when they exist;
	// NoCache builds without the cache.
	Build   bool
	NoCache bool
	// ForceRecreate recreates every container; NoRecreate never recreates an existing one
	// (the reference passes --no-recreate when the main container existed). By default a
	// container is recreated when its config hash or image differs, as Compose does.
	ForceRecreate bool
	NoRecreate    bool
	// WaitTimeout bounds the wait for one dependency condition; 0 waits as long as ctx.
	WaitTimeout time.Duration
	// Output receives build and pull progress; nil discards it.
	Output io.Writer

	cacheFrom []string // ServiceImage's ImageOptions.CacheFrom
}

// service is one selected service ready to converge.
type service struct {
	cfg   types.ServiceConfig
	ref   string
	image *Image
}

// Up creates or reuses the project's networks, volumes and containers and starts the
// selected services in dependency order, waiting for the depends_on conditions. On error the
// containers it started are stopped again. It returns the main service's container id.
func (o *Orchestrator) Up(ctx context.Context, p *Project, opts UpOptions) (string, error) {
	order, err := p.Select(opts.MainService, opts.RunServices)
	if err != nil {
		return "", err
	}
	selected := map[string]bool{}
	for _, n := range order {
		selected[n] = true
	}
	svcs := map[string]*service{}
	for _, name := range order {
		cfg := p.model.Services[name]
		if name == opts.MainService && opts.Main.Image != "" {
			cfg.Image, cfg.Build = opts.Main.Image, nil
		}
		ref, img, err := o.ensureImage(ctx, p, cfg, opts, false)
		if err != nil {
			return "", err
		}
		svcs[name] = &service{cfg: cfg, ref: ref, image: img}
	}
	if opts.MainService != "" {
		main := svcs[opts.MainService]
		others := map[string][]uint32{}
		for _, n := range order {
			if n != opts.MainService {
				others[n] = servicePorts(svcs[n].cfg, svcs[n].image)
			}
		}
		env := discoveryEnv(others)
		for k, v := range opts.Main.Env {
			env[k] = v
		}
		overrides := opts.Main
		overrides.Env = env
		if main.cfg, err = p.applyOverrides(main.cfg, overrides); err != nil {
			return "", err
		}
	}
	if err := o.ensureResources(ctx, p, order, svcs); err != nil {
		return "", err
	}

	run := &upRun{o: o, p: p, opts: opts, ids: map[string]string{}, created: map[string]bool{}, selected: selected}
	for _, name := range order {
		if err := run.converge(ctx, svcs[name]); err != nil {
			run.rollback(ctx)
			return "", err
		}
	}
	return run.ids[opts.MainService], nil
}

// upRun is the state of one Up: the container of every service converged so far and the
// containers started by this call, to stop again on failure.
type upRun struct {
	o        *Orchestrator
	p        *Project
	opts     UpOptions
	ids      map[string]string
	created  map[string]bool // services whose container this Up created
	selected map[string]bool
	started  []string
}

// converge waits for the service's dependencies, then reuses, starts or (re)creates its
// container.
func (r *upRun) converge(ctx context.Context, s *service) error {
	name := s.cfg.Name
	for _, dep := range sortedKeys(s.cfg.DependsOn) {
		d := s.cfg.DependsOn[dep]
		if !r.selected[dep] {
			continue
		}
		if err := r.o.waitDependency(ctx, name, dep, r.ids[dep], d.Condition, r.opts.WaitTimeout); err != nil {
			if !d.Required {
				r.o.log.Warn("optional dependency not satisfied", "service", name, "dependency", dep, "err", err)
				continue
			}
			return err
		}
	}
	spec, err := r.p.containerSpec(s.cfg, s.ref, s.image.ID)
	if err != nil {
		return err
	}
	shared, err := r.shareNamespaces(&spec)
	if err != nil {
		return err
	}
	if err := r.shareVolumes(&spec); err != nil {
		return err
	}
	cur, err := r.current(ctx, name)
	if err != nil {
		return err
	}
	// A container that shares the namespaces of a container created by this Up must be
	// recreated with it: it still points at the one that was replaced.
	stale := slices.ContainsFunc(shared, func(dep string) bool { return r.created[dep] })
	if cur != nil && !r.opts.ForceRecreate && !stale &&
		(r.opts.NoRecreate || (cur.Labels[LabelConfigHash] == spec.Labels[LabelConfigHash] && cur.Labels[LabelImage] == spec.Labels[LabelImage])) {
		r.ids[name] = cur.ID
		if cur.Running() {
			r.o.log.Debug("container up to date and running", "service", name, "container", cur.Name)
			return nil
		}
		r.o.log.Debug("starting existing container", "service", name, "container", cur.Name)
		return r.start(ctx, name, cur.ID)
	}
	if cur != nil {
		r.o.log.Debug("recreating container", "service", name, "container", cur.Name)
		if err := r.o.eng.StopContainer(ctx, cur.ID, nil); err != nil {
			return fmt.Errorf("recreate service %s: %w", name, err)
		}
		if err := r.o.eng.RemoveContainer(ctx, cur.ID); err != nil {
			return fmt.Errorf("recreate service %s: %w", name, err)
		}
		spec.Labels[LabelReplace] = cur.Name
	}
	id, err := r.o.eng.CreateContainer(ctx, spec)
	if err != nil {
		return fmt.Errorf("create container for service %s: %w", name, err)
	}
	r.ids[name] = id
	r.created[name] = true
	return r.start(ctx, name, id)
}

// shareNamespaces turns network_mode, ipc and pid "service:<name>" into the container of that
// service ("container:<id>"), as Compose does, and returns the services named. compose-go
// makes each such service a dependency, so its container was converged before this one.
func (r *upRun) shareNamespaces(spec *ContainerSpec) ([]string, error) {
	var deps []string
	for _, ns := range []*string{&spec.NetworkMode, &spec.Ipc, &spec.Pid} {
		dep, ok := strings.CutPrefix(*ns, types.ServicePrefix)
		if !ok {
			continue
		}
		id := r.ids[dep]
		if id == "" {
			return nil, fmt.Errorf("service %s shares namespaces with service %s, which has no container: %w", spec.Labels[LabelService], dep, ErrDependency)
		}
		*ns = "container:" + id
		deps = append(deps, dep)
	}
	return deps, nil
}

// shareVolumes turns volumes_from entries into the engine's form: one naming a service
// ("<service>[:ro|:rw]") into the id of that service's container (as docker-compose does:
// the container is in HostConfig.VolumesFrom by id), one naming a container
// ("container:<name>[:mode]") into the name alone. compose-go makes each service named a
// dependency, converged before this one.
func (r *upRun) shareVolumes(spec *ContainerSpec) error {
	for i, v := range spec.VolumesFrom {
		if c, ok := strings.CutPrefix(v, types.ContainerPrefix); ok {
			spec.VolumesFrom[i] = c
			continue
		}
		dep, mode, _ := strings.Cut(v, ":")
		id := r.ids[dep]
		if id == "" {
			return fmt.Errorf("service %s takes volumes from service %s, which has no container: %w", spec.Labels[LabelService], dep, ErrDependency)
		}
		spec.VolumesFrom[i] = id
		if mode != "" {
			spec.VolumesFrom[i] += ":" + mode
		}
	}
	return nil
}

func (r *upRun) start(ctx context.Context, name, id string) error {
	if err := r.o.eng.StartContainer(ctx, id); err != nil {
		return fmt.Errorf("start service %s: %w", name, err)
	}
	r.started = append(r.started, id)
	return nil
}

// current returns the service's existing container (number 1, not one-off), or nil.
func (r *upRun) current(ctx context.Context, name string) (*Container, error) {
	cs, err := r.o.eng.Containers(ctx, map[string]string{LabelProject: r.p.Name, LabelService: name, LabelOneoff: "False"})
	if err != nil {
		return nil, fmt.Errorf("find container of service %s: %w", name, err)
	}
	for i := range cs {
		if cs[i].State == "removing" {
			continue
		}
		if n := cs[i].Labels[LabelContainerNumber]; n == "1" || n == "" {
			return &cs[i], nil
		}
	}
	return nil, nil
}

// rollback stops, newest first, the containers this Up started.
func (r *upRun) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	for i := len(r.started) - 1; i >= 0; i-- {
		if err := r.o.eng.StopContainer(ctx, r.started[i], nil); err != nil {
			r.o.log.Warn("stop container after failed up", "container", r.started[i], "err", err)
		}
	}
}
