package docker

import (
	"context"
	"fmt"
	"io"
	"sort"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	dockervolume "github.com/docker/docker/api/types/volume"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/providers"
)

// EnsureNetwork creates the network unless one of that name exists (as Compose, it reuses
// a network it did not create, with a warning); an external network must exist.
func (e *ComposeEngine) EnsureNetwork(ctx context.Context, spec compose.NetworkSpec) error {
	list, err := e.p.cli.NetworkList(ctx, network.ListOptions{Filters: nameFilter(spec.Name)})
	if err != nil {
		return e.p.wrap(err, "list networks")
	}
	for _, n := range list {
		if n.Name == spec.Name {
			if !spec.External && n.Labels[compose.LabelProject] != spec.Labels[compose.LabelProject] {
				e.p.log.Warn("network exists but was not created for this project", "network", spec.Name)
			}
			return nil
		}
	}
	if spec.External {
		return fmt.Errorf("network %s is declared as external but does not exist: %w", spec.Name, providers.ErrNotFound)
	}
	opts := network.CreateOptions{
		Driver:     spec.Driver,
		Options:    spec.DriverOpts,
		Internal:   spec.Internal,
		Attachable: spec.Attachable,
		EnableIPv6: spec.EnableIPv6,
		Labels:     spec.Labels,
	}
	if spec.IPAMDriver != "" || len(spec.Subnets) > 0 {
		opts.IPAM = &network.IPAM{Driver: spec.IPAMDriver}
		for _, s := range spec.Subnets {
			opts.IPAM.Config = append(opts.IPAM.Config, network.IPAMConfig{Subnet: s.Subnet, Gateway: s.Gateway, IPRange: s.IPRange})
		}
	}
	if _, err := e.p.cli.NetworkCreate(ctx, spec.Name, opts); err != nil && !cerrdefs.IsConflict(err) {
		return e.p.wrap(err, "create network %s", spec.Name)
	}
	return nil
}

// EnsureVolume creates the volume unless it exists; an external volume must exist.
func (e *ComposeEngine) EnsureVolume(ctx context.Context, spec compose.VolumeSpec) error {
	v, err := e.p.cli.VolumeInspect(ctx, spec.Name)
	if err == nil {
		if !spec.External && v.Labels[compose.LabelProject] != spec.Labels[compose.LabelProject] {
			e.p.log.Warn("volume exists but was not created for this project", "volume", spec.Name)
		}
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return e.p.wrap(err, "inspect volume %s", spec.Name)
	}
	if spec.External {
		return fmt.Errorf("volume %s is declared as external but does not exist: %w", spec.Name, providers.ErrNotFound)
	}
	_, err = e.p.cli.VolumeCreate(ctx, dockervolume.CreateOptions{Name: spec.Name, Driver: spec.Driver, DriverOpts: spec.DriverOpts, Labels: spec.Labels})
	if err != nil {
		return e.p.wrap(err, "create volume %s", spec.Name)
	}
	return nil
}

// Networks lists the names of the networks carrying all the labels.
func (e *ComposeEngine) Networks(ctx context.Context, labels map[string]string) ([]string, error) {
	list, err := e.p.cli.NetworkList(ctx, network.ListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.p.wrap(err, "list networks")
	}
	var out []string
	for _, n := range list {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out, nil
}

// Volumes lists the names of the volumes carrying all the labels.
func (e *ComposeEngine) Volumes(ctx context.Context, labels map[string]string) ([]string, error) {
	resp, err := e.p.cli.VolumeList(ctx, dockervolume.ListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.p.wrap(err, "list volumes")
	}
	var out []string
	for _, v := range resp.Volumes {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out, nil
}

// RemoveNetwork removes the network; a missing one is not an error.
func (e *ComposeEngine) RemoveNetwork(ctx context.Context, name string) error {
	if err := e.p.cli.NetworkRemove(ctx, name); err != nil && !cerrdefs.IsNotFound(err) {
		return e.p.wrap(err, "remove network %s", name)
	}
	return nil
}

// RemoveVolume removes the volume; a missing one is not an error.
func (e *ComposeEngine) RemoveVolume(ctx context.Context, name string) error {
	if err := e.p.cli.VolumeRemove(ctx, name, false); err != nil && !cerrdefs.IsNotFound(err) {
		return e.p.wrap(err, "remove volume %s", name)
	}
	return nil
}

// InspectImage returns the local image, or nil when it is not present.
func (e *ComposeEngine) InspectImage(ctx context.Context, ref string) (*compose.Image, error) {
	r, err := e.p.cli.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, e.p.wrap(err, "inspect image %s", ref)
	}
	img := &compose.Image{ID: r.ID}
	if r.Config != nil {
		for p := range r.Config.ExposedPorts {
			img.ExposedPorts = append(img.ExposedPorts, p)
		}
		sort.Strings(img.ExposedPorts)
	}
	return img, nil
}

// PullImage pulls ref through the engine.
func (e *ComposeEngine) PullImage(ctx context.Context, ref string, out io.Writer) error {
	return e.p.PullImage(ctx, ref, out)
}

// BuildImage builds a service image with the provider's classic builder.
func (e *ComposeEngine) BuildImage(ctx context.Context, spec compose.BuildSpec) (string, error) {
	bs := providers.BuildSpec{
		ContextDir: spec.Context,
		Dockerfile: spec.Dockerfile,
		Tags:       spec.Tags,
		Args:       spec.Args,
		Target:     spec.Target,
		NoCache:    spec.NoCache,
		Pull:       spec.Pull,
		CacheFrom:  spec.CacheFrom,
		Labels:     spec.Labels,
		Output:     spec.Output,
	}
	if spec.DockerfileInline != "" {
		bs.DockerfileContent = []byte(spec.DockerfileInline)
	}
	for _, h := range spec.ExtraHosts {
		bs.Options = append(bs.Options, "--add-host", h)
	}
	if spec.Network != "" {
		bs.Options = append(bs.Options, "--network", spec.Network)
	}
	if spec.ShmSize > 0 {
		bs.Options = append(bs.Options, "--shm-size", fmt.Sprint(spec.ShmSize))
	}
	info, err := e.p.BuildImage(ctx, bs)
	if err != nil {
		return "", err
	}
	return info.ID, nil
}

func nameFilter(name string) filters.Args {
	return filters.NewArgs(filters.Arg("name", name))
}
