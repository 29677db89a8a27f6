package compose

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Shutdown actions of devcontainer.json's shutdownAction for compose configurations.
const (
	ShutdownStopCompose = "stopCompose"
	ShutdownNone        = "none"
)

// ServiceStatus is the state of one service container of a project.
type ServiceStatus struct {
	Service     string
	ContainerID string
	Name        string
	State       string
	// Health is "", "starting", "healthy" or "unhealthy".
	Health   string
	ExitCode int
	Ports    []string
}

// Status lists the containers of the project (as `docker compose ps -a`), sorted by service.
func (o *Orchestrator) Status(ctx context.Context, project string) ([]ServiceStatus, error) {
	cs, err := o.eng.Containers(ctx, map[string]string{LabelProject: project, LabelOneoff: "False"})
	if err != nil {
		return nil, fmt.Errorf("list containers of project %s: %w", project, err)
	}
	out := make([]ServiceStatus, 0, len(cs))
	for _, c := range cs {
		out = append(out, ServiceStatus{
			Service: c.Labels[LabelService], ContainerID: c.ID, Name: c.Name,
			State: c.State, Health: c.Health, ExitCode: c.ExitCode, Ports: c.Ports,
		})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Shutdown applies a devcontainer shutdownAction: stopCompose (the default, also for "")
// stops the project, none leaves it running.
func (o *Orchestrator) Shutdown(ctx context.Context, project, action string) error {
	switch action {
	case ShutdownNone:
		return nil
	case ShutdownStopCompose, "":
		return o.Stop(ctx, project, nil)
	}
	return fmt.Errorf("shutdownAction %q: want %q or %q", action, ShutdownNone, ShutdownStopCompose)
}

// Stop stops every container of the project, dependants before their dependencies (read
// from the depends_on labels, so the compose files are not needed). A nil timeout uses each
// container's stop timeout.
func (o *Orchestrator) Stop(ctx context.Context, project string, timeout *time.Duration) error {
	cs, err := o.eng.Containers(ctx, map[string]string{LabelProject: project})
	if err != nil {
		return fmt.Errorf("stop project %s: %w", project, err)
	}
	var errs []error
	for _, c := range stopOrder(cs) {
		if !c.Running() && c.State != "restarting" && c.State != "paused" {
			continue
		}
		if err := o.eng.StopContainer(ctx, c.ID, timeout); err != nil {
			errs = append(errs, fmt.Errorf("stop %s: %w", c.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop project %s: %w", project, err)
	}
	return nil
}

// Down stops and removes the project's containers and networks and, with volumes, its
// named volumes (never external ones: those carry no project label).
func (o *Orchestrator) Down(ctx context.Context, project string, volumes bool) error {
	if err := o.Stop(ctx, project, nil); err != nil {
		return err
	}
	labels := map[string]string{LabelProject: project}
	cs, err := o.eng.Containers(ctx, labels)
	if err != nil {
		return fmt.Errorf("down project %s: %w", project, err)
	}
	var errs []error
	for _, c := range cs {
		if err := o.eng.RemoveContainer(ctx, c.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.Name, err))
		}
	}
	nets, err := o.eng.Networks(ctx, labels)
	errs = append(errs, err)
	for _, n := range nets {
		if err := o.eng.RemoveNetwork(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n, err))
		}
	}
	if volumes {
		vols, err := o.eng.Volumes(ctx, labels)
		errs = append(errs, err)
		for _, v := range vols {
			if err := o.eng.RemoveVolume(ctx, v); err != nil {
				errs = append(errs, fmt.Errorf("remove volume %s: %w", v, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("down project %s: %w", project, err)
	}
	return nil
}

// stopOrder sorts containers so that a container comes before the services it depends on.
func stopOrder(cs []Container) []Container {
	bySvc := map[string][]Container{}
	deps := map[string][]string{}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		bySvc[svc] = append(bySvc[svc], c)
		for _, d := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if name, _, _ := strings.Cut(d, ":"); name != "" {
				deps[svc] = append(deps[svc], name)
			}
		}
	}
	var out []Container
	done := map[string]bool{}
	var visit func(svc string, depth int)
	// Depth-first: a service is emitted after everything that depends on it.
	dependants := map[string][]string{}
	for svc, ds := range deps {
		for _, d := range ds {
			dependants[d] = append(dependants[d], svc)
		}
	}
	visit = func(svc string, depth int) {
		if done[svc] || depth > len(bySvc)+1 {
			return
		}
		done[svc] = true
		ds := dependants[svc]
		sort.Strings(ds)
		for _, d := range ds {
			visit(d, depth+1)
		}
		out = append(out, bySvc[svc]...)
	}
	for _, svc := range sortedKeys(bySvc) {
		visit(svc, 0)
	}
	return out
}
