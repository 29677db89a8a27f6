package docker

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"

	"github.com/mochi-dev/mochi/compose"
)

// containerConfig translates a compose container spec into the engine's create request,
// field for field as Compose v2 does.
func containerConfig(s compose.ContainerSpec) (*container.Config, *container.HostConfig, error) {
	cfg := &container.Config{
		Hostname:     s.Hostname,
		Domainname:   s.Domainname,
		User:         s.User,
		ExposedPorts: nat.PortSet{},
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		AttachStdout: true,
		AttachStderr: true,
		Cmd:          s.Cmd,
		Entrypoint:   s.Entrypoint,
		Image:        s.Image,
		WorkingDir:   s.WorkingDir,
		Labels:       s.Labels,
		StopSignal:   s.StopSignal,
		Env:          s.Env,
		StopTimeout:  s.StopTimeout,
	}
	if h := s.Healthcheck; h != nil {
		cfg.Healthcheck = &container.HealthConfig{
			Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, StartInterval: h.StartInterval, Retries: h.Retries,
		}
	}
	host := &container.HostConfig{
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		Init:           s.Init,
		Privileged:     s.Privileged,
		ReadonlyRootfs: s.ReadOnly,
		SecurityOpt:    s.SecurityOpt,
		DNS:            s.DNS,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOptions,
		ExtraHosts:     s.ExtraHosts,
		GroupAdd:       s.GroupAdd,
		Sysctls:        s.Sysctls,
		ShmSize:        s.ShmSize,
		IpcMode:        container.IpcMode(s.Ipc),
		PidMode:        container.PidMode(s.Pid),
		Tmpfs:          s.Tmpfs,
		Links:          s.Links,
		PortBindings:   nat.PortMap{},
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyMode(s.Restart.Name), MaximumRetryCount: s.Restart.MaxRetries},
		LogConfig:      container.LogConfig{Type: s.LogDriver, Config: s.LogOptions},
		VolumesFrom:    s.VolumesFrom,
		OomScoreAdj:    s.Resources.OomScoreAdj,
		Resources:      resources(s.Resources),
	}
	switch {
	case s.NetworkMode != "":
		host.NetworkMode = container.NetworkMode(s.NetworkMode)
	case len(s.Networks) > 0:
		host.NetworkMode = container.NetworkMode(s.Networks[0].Network)
	}
	for _, u := range s.Ulimits {
		host.Ulimits = append(host.Ulimits, &container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard})
	}
	for _, d := range s.Devices {
		perms := d.Permissions
		if perms == "" {
			perms = "rwm"
		}
		target := d.Container
		if target == "" {
			target = d.Host
		}
		host.Devices = append(host.Devices, container.DeviceMapping{PathOnHost: d.Host, PathInContainer: target, CgroupPermissions: perms})
	}
	for _, p := range s.ExposedPorts {
		cfg.ExposedPorts[nat.Port(p)] = struct{}{}
	}
	for _, b := range s.Ports {
		port, err := nat.NewPort(b.Protocol, strconv.FormatUint(uint64(b.ContainerPort), 10))
		if err != nil {
			return nil, nil, fmt.Errorf("port %d/%s: %w", b.ContainerPort, b.Protocol, err)
		}
		cfg.ExposedPorts[port] = struct{}{}
		host.PortBindings[port] = append(host.PortBindings[port], nat.PortBinding{HostIP: b.HostIP, HostPort: b.HostPort})
	}
	for _, m := range s.Mounts {
		if !path.IsAbs(m.Target) {
			return nil, nil, fmt.Errorf("mount target %q: not an absolute path", m.Target)
		}
		if m.Type == "bind" && m.CreateHostPath {
			// Compose sends short-syntax binds as Binds, which create a missing host folder.
			// An existing source (a file, say) is bound as it is.
			if _, err := os.Stat(m.Source); err != nil {
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return nil, nil, fmt.Errorf("bind source %s: %w", m.Source, err)
				}
			}
			host.Binds = append(host.Binds, bindString(m))
			continue
		}
		mm, err := apiMount(m)
		if err != nil {
			return nil, nil, err
		}
		host.Mounts = append(host.Mounts, mm)
	}
	return cfg, host, nil
}

// bindString is the Binds form source:target:rw|ro[,selinux][,propagation].
func bindString(m compose.Mount) string {
	opts := []string{"rw"}
	if m.ReadOnly {
		opts[0] = "ro"
	}
	if m.SELinux != "" {
		opts = append(opts, m.SELinux)
	}
	if m.Propagation != "" {
		opts = append(opts, m.Propagation)
	}
	return m.Source + ":" + m.Target + ":" + strings.Join(opts, ",")
}

func apiMount(m compose.Mount) (mount.Mount, error) {
	mm := mount.Mount{Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
	switch m.Type {
	case "bind":
		mm.Type = mount.TypeBind
		if m.Propagation != "" {
			mm.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(m.Propagation)}
		}
	case "volume":
		mm.Type = mount.TypeVolume
		if m.NoCopy || m.Subpath != "" {
			mm.VolumeOptions = &mount.VolumeOptions{NoCopy: m.NoCopy, Subpath: m.Subpath}
		}
	case "tmpfs":
		mm.Type = mount.TypeTmpfs
		mm.Source = ""
		if m.TmpfsSize != 0 || m.TmpfsMode != 0 {
			mm.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: m.TmpfsSize, Mode: os.FileMode(m.TmpfsMode)}
		}
	default:
		return mm, fmt.Errorf("mount %s: %w: type %q", m.Target, compose.ErrUnsupported, m.Type)
	}
	return mm, nil
}

// resources turns a service's limits into the engine's.
func resources(r compose.Resources) container.Resources {
	out := container.Resources{
		Memory: r.Memory, MemoryReservation: r.MemoryReservation, MemorySwap: r.MemorySwap,
		MemorySwappiness: r.MemorySwappiness, NanoCPUs: r.NanoCPUs, CPUShares: r.CPUShares,
		CPUPeriod: r.CPUPeriod, CPUQuota: r.CPUQuota, CpusetCpus: r.CpusetCpus,
		PidsLimit: r.PidsLimit, CgroupParent: r.CgroupParent,
	}
	if r.OomKillDisable {
		out.OomKillDisable = &r.OomKillDisable
	}
	return out
}
