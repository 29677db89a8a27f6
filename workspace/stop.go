package workspace

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/providers"
)

// StopOptions are the flags of `mochi stop` and `mochi down`.
type StopOptions struct {
	Locate
	// Remove removes the container after stopping it (down).
	Remove bool
	// Volumes also removes the container's anonymous volumes (down --volumes).
	Volumes bool
	Timeout time.Duration
}

// StopResult is what stop and down print.
type StopResult struct {
	Outcome     string `json:"outcome"`
	ContainerID string `json:"containerId,omitempty"`
	Removed     bool   `json:"removed,omitempty"`
	Workspace   string `json:"workspace,omitempty"`
}

// Stop stops (and with Remove, removes) the workspace's container.
func (e *Engine) Stop(ctx context.Context, o StopOptions) (*StopResult, error) {
	r, inst, err := e.locateContainer(ctx, o.Locate)
	if err != nil {
		return nil, err
	}
	if r.id != "" {
		unlock, err := e.lockWorkspace(ctx, r)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if inst.Labels[labelComposeProject] != "" {
		return e.stopComposeWorkspace(ctx, r, inst, o)
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if inst.Running() {
		e.log.Info("Stopping container.", "container", short(inst.ID))
		if err := e.be.Stop(ctx, inst.ID, timeout); err != nil {
			return nil, fmt.Errorf("stop container %s: %w", short(inst.ID), err)
		}
	}
	res := &StopResult{Outcome: "success", ContainerID: inst.ID}
	if o.Remove {
		e.log.Info("Removing container.", "container", short(inst.ID))
		if err := e.be.Remove(ctx, inst.ID, o.Volumes); err != nil {
			return nil, fmt.Errorf("remove container %s: %w", short(inst.ID), err)
		}
		res.Removed = true
		res.Workspace = e.forget(inst.ID)
	}
	return res, nil
}

// Entry is one workspace in `mochi list`.
type Entry struct {
	ContainerID string `json:"containerId"`
	Provider    string `json:"provider"`
	State       string `json:"state"`
	Folder      string `json:"localFolder"`
	ConfigFile  string `json:"configFile,omitempty"`
	Image       string `json:"image"`
	Created     string `json:"created"`
	// Project and Services describe a compose workspace's project.
	Project  string          `json:"composeProject,omitempty"`
	Services []ServiceStatus `json:"services,omitempty"`
}

// ServiceStatus is one compose service of a workspace in `mochi list`.
type ServiceStatus struct {
	Service string `json:"service"`
	State   string `json:"state"`
	Health  string `json:"health,omitempty"`
}

// List returns every dev container the provider knows (made by mochi or the reference).
func (e *Engine) List(ctx context.Context) ([]Entry, error) {
	insts, err := e.be.List(ctx, map[string]string{labelLocalFolder: ""})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Entry, 0, len(insts))
	for _, in := range insts {
		en := entryOf(in, e.be.Capabilities().Name)
		if p := in.Labels[labelComposeProject]; p != "" && e.compose != nil {
			en.Project = p
			if st, err := compose.New(e.compose, e.log).Status(ctx, p); err == nil {
				for _, s := range st {
					en.Services = append(en.Services, ServiceStatus{Service: s.Service, State: s.State, Health: s.Health})
				}
			}
		}
		out = append(out, en)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Folder < out[j].Folder })
	return out, nil
}

func entryOf(in *providers.Instance, provider string) Entry {
	return Entry{
		ContainerID: in.ID, Provider: provider, State: string(in.State),
		Folder: in.Labels[labelLocalFolder], ConfigFile: in.Labels[labelConfigFile],
		Image: in.Image, Created: in.Created,
	}
}

// stopComposeWorkspace stops (stopCompose: the whole project; none: only with down) or takes
// down a compose workspace.
func (e *Engine) stopComposeWorkspace(ctx context.Context, r *resolved, inst *providers.Instance, o StopOptions) (*StopResult, error) {
	action := ""
	if entries, err := containerEntries(r, inst); err == nil {
		if m, err := e.merge(r, entries, envMap(inst.Env)); err == nil {
			action = m.ShutdownAction
		}
	}
	if action == "stopContainer" || (action == "none" && !o.Remove) {
		// none: an explicit stop still stops the workspace's own container.
		if err := e.be.Stop(ctx, inst.ID, o.Timeout); err != nil {
			return nil, fmt.Errorf("stop container %s: %w", short(inst.ID), err)
		}
		return &StopResult{Outcome: "success", ContainerID: inst.ID}, nil
	}
	if _, err := e.stopCompose(ctx, inst, action, o.Remove, o.Volumes); err != nil {
		return nil, fmt.Errorf("compose project %s: %w", inst.Labels[labelComposeProject], err)
	}
	res := &StopResult{Outcome: "success", ContainerID: inst.ID, Removed: o.Remove}
	if o.Remove {
		res.Workspace = e.forget(inst.ID)
	}
	return res, nil
}

// forget deletes the records of a removed container and returns the workspace name.
func (e *Engine) forget(containerID string) string {
	st, err := e.store()
	if err != nil {
		return ""
	}
	name := ""
	recs, _ := st.List()
	for _, rec := range recs {
		if rec.ContainerID == containerID {
			name = rec.Name
			_ = st.Delete(rec.Name)
		}
	}
	return name
}
