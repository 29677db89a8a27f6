package lxc

import (
	"fmt"
	"net"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/mochi-dev/mochi/providers"
)

// settings is a create spec after runArgs were applied: what the LXC config is made of.
type settings struct {
	name       string
	env        []string
	user       string
	hostname   string
	privileged bool
	capAdd     []string
	mounts     []providers.Mount
	ports      []string
	labels     map[string]string
	extraHosts []hostEntry // --add-host, in order
}

// hostEntry is one extra /etc/hosts line; an empty ip means the bridge's address
// (--add-host NAME:host-gateway).
type hostEntry struct{ name, ip string }

// supportedRunArgs lists the `docker run` flags with an LXC meaning, for error messages.
const supportedRunArgs = "--privileged, --cap-add, --add-host, -e/--env, -h/--hostname, -v/--volume, -p/--publish, -l/--label, -u/--user, --name, --init, --security-opt apparmor=unconfined|seccomp=unconfined|label=disable"

// newSettings applies spec, then its RunArgs (which may override it), like the Docker provider.
func newSettings(spec providers.CreateSpec) (*settings, error) {
	s := &settings{
		name:       spec.Name,
		env:        slices.Clone(spec.Env),
		user:       spec.User,
		privileged: spec.Privileged,
		capAdd:     slices.Clone(spec.CapAdd),
		mounts:     slices.Clone(spec.Mounts),
		ports:      slices.Clone(spec.Ports),
		labels:     map[string]string{},
	}
	for k, v := range spec.Labels {
		s.labels[k] = v
	}
	if spec.GPUs {
		return nil, fmt.Errorf("%w: GPUs (hostRequirements.gpu / --gpus) are not supported by the lxc provider", providers.ErrUnsupported)
	}
	for _, o := range spec.SecurityOpt {
		if err := s.securityOpt(o); err != nil {
			return nil, err
		}
	}
	if err := s.runArgs(spec.RunArgs); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *settings) securityOpt(o string) error {
	switch strings.ReplaceAll(o, ":", "=") {
	case "apparmor=unconfined", "seccomp=unconfined", "label=disable":
		return nil // LXC containers made by mochi run without AppArmor or SELinux confinement
	}
	return fmt.Errorf("%w: security option %q is not supported by the lxc provider", providers.ErrUnsupported, o)
}

// runArgs applies `docker run` flags that have an LXC meaning and refuses the rest, naming them.
func (s *settings) runArgs(args []string) error {
	var refused []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		flag, val, hasVal := strings.Cut(arg, "=")
		if !strings.HasPrefix(arg, "--") && strings.HasPrefix(arg, "-") && len(arg) > 2 {
			flag, val, hasVal = arg[:2], arg[2:], true // -eFOO=bar
		}
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("runArgs: %s needs a value", flag)
			}
			i++
			return args[i], nil
		}
		switch flag {
		case "--privileged":
			s.privileged = !hasVal || val == "true"
		case "--init":
			// The keep-alive init reaps what it starts; nothing to add.
		case "--cap-add", "--add-host", "--security-opt", "-e", "--env", "-h", "--hostname", "-v", "--volume",
			"-p", "--publish", "-l", "--label", "-u", "--user", "--name":
			v, err := value()
			if err != nil {
				return err
			}
			if err := s.apply(flag, v); err != nil {
				return err
			}
		default:
			refused = append(refused, arg)
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w: runArgs %s have no meaning for the lxc provider (supported: %s)",
			providers.ErrUnsupported, strings.Join(refused, " "), supportedRunArgs)
	}
	return nil
}

func (s *settings) apply(flag, v string) error {
	switch flag {
	case "--cap-add":
		s.capAdd = append(s.capAdd, v)
	case "--add-host":
		// NAME:IP (IPv6 addresses contain colons, so the first one splits) or NAME=IP.
		name, ip, ok := strings.Cut(v, "=")
		if !ok {
			name, ip, ok = strings.Cut(v, ":")
		}
		if !ok || name == "" || ip == "" {
			return fmt.Errorf("runArgs --add-host %s: expected NAME:IP", v)
		}
		if ip == "host-gateway" {
			ip = ""
		} else if net.ParseIP(ip) == nil {
			return fmt.Errorf("runArgs --add-host %s: %q is not an IP address", v, ip)
		}
		s.extraHosts = append(s.extraHosts, hostEntry{name, ip})
	case "--security-opt":
		return s.securityOpt(v)
	case "-e", "--env":
		if !strings.Contains(v, "=") {
			hv, ok := os.LookupEnv(v)
			if !ok {
				return nil // docker drops a name the host does not define
			}
			v += "=" + hv
		}
		s.env = append(s.env, v)
	case "-h", "--hostname":
		s.hostname = v
	case "-v", "--volume":
		m, err := parseVolume(v)
		if err != nil {
			return err
		}
		s.mounts = append(s.mounts, m)
	case "-p", "--publish":
		s.ports = append(s.ports, v)
	case "-l", "--label":
		k, lv, _ := strings.Cut(v, "=")
		s.labels[k] = lv
	case "-u", "--user":
		s.user = v
	case "--name":
		s.name = v
	}
	return nil
}

// parseVolume parses `-v [SRC:]DST[:OPTS]`: an absolute SRC is a bind mount, another SRC a
// named volume, none an anonymous volume.
func parseVolume(v string) (providers.Mount, error) {
	parts := strings.Split(v, ":")
	var m providers.Mount
	switch len(parts) {
	case 1:
		m = providers.Mount{Type: "volume", Target: parts[0]}
	case 2, 3:
		m = providers.Mount{Type: "volume", Source: parts[0], Target: parts[1]}
		if path.IsAbs(parts[0]) {
			m.Type = "bind"
		}
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro", "readonly":
					m.ReadOnly = true
				case "rw", "z", "Z", "cached", "delegated", "consistent":
				default:
					return m, fmt.Errorf("%w: runArgs -v %s: option %q is not supported by the lxc provider", providers.ErrUnsupported, v, o)
				}
			}
		}
	default:
		return m, fmt.Errorf("runArgs -v %s: expected [SRC:]DST[:OPTS]", v)
	}
	if !path.IsAbs(m.Target) {
		return m, fmt.Errorf("runArgs -v %s: the target must be an absolute path", v)
	}
	return m, nil
}
