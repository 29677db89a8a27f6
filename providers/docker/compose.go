package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/mochi-dev/mochi/compose"
)

// ComposeEngine implements compose.Engine on the Docker API, so that mochi runs compose
// projects without the compose plugin. Get one from Provider.ComposeEngine.
type ComposeEngine struct {
	p *Provider
}

var _ compose.Engine = (*ComposeEngine)(nil)

// ComposeEngine returns the provider's engine for compose projects.
func (p *Provider) ComposeEngine() *ComposeEngine { return &ComposeEngine{p: p} }

// Containers lists the containers (running or not) carrying all the labels, skipping those
// being removed.
func (e *ComposeEngine) Containers(ctx context.Context, labels map[string]string) ([]compose.Container, error) {
	list, err := e.p.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.p.wrap(err, "list containers")
	}
	out := make([]compose.Container, 0, len(list))
	for _, c := range list {
		if c.State == container.StateRemoving {
			continue
		}
		ci, err := e.InspectContainer(ctx, c.ID)
		if err != nil {
			if cerrdefs.IsNotFound(err) || isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, *ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// InspectContainer returns the container's state, health and labels.
func (e *ComposeEngine) InspectContainer(ctx context.Context, id string) (*compose.Container, error) {
	r, err := e.p.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, e.p.wrap(err, "inspect container %s", id)
	}
	if r.ContainerJSONBase == nil {
		return nil, fmt.Errorf("inspect container %s: engine returned no container", id)
	}
	c := &compose.Container{ID: r.ID, Name: strings.TrimPrefix(r.Name, "/"), ImageID: r.Image}
	if r.Config != nil {
		c.Labels = r.Config.Labels
	}
	if st := r.State; st != nil {
		c.State, c.ExitCode = string(st.Status), st.ExitCode
		if h := st.Health; h != nil {
			c.Health = string(h.Status)
			if n := len(h.Log); n > 0 {
				c.HealthLog = h.Log[n-1].Output
			}
		}
	}
	if r.NetworkSettings != nil {
		for port, bs := range r.NetworkSettings.Ports {
			for _, b := range bs {
				c.Ports = append(c.Ports, fmt.Sprintf("%s:%s->%s", b.HostIP, b.HostPort, port))
			}
		}
		sort.Strings(c.Ports)
	}
	return c, nil
}

// CreateContainer creates the container and connects it to its networks: the primary one at
// creation, the others afterwards (API 1.41 takes a single endpoint at creation).
func (e *ComposeEngine) CreateContainer(ctx context.Context, spec compose.ContainerSpec) (string, error) {
	cfg, host, err := containerConfig(spec)
	if err != nil {
		return "", fmt.Errorf("create container %s: %w", spec.Name, err)
	}
	var netCfg *network.NetworkingConfig
	if len(spec.Networks) > 0 {
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			spec.Networks[0].Network: endpoint(spec.Networks[0]),
		}}
	}
	resp, err := e.p.cli.ContainerCreate(ctx, cfg, host, netCfg, nil, spec.Name)
	if err != nil {
		return "", e.p.wrap(err, "create container %s", spec.Name)
	}
	for _, w := range resp.Warnings {
		e.p.log.Warn("engine warning on create", "container", spec.Name, "warning", w)
	}
	for _, ep := range spec.Networks[min(1, len(spec.Networks)):] {
		if err := e.p.cli.NetworkConnect(ctx, ep.Network, resp.ID, endpoint(ep)); err != nil {
			_ = e.p.cli.ContainerRemove(context.WithoutCancel(ctx), resp.ID, container.RemoveOptions{Force: true})
			return "", e.p.wrap(err, "connect container %s to network %s", spec.Name, ep.Network)
		}
	}
	return resp.ID, nil
}

func endpoint(ep compose.Endpoint) *network.EndpointSettings {
	s := &network.EndpointSettings{Aliases: ep.Aliases}
	if ep.IPv4Address != "" || ep.IPv6Address != "" {
		s.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ep.IPv4Address, IPv6Address: ep.IPv6Address}
	}
	return s
}

// StartContainer starts the container; a published port already taken is reported as
// compose.ErrPortInUse.
func (e *ComposeEngine) StartContainer(ctx context.Context, id string) error {
	err := e.p.cli.ContainerStart(ctx, id, container.StartOptions{})
	if err == nil {
		return nil
	}
	msg := err.Error()
	if strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use") {
		return fmt.Errorf("start container %s: %w: %s", id, compose.ErrPortInUse, strings.TrimPrefix(msg, "Error response from daemon: "))
	}
	return e.p.wrap(err, "start container %s", id)
}

// StopContainer stops the container; nil timeout uses its own stop timeout.
func (e *ComposeEngine) StopContainer(ctx context.Context, id string, timeout *time.Duration) error {
	opts := container.StopOptions{}
	if timeout != nil {
		secs := int((*timeout + time.Second - 1) / time.Second)
		opts.Timeout = &secs
	}
	if err := e.p.cli.ContainerStop(ctx, id, opts); err != nil {
		return e.p.wrap(err, "stop container %s", id)
	}
	return nil
}

// RemoveContainer force-removes the container with its anonymous volumes.
func (e *ComposeEngine) RemoveContainer(ctx context.Context, id string) error {
	err := e.p.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err == nil || cerrdefs.IsNotFound(err) || (cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress")) {
		return nil
	}
	return e.p.wrap(err, "remove container %s", id)
}

// Logs returns the container's last lines of output.
func (e *ComposeEngine) Logs(ctx context.Context, id string, lines int) (string, error) {
	r, err := e.p.cli.ContainerInspect(ctx, id)
	if err != nil {
		return "", e.p.wrap(err, "inspect container %s", id)
	}
	rc, err := e.p.cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(lines)})
	if err != nil {
		return "", e.p.wrap(err, "logs of container %s", id)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if r.Config != nil && r.Config.Tty {
		_, err = io.Copy(&buf, io.LimitReader(rc, 256<<10))
	} else {
		_, err = stdcopy.StdCopy(&buf, &buf, io.LimitReader(rc, 256<<10))
	}
	if err != nil {
		return buf.String(), e.p.wrap(err, "logs of container %s", id)
	}
	return buf.String(), nil
}

func labelFilters(labels map[string]string) filters.Args {
	args := filters.NewArgs()
	for k, v := range labels {
		args.Add("label", k+"="+v)
	}
	return args
}
