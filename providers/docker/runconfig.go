package docker

import (
	"fmt"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/mochi-dev/mochi/providers"
)

// runConfig accumulates a container's create request in the order options are given, so that
// a later option overrides an earlier one as it does on the `docker run` command line.
type runConfig struct {
	name     string
	cfg      container.Config
	host     container.HostConfig
	networks []string
	aliases  []string
	// vols are mounts, binds and anonymous volumes in order; the last one per target wins.
	vols []volume
}

// volume is one filesystem attachment, in one of the three forms the API accepts.
type volume struct {
	target string
	mount  *mount.Mount // --mount and CreateSpec mounts
	bind   string       // -v host:ctr[:opts] or name:ctr[:opts], sent as HostConfig.Binds
	anon   bool         // -v /ctr: an anonymous volume, sent as Config.Volumes
}

func newRunConfig() *runConfig {
	return &runConfig{
		cfg: container.Config{
			Labels:       map[string]string{},
			ExposedPorts: nat.PortSet{},
		},
		host: container.HostConfig{PortBindings: nat.PortMap{}},
	}
}

// addPort publishes a port given in `docker run -p` syntax.
func (rc *runConfig) addPort(spec string) error {
	maps, err := nat.ParsePortSpec(spec)
	if err != nil {
		return fmt.Errorf("publish %q: %w", spec, err)
	}
	for _, m := range maps {
		rc.cfg.ExposedPorts[m.Port] = struct{}{}
		rc.host.PortBindings[m.Port] = append(rc.host.PortBindings[m.Port], m.Binding)
	}
	return nil
}

// addExpose exposes a port or range without publishing it.
func (rc *runConfig) addExpose(spec string) error {
	proto, ports := nat.SplitProtoPort(spec)
	start, end, err := nat.ParsePortRange(ports)
	if err != nil {
		return fmt.Errorf("expose %q: %w", spec, err)
	}
	for i := start; i <= end; i++ {
		p, err := nat.NewPort(proto, fmt.Sprint(i))
		if err != nil {
			return fmt.Errorf("expose %q: %w", spec, err)
		}
		rc.cfg.ExposedPorts[p] = struct{}{}
	}
	return nil
}

func (rc *runConfig) addMount(m mount.Mount) {
	rc.vols = append(rc.vols, volume{target: path.Clean(m.Target), mount: &m})
}

// addEnv adds KEY=VALUE (or KEY alone, meaning unset-but-declared) to the environment.
func (rc *runConfig) addEnv(kv string) {
	rc.cfg.Env = append(rc.cfg.Env, kv)
}

// applySpecEarly applies the CreateSpec options that the reference CLI places before runArgs.
func (rc *runConfig) applySpecEarly(spec providers.CreateSpec) error {
	rc.name = spec.Name
	for _, p := range spec.Ports {
		if err := rc.addPort(p); err != nil {
			return err
		}
	}
	for _, m := range spec.Mounts {
		mm, err := toAPIMount(m)
		if err != nil {
			return err
		}
		rc.addMount(mm)
	}
	if spec.AgentPath != "" {
		rc.addMount(mount.Mount{Type: mount.TypeBind, Source: spec.AgentPath, Target: providers.AgentTarget, ReadOnly: true})
	}
	for k, v := range spec.Labels {
		rc.cfg.Labels[k] = v
	}
	for _, e := range spec.Env {
		rc.addEnv(e)
	}
	if spec.User != "" {
		rc.cfg.User = spec.User
	}
	return nil
}

// applySpecLate applies the CreateSpec options that the reference CLI places after runArgs.
func (rc *runConfig) applySpecLate(spec providers.CreateSpec) {
	if spec.GPUs {
		rc.host.DeviceRequests = append(rc.host.DeviceRequests, container.DeviceRequest{Count: -1, Capabilities: [][]string{{"gpu"}}})
	}
	if spec.Init {
		t := true
		rc.host.Init = &t
	}
	if spec.Privileged {
		rc.host.Privileged = true
	}
	rc.host.CapAdd = append(rc.host.CapAdd, spec.CapAdd...)
	rc.host.SecurityOpt = append(rc.host.SecurityOpt, spec.SecurityOpt...)
	if spec.Entrypoint != nil {
		rc.cfg.Entrypoint = spec.Entrypoint
	}
	if spec.Cmd != nil {
		rc.cfg.Cmd = spec.Cmd
	}
	rc.cfg.Image = spec.Image
}

func toAPIMount(m providers.Mount) (mount.Mount, error) {
	if !path.IsAbs(m.Target) {
		return mount.Mount{}, fmt.Errorf("mount target %q: not an absolute path", m.Target)
	}
	mm := mount.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	switch m.Type {
	case "bind":
		mm.Type = mount.TypeBind
	case "volume", "":
		mm.Type = mount.TypeVolume
	case "tmpfs":
		mm.Type = mount.TypeTmpfs
		mm.Source = ""
	default:
		return mount.Mount{}, fmt.Errorf("mount %s: %w: type %q", m.Target, providers.ErrUnsupported, m.Type)
	}
	return mm, nil
}

// finish resolves overrides (environment by key, mounts by target) and returns the request.
func (rc *runConfig) finish() (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	rc.cfg.Env = dedupeEnv(rc.cfg.Env)
	last := map[string]int{}
	for i, v := range rc.vols {
		last[v.target] = i
	}
	rc.host.Mounts, rc.host.Binds, rc.cfg.Volumes = nil, nil, nil
	for i, v := range rc.vols {
		if last[v.target] != i {
			continue
		}
		switch {
		case v.mount != nil:
			rc.host.Mounts = append(rc.host.Mounts, *v.mount)
		case v.anon:
			if rc.cfg.Volumes == nil {
				rc.cfg.Volumes = map[string]struct{}{}
			}
			rc.cfg.Volumes[v.target] = struct{}{}
		default:
			rc.host.Binds = append(rc.host.Binds, v.bind)
		}
	}
	var netCfg *network.NetworkingConfig
	if len(rc.networks) > 1 {
		return nil, nil, nil, fmt.Errorf("runArgs: %w: more than one --network (%s)", providers.ErrUnsupported, strings.Join(rc.networks, ", "))
	}
	if len(rc.networks) == 1 {
		rc.host.NetworkMode = container.NetworkMode(rc.networks[0])
	}
	if len(rc.aliases) > 0 {
		mode := rc.host.NetworkMode
		if mode == "" || !mode.IsUserDefined() {
			return nil, nil, nil, fmt.Errorf("runArgs: --network-alias needs a user-defined --network")
		}
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			string(mode): {Aliases: rc.aliases},
		}}
	}
	return &rc.cfg, &rc.host, netCfg, nil
}

// dedupeEnv keeps one entry per variable name: the last one given, at its first position.
func dedupeEnv(env []string) []string {
	if len(env) == 0 {
		return env
	}
	idx := map[string]int{}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}
