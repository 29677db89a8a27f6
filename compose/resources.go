package compose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
)

// ensureImage makes the service's image available: built from its build section (tagged
// <project>-<service> unless it names an image) when missing or when opts.Build asks, else
// found locally or pulled. With untagged, a build is left untagged and named by its id.
func (o *Orchestrator) ensureImage(ctx context.Context, p *Project, s types.ServiceConfig, opts UpOptions, untagged bool) (string, *Image, error) {
	ref := s.Image
	if ref == "" {
		ref = DefaultImageName(p.Name, s.Name)
	}
	var img *Image
	if s.Build == nil || !opts.Build {
		var err error
		if img, err = o.eng.InspectImage(ctx, ref); err != nil {
			return "", nil, fmt.Errorf("service %s: inspect image %s: %w", s.Name, ref, err)
		}
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	if s.Build != nil && (img == nil || opts.Build) {
		b := s.Build
		spec := BuildSpec{
			Context:          b.Context,
			Dockerfile:       b.Dockerfile,
			DockerfileInline: b.DockerfileInline,
			Args:             map[string]string{},
			Target:           b.Target,
			Tags:             append([]string{ref}, b.Tags...),
			Labels:           b.Labels,
			NoCache:          opts.NoCache || b.NoCache,
			Pull:             b.Pull,
			CacheFrom:        append(slices.Clone(b.CacheFrom), opts.cacheFrom...),
			ExtraHosts:       b.ExtraHosts.AsList(":"),
			Network:          b.Network,
			ShmSize:          int64(b.ShmSize),
			Output:           out,
		}
		for k, v := range b.Args {
			if v != nil {
				spec.Args[k] = *v
			}
		}
		if untagged {
			spec.Tags = nil
		}
		o.log.Info("building image", "service", s.Name, "image", ref, "untagged", untagged)
		id, err := o.eng.BuildImage(ctx, spec)
		if err != nil {
			return "", nil, fmt.Errorf("build image %s for service %s: %w", ref, s.Name, err)
		}
		if untagged {
			ref = id
		}
		if img, err = o.eng.InspectImage(ctx, ref); err != nil || img == nil {
			return "", nil, fmt.Errorf("service %s: inspect built image %s: %w", s.Name, ref, errors.Join(err, ErrImageNotFound))
		}
		return ref, img, nil
	}
	if img != nil {
		return ref, img, nil
	}
	if s.PullPolicy == types.PullPolicyNever {
		return "", nil, fmt.Errorf("service %s: image %s is not present and pull_policy is never: %w", s.Name, ref, ErrImageNotFound)
	}
	o.log.Info("pulling image", "service", s.Name, "image", ref)
	if err := o.eng.PullImage(ctx, ref, out); err != nil {
		return "", nil, fmt.Errorf("service %s: image %s is not present and could not be pulled: %w", s.Name, ref, errors.Join(ErrImageNotFound, err))
	}
	img, err := o.eng.InspectImage(ctx, ref)
	if err != nil || img == nil {
		return "", nil, fmt.Errorf("service %s: inspect pulled image %s: %w", s.Name, ref, errors.Join(err, ErrImageNotFound))
	}
	return ref, img, nil
}

// ensureResources creates the networks and named volumes the selected services use, with
// the names and labels Compose v2 gives them.
func (o *Orchestrator) ensureResources(ctx context.Context, p *Project, order []string, svcs map[string]*service) error {
	var networks, volumes []string
	for _, name := range order {
		s := svcs[name].cfg
		if s.NetworkMode == "" {
			for key := range s.Networks {
				if !slices.Contains(networks, key) {
					networks = append(networks, key)
				}
			}
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" && !slices.Contains(volumes, v.Source) {
				volumes = append(volumes, v.Source)
			}
		}
	}
	slices.Sort(networks)
	slices.Sort(volumes)
	for _, key := range networks {
		n, ok := p.model.Networks[key]
		if !ok {
			return fmt.Errorf("network %q is used but not declared", key)
		}
		if err := o.eng.EnsureNetwork(ctx, p.networkSpec(key, n)); err != nil {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
	}
	for _, key := range volumes {
		v, ok := p.model.Volumes[key]
		if !ok {
			return fmt.Errorf("volume %q is used but not declared", key)
		}
		if err := o.eng.EnsureVolume(ctx, p.volumeSpec(key, v)); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
	}
	return nil
}

func (p *Project) networkSpec(key string, n types.NetworkConfig) NetworkSpec {
	spec := NetworkSpec{
		Name:       n.Name,
		Driver:     n.Driver,
		DriverOpts: n.DriverOpts,
		Internal:   n.Internal,
		Attachable: n.Attachable,
		EnableIPv6: n.EnableIPv6,
		IPAMDriver: n.Ipam.Driver,
		External:   bool(n.External),
	}
	for _, pool := range n.Ipam.Config {
		spec.Subnets = append(spec.Subnets, IPAMPool{Subnet: pool.Subnet, Gateway: pool.Gateway, IPRange: pool.IPRange})
	}
	if spec.External {
		return spec
	}
	spec.Labels = map[string]string{}
	for k, v := range n.Labels {
		spec.Labels[k] = v
	}
	spec.Labels[LabelNetwork] = key
	spec.Labels[LabelProject] = p.Name
	spec.Labels[LabelVersion] = ComposeVersion
	if data, err := json.Marshal(n); err == nil {
		spec.Labels[LabelConfigHash] = sha256Hex(data)
	}
	return spec
}

func (p *Project) volumeSpec(key string, v types.VolumeConfig) VolumeSpec {
	spec := VolumeSpec{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, External: bool(v.External)}
	if spec.External {
		return spec
	}
	spec.Labels = map[string]string{}
	for k, val := range v.Labels {
		spec.Labels[k] = val
	}
	spec.Labels[LabelVolume] = key
	spec.Labels[LabelProject] = p.Name
	spec.Labels[LabelVersion] = ComposeVersion
	if v.Driver == "" {
		v.Driver = "local"
	}
	if data, err := json.Marshal(v); err == nil {
		spec.Labels[LabelConfigHash] = sha256Hex(data)
	}
	return spec
}
