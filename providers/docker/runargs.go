package docker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	units "github.com/docker/go-units"
	"github.com/spf13/pflag"
)

// parseRunArgs applies `docker run` flags to rc in the order given, so a flag overrides what
// was set before it. An unknown flag, a positional argument or a bad value is an error naming
// the flag.
func parseRunArgs(rc *runConfig, args []string, log *slog.Logger) error {
	if len(args) == 0 {
		return nil
	}
	fs := pflag.NewFlagSet("runArgs", pflag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	defineRunFlags(fs, rc, log)
	if err := fs.Parse(args); err != nil {
		return flagsError("runArgs", "docker run", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("runArgs: unexpected argument %q (runArgs holds flags only)", fs.Arg(0))
	}
	return nil
}

// flagsError rewrites pflag's errors into ones that name the property (what) and the flag at
// fault; cmd names the command whose flags these are.
func flagsError(what, cmd string, err error) error {
	var notExist *pflag.NotExistError
	if errors.As(err, &notExist) {
		name := "--" + notExist.GetSpecifiedName()
		if notExist.GetSpecifiedShortnames() != "" {
			name = "-" + notExist.GetSpecifiedName()
		}
		return fmt.Errorf("%s: unsupported %s flag %q", what, cmd, name)
	}
	var invalid *pflag.InvalidValueError
	if errors.As(err, &invalid) {
		return fmt.Errorf("%s: --%s %q: %w", what, invalid.GetFlag().Name, invalid.GetValue(), errors.Unwrap(invalid))
	}
	var missing *pflag.ValueRequiredError
	if errors.As(err, &missing) {
		return fmt.Errorf("%s: --%s needs a value", what, missing.GetFlag().Name)
	}
	return fmt.Errorf("%s: %w", what, err)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// defineRunFlags declares the supported `docker run` flags, each applying itself to rc.
func defineRunFlags(fs *pflag.FlagSet, rc *runConfig, log *slog.Logger) {
	cfg, host := &rc.cfg, &rc.host
	str := func(name, short string, set func(string) error) { fs.FuncP(name, short, "", set) }
	boolean := func(name, short string, set func(bool) error) {
		fs.BoolFuncP(name, short, "", func(v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return err
			}
			return set(b)
		})
	}
	assign := func(dst *string) func(string) error { return func(v string) error { *dst = v; return nil } }
	appendTo := func(dst *[]string) func(string) error {
		return func(v string) error { *dst = append(*dst, v); return nil }
	}
	size := func(dst *int64) func(string) error {
		return func(v string) error {
			n, err := units.RAMInBytes(v)
			*dst = n
			return err
		}
	}

	str("name", "", assign(&rc.name))
	str("user", "u", assign(&cfg.User))
	str("workdir", "w", assign(&cfg.WorkingDir))
	str("hostname", "h", assign(&cfg.Hostname))
	str("domainname", "", assign(&cfg.Domainname))
	str("env", "e", func(v string) error { rc.addEnv(hostEnv(v)); return nil })
	str("env-file", "", func(v string) error { return readEnvFile(rc, v) })
	str("label", "l", func(v string) error {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return errors.New("empty label name")
		}
		cfg.Labels[k] = val
		return nil
	})
	str("volume", "v", rc.addVolumeFlag)
	str("mount", "", func(v string) error {
		m, err := parseMountFlag(v)
		if err == nil {
			rc.addMount(m)
		}
		return err
	})
	str("tmpfs", "", func(v string) error {
		p, opts, _ := strings.Cut(v, ":")
		if !filepath.IsAbs(p) {
			return errors.New("tmpfs target must be an absolute path")
		}
		if host.Tmpfs == nil {
			host.Tmpfs = map[string]string{}
		}
		host.Tmpfs[p] = opts
		return nil
	})
	str("volumes-from", "", appendTo(&host.VolumesFrom))
	str("publish", "p", rc.addPort)
	boolean("publish-all", "P", func(b bool) error { host.PublishAllPorts = b; return nil })
	str("expose", "", rc.addExpose)
	str("network", "", func(v string) error { rc.networks = append(rc.networks, v); return nil })
	str("net", "", func(v string) error { rc.networks = append(rc.networks, v); return nil })
	str("network-alias", "", appendTo(&rc.aliases))
	str("net-alias", "", appendTo(&rc.aliases))
	str("add-host", "", func(v string) error {
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" || ip == "" {
			return errors.New("want host:ip")
		}
		host.ExtraHosts = append(host.ExtraHosts, name+":"+ip)
		return nil
	})
	str("dns", "", appendTo(&host.DNS))
	str("dns-search", "", appendTo(&host.DNSSearch))
	str("dns-option", "", appendTo(&host.DNSOptions))
	str("cap-add", "", appendTo((*[]string)(&host.CapAdd)))
	str("cap-drop", "", appendTo((*[]string)(&host.CapDrop)))
	str("security-opt", "", func(v string) error {
		opt, err := securityOpt(v)
		if err == nil {
			host.SecurityOpt = append(host.SecurityOpt, opt)
		}
		return err
	})
	boolean("privileged", "", func(b bool) error { host.Privileged = b; return nil })
	boolean("init", "", func(b bool) error { host.Init = &b; return nil })
	boolean("read-only", "", func(b bool) error { host.ReadonlyRootfs = b; return nil })
	str("device", "", func(v string) error {
		d, err := parseDevice(v)
		if err == nil {
			host.Devices = append(host.Devices, d)
		}
		return err
	})
	str("device-cgroup-rule", "", appendTo(&host.DeviceCgroupRules))
	str("gpus", "", func(v string) error {
		r, err := parseGPUs(v)
		if err == nil {
			host.DeviceRequests = append(host.DeviceRequests, r)
		}
		return err
	})
	str("group-add", "", appendTo(&host.GroupAdd))
	str("shm-size", "", size(&host.ShmSize))
	str("memory", "m", size(&host.Memory))
	str("memory-reservation", "", size(&host.MemoryReservation))
	str("memory-swap", "", func(v string) error {
		if v == "-1" {
			host.MemorySwap = -1
			return nil
		}
		return size(&host.MemorySwap)(v)
	})
	str("cpus", "", func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return errors.New("want a non-negative number of CPUs")
		}
		host.NanoCPUs = int64(f * 1e9)
		return nil
	})
	str("cpu-shares", "c", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		host.CPUShares = n
		return err
	})
	str("cpuset-cpus", "", assign(&host.CpusetCpus))
	str("pids-limit", "", func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		host.PidsLimit = &n
		return err
	})
	str("ulimit", "", func(v string) error {
		u, err := units.ParseUlimit(v)
		if err != nil {
			return err
		}
		for i, old := range host.Ulimits {
			if old.Name == u.Name {
				host.Ulimits[i] = u
				return nil
			}
		}
		host.Ulimits = append(host.Ulimits, u)
		return nil
	})
	str("sysctl", "", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return errors.New("want name=value")
		}
		if host.Sysctls == nil {
			host.Sysctls = map[string]string{}
		}
		host.Sysctls[k] = val
		return nil
	})
	str("ipc", "", func(v string) error { host.IpcMode = container.IpcMode(v); return nil })
	str("pid", "", func(v string) error { host.PidMode = container.PidMode(v); return nil })
	str("uts", "", func(v string) error { host.UTSMode = container.UTSMode(v); return nil })
	str("userns", "", func(v string) error { host.UsernsMode = container.UsernsMode(v); return nil })
	str("cgroupns", "", func(v string) error { host.CgroupnsMode = container.CgroupnsMode(v); return nil })
	str("cgroup-parent", "", assign(&host.CgroupParent))
	str("runtime", "", assign(&host.Runtime))
	str("stop-signal", "", assign(&cfg.StopSignal))
	str("stop-timeout", "", func(v string) error {
		n, err := strconv.Atoi(v)
		cfg.StopTimeout = &n
		return err
	})
	str("restart", "", func(v string) error {
		name, max, _ := strings.Cut(v, ":")
		pol := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
		if max != "" {
			n, err := strconv.Atoi(max)
			if err != nil {
				return errors.New("bad maximum retry count")
			}
			pol.MaximumRetryCount = n
		}
		host.RestartPolicy = pol
		return container.ValidateRestartPolicy(pol)
	})
	str("entrypoint", "", func(v string) error {
		cfg.Entrypoint = []string{v}
		return nil
	})
	str("platform", "", func(v string) error {
		log.Info("runArgs: ignoring --platform; the image is used as prepared", "platform", v)
		return nil
	})
	boolean("rm", "", func(b bool) error {
		if b {
			return errors.New("not supported: a dev container must survive being stopped")
		}
		return nil
	})
	ignored := func(b bool) error { return nil }
	boolean("interactive", "i", ignored)
	boolean("tty", "t", ignored)
	boolean("detach", "d", ignored)
	boolean("sig-proxy", "", ignored)
}

// hostEnv completes a bare NAME from the host environment, as `docker run -e NAME` does.
func hostEnv(v string) string {
	if strings.Contains(v, "=") {
		return v
	}
	if val, ok := os.LookupEnv(v); ok {
		return v + "=" + val
	}
	return v
}

// readEnvFile adds the variables of a docker env file: NAME=VALUE lines, # comments, and
// bare NAME lines taken from the host environment.
func readEnvFile(rc *runConfig, name string) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimLeft(strings.TrimRight(line, "\r"), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, _, _ := strings.Cut(line, "=")
		if k == "" || strings.ContainsAny(k, " \t") {
			return fmt.Errorf("%s:%d: bad variable name %q", name, i+1, k)
		}
		rc.addEnv(hostEnv(line))
	}
	return nil
}

// securityOpt passes engine-understood options through and inlines a seccomp profile file
// the way the docker CLI does.
func securityOpt(v string) (string, error) {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		k, val, ok = strings.Cut(v, ":")
	}
	if !ok || k != "seccomp" || val == "unconfined" || val == "builtin" {
		return v, nil
	}
	data, err := os.ReadFile(val)
	if err != nil {
		return "", fmt.Errorf("seccomp profile: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return "", fmt.Errorf("seccomp profile %s: %w", val, err)
	}
	return "seccomp=" + buf.String(), nil
}

// CheckRunArgs reports whether runArgs would be accepted by Create, without creating anything,
// so a caller can refuse a bad configuration before building images.
func (p *Provider) CheckRunArgs(args []string) error {
	return parseRunArgs(newRunConfig(), args, p.log)
}
