package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

// ServiceHash is the configuration hash Compose v2 stores in com.docker.compose.config-hash:
// the SHA-256 of the service's JSON without build, pull policy, scale, replicas,
// depends_on and profiles. Compose recreates a container whose label differs.
func ServiceHash(s types.ServiceConfig) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	data, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("hash service %s: %w", s.Name, err)
	}
	return sha256Hex(data), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// serviceLabels are the labels Compose v2 puts on every container of the project.
func (p *Project) serviceLabels(service string) map[string]string {
	l := map[string]string{
		LabelProject:     p.Name,
		LabelService:     service,
		LabelVersion:     ComposeVersion,
		LabelWorkingDir:  p.WorkingDir,
		LabelConfigFiles: strings.Join(p.ConfigFiles, ","),
		LabelOneoff:      "False",
	}
	if len(p.EnvFiles) > 0 {
		l[LabelEnvironmentFile] = strings.Join(p.EnvFiles, ",")
	}
	return l
}

// containerSpec turns a service (already carrying mochi's changes) into the container
// Compose v2 would create for it.
func (p *Project) containerSpec(s types.ServiceConfig, imageRef, imageID string) (ContainerSpec, error) {
	const number = 1
	hash, err := ServiceHash(s)
	if err != nil {
		return ContainerSpec{}, err
	}
	labels := maps.Clone(map[string]string(s.Labels))
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, p.serviceLabels(s.Name))
	labels[LabelConfigHash] = hash
	labels[LabelContainerNumber] = strconv.Itoa(number)
	var deps []string
	for dep, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", dep, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	labels[LabelDependsOn] = strings.Join(deps, ",")
	if imageID != "" {
		labels[LabelImage] = imageID
	}
	name := containerName(p.Name, s)
	spec := ContainerSpec{
		Name:        name,
		Image:       imageRef,
		Labels:      labels,
		Env:         envList(s.Environment),
		User:        s.User,
		WorkingDir:  s.WorkingDir,
		Hostname:    s.Hostname,
		Domainname:  s.DomainName,
		Entrypoint:  s.Entrypoint,
		Cmd:         s.Command,
		Tty:         s.Tty,
		StdinOpen:   s.StdinOpen,
		StopSignal:  s.StopSignal,
		Healthcheck: healthcheck(s.HealthCheck),
		Restart:     restartPolicy(s),
		Init:        s.Init,
		Privileged:  s.Privileged,
		ReadOnly:    s.ReadOnly,
		CapAdd:      s.CapAdd,
		CapDrop:     s.CapDrop,
		SecurityOpt: s.SecurityOpt,
		DNS:         s.DNS,
		DNSSearch:   s.DNSSearch,
		DNSOptions:  s.DNSOpts,
		ExtraHosts:  s.ExtraHosts.AsList(":"),
		GroupAdd:    s.GroupAdd,
		Sysctls:     s.Sysctls,
		ShmSize:     int64(s.ShmSize),
		Ipc:         s.Ipc,
		Pid:         s.Pid,
		NetworkMode: s.NetworkMode,
		Tmpfs:       map[string]string{},
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		spec.StopTimeout = &secs
	}
	if s.Logging != nil {
		spec.LogDriver, spec.LogOptions = s.Logging.Driver, s.Logging.Options
	}
	for _, t := range s.Tmpfs {
		k, v, _ := strings.Cut(t, ":")
		spec.Tmpfs[k] = v
	}
	for _, d := range s.Devices {
		spec.Devices = append(spec.Devices, Device{Host: d.Source, Container: d.Target, Permissions: d.Permissions})
	}
	for _, n := range sortedKeys(s.Ulimits) {
		u := s.Ulimits[n]
		soft, hard := u.Soft, u.Hard
		if u.Single != 0 {
			soft, hard = u.Single, u.Single
		}
		spec.Ulimits = append(spec.Ulimits, Ulimit{Name: n, Soft: int64(soft), Hard: int64(hard)})
	}
	spec.Resources = resources(s)
	spec.VolumesFrom = slices.Clone(s.VolumesFrom)
	spec.ExposedPorts, spec.Ports = ports(s)
	if spec.Mounts, err = p.mounts(s); err != nil {
		return ContainerSpec{}, err
	}
	if s.NetworkMode == "" {
		for _, key := range s.NetworksByPriority() {
			nw, ok := p.model.Networks[key]
			if !ok {
				return ContainerSpec{}, fmt.Errorf("service %s: network %q is not declared", s.Name, key)
			}
			cfg := s.Networks[key]
			ep := Endpoint{Network: nw.Name, Aliases: []string{name}}
			if cfg.ServiceNameAliasEnabled() {
				ep.Aliases = append(ep.Aliases, s.Name)
			}
			if cfg != nil {
				ep.Aliases = append(ep.Aliases, cfg.Aliases...)
				ep.IPv4Address, ep.IPv6Address = cfg.Ipv4Address, cfg.Ipv6Address
			}
			spec.Networks = append(spec.Networks, ep)
		}
		if len(spec.Networks) == 0 {
			spec.NetworkMode = "none"
		}
	}
	return spec, nil
}

// resources are the service's resource limits: its own properties (mem_limit, cpus, …), then
// deploy.resources, whose limits and reservations win as with Compose v2.
func resources(s types.ServiceConfig) Resources {
	r := Resources{
		Memory: int64(s.MemLimit), MemoryReservation: int64(s.MemReservation), MemorySwap: int64(s.MemSwapLimit),
		NanoCPUs: int64(s.CPUS * 1e9), CPUShares: s.CPUShares, CPUPeriod: s.CPUPeriod, CPUQuota: s.CPUQuota,
		CpusetCpus: s.CPUSet, OomKillDisable: s.OomKillDisable, OomScoreAdj: int(s.OomScoreAdj), CgroupParent: s.CgroupParent,
	}
	if s.MemSwappiness != 0 {
		v := int64(s.MemSwappiness)
		r.MemorySwappiness = &v
	}
	if s.PidsLimit != 0 {
		v := s.PidsLimit
		r.PidsLimit = &v
	}
	if s.Deploy == nil {
		return r
	}
	if l := s.Deploy.Resources.Limits; l != nil {
		if l.NanoCPUs != 0 {
			r.NanoCPUs = int64(l.NanoCPUs.Value() * 1e9)
		}
		if l.MemoryBytes != 0 {
			r.Memory = int64(l.MemoryBytes)
		}
		if l.Pids != 0 {
			v := l.Pids
			r.PidsLimit = &v
		}
	}
	if rs := s.Deploy.Resources.Reservations; rs != nil && rs.MemoryBytes != 0 {
		r.MemoryReservation = int64(rs.MemoryBytes)
	}
	return r
}

func containerName(project string, s types.ServiceConfig) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(project, s.Name, 1)
}

// envList turns the resolved environment into KEY=VALUE, sorted; unset variables are left out.
func envList(env types.MappingWithEquals) []string {
	var out []string
	for _, k := range sortedKeys(env) {
		if v := env[k]; v != nil {
			out = append(out, k+"="+*v)
		}
	}
	return out
}

func healthcheck(h *types.HealthCheckConfig) *Healthcheck {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &Healthcheck{Test: []string{"NONE"}}
	}
	d := func(v *types.Duration) time.Duration {
		if v == nil {
			return 0
		}
		return time.Duration(*v)
	}
	out := &Healthcheck{
		Test:          h.Test,
		Interval:      d(h.Interval),
		Timeout:       d(h.Timeout),
		StartPeriod:   d(h.StartPeriod),
		StartInterval: d(h.StartInterval),
	}
	if h.Retries != nil {
		out.Retries = int(*h.Retries)
	}
	return out
}

func restartPolicy(s types.ServiceConfig) RestartPolicy {
	var r RestartPolicy
	if s.Restart != "" {
		name, num, _ := strings.Cut(s.Restart, ":")
		n, _ := strconv.Atoi(num)
		r = RestartPolicy{Name: name, MaxRetries: n}
	}
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		r = RestartPolicy{Name: rp.Condition}
		if rp.MaxAttempts != nil {
			r.MaxRetries = int(*rp.MaxAttempts)
		}
	}
	switch r.Name {
	case "none":
		r.Name = "no"
	case "any":
		r.Name = "always"
	}
	return r
}

// ports returns the exposed ports (ports and expose) and the published bindings.
func ports(s types.ServiceConfig) ([]string, []PortBinding) {
	seen := map[string]bool{}
	var exposed []string
	addExposed := func(p string) {
		if !seen[p] {
			seen[p] = true
			exposed = append(exposed, p)
		}
	}
	var bindings []PortBinding
	for _, pc := range s.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		addExposed(fmt.Sprintf("%d/%s", pc.Target, proto))
		bindings = append(bindings, PortBinding{HostIP: pc.HostIP, HostPort: pc.Published, ContainerPort: pc.Target, Protocol: proto})
	}
	for _, e := range s.Expose {
		if !strings.Contains(e, "/") {
			e += "/tcp"
		}
		addExposed(e)
	}
	return exposed, bindings
}

// mounts converts the service volumes; named volumes get their project-scoped name.
func (p *Project) mounts(s types.ServiceConfig) ([]Mount, error) {
	var out []Mount
	for _, v := range s.Volumes {
		m := Mount{Type: v.Type, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind != nil {
				m.CreateHostPath = bool(v.Bind.CreateHostPath)
				m.Propagation, m.SELinux = v.Bind.Propagation, v.Bind.SELinux
			}
		case types.VolumeTypeVolume:
			if v.Source != "" {
				vol, ok := p.model.Volumes[v.Source]
				if !ok {
					return nil, fmt.Errorf("service %s: volume %q is not declared in the top-level volumes", s.Name, v.Source)
				}
				m.Source, m.External = vol.Name, bool(vol.External)
			}
			if v.Volume != nil {
				m.NoCopy, m.Subpath = v.Volume.NoCopy, v.Volume.Subpath
			}
		case types.VolumeTypeTmpfs:
			if v.Tmpfs != nil {
				m.TmpfsSize, m.TmpfsMode = int64(v.Tmpfs.Size), v.Tmpfs.Mode
			}
		}
		out = append(out, m)
	}
	files, err := p.fileMounts(s)
	return append(out, files...), err
}

// fileMounts binds the service's file secrets and configs read-only, where Compose puts them:
// a secret at /run/secrets/<target or source> (a relative target under /run/secrets), a
// config at <target>, or /<source> without one. (checkSupported refuses secrets and configs
// that are not files.)
func (p *Project) fileMounts(s types.ServiceConfig) ([]Mount, error) {
	var out []Mount
	for _, ref := range s.Secrets {
		obj, ok := p.model.Secrets[ref.Source]
		m, err := fileMount(s.Name, "secret", ref.Source, ref.Target, obj.File, ok, "/run/secrets")
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	for _, ref := range s.Configs {
		obj, ok := p.model.Configs[ref.Source]
		m, err := fileMount(s.Name, "config", ref.Source, ref.Target, obj.File, ok, "/")
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fileMount binds the file of a secret or config (kind) read-only at target, or at source
// when there is none; a relative one goes under dir.
func fileMount(service, kind, source, target, file string, declared bool, dir string) (Mount, error) {
	if !declared {
		return Mount{}, fmt.Errorf("service %s: %s %q is not declared in the top-level %ss", service, kind, source, kind)
	}
	if target == "" {
		target = source
	}
	if !path.IsAbs(target) {
		target = path.Join(dir, target)
	}
	return Mount{Type: types.VolumeTypeBind, Source: file, Target: target, ReadOnly: true}, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
