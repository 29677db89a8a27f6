package workspace

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
)

// maxImageRef bounds an image reference (Docker's own limit is far lower in practice).
const maxImageRef = 1024

// checkConfig refuses, before anything is created, values that would otherwise fail deep in
// the engine with a message that names neither the file nor the property.
func (e *Engine) checkConfig(r *resolved) error {
	c := r.cfg
	at := func(prop, format string, args ...any) error {
		return fmt.Errorf("%s: %q: %s", r.raw.At(prop), prop, fmt.Sprintf(format, args...))
	}
	if ra, ok := e.be.(interface{ CheckRunArgs([]string) error }); ok && len(c.RunArgs) > 0 {
		if err := ra.CheckRunArgs(c.RunArgs); err != nil {
			// Name the first entry at fault: the shortest prefix that fails ends with it
			// (a flag still waiting for its value fails too, which names that flag).
			prop := "runArgs"
			for i := range c.RunArgs {
				if ra.CheckRunArgs(c.RunArgs[:i+1]) != nil {
					prop = fmt.Sprintf("runArgs[%d]", i)
					break
				}
			}
			return fmt.Errorf("%s: %q: %w", r.raw.At(prop), prop, err)
		}
	}
	if wm := r.layout.WorkspaceMount; wm != "" {
		if m, err := devcontainer.ParseMount(wm); err == nil && !path.IsAbs(m.Target) {
			return at("workspaceMount", "target %q is not an absolute path", m.Target)
		}
	}
	if n := len(c.Image); n > maxImageRef {
		return at("image", "an image reference of %d bytes is too long", n)
	}
	if wf := r.layout.WorkspaceFolder; wf != "" && !path.IsAbs(wf) {
		return at("workspaceFolder", "%q is not an absolute path in the container", wf)
	}
	for i, m := range c.Mounts {
		prop := fmt.Sprintf("mounts[%d]", i)
		switch m.Type {
		case "", "bind", "volume", "tmpfs":
		default:
			return at(prop, "unknown mount type %q (bind, volume or tmpfs)", m.Type)
		}
		if !path.IsAbs(m.Target) {
			return at(prop, "target %q is not an absolute path", m.Target)
		}
		if m.Type == "bind" && m.Source == "" {
			return at(prop, "a bind mount needs a source")
		}
	}
	for i, p := range c.AppPort {
		if err := checkPublish(p); err != nil {
			return at(fmt.Sprintf("appPort[%d]", i), "%v", err)
		}
	}
	return nil
}

// checkPublish checks a `-p` value: [ip:][hostPort:]containerPort[/proto], ports 1-65535
// (or ranges a-b).
func checkPublish(p string) error {
	spec, proto, _ := strings.Cut(p, "/")
	switch proto {
	case "", "tcp", "udp", "sctp":
	default:
		return fmt.Errorf("%q: unknown protocol %q", p, proto)
	}
	parts := strings.Split(spec, ":")
	ports := parts[len(parts)-1:]
	if len(parts) >= 2 {
		ports = parts[len(parts)-2:]
		if ports[0] == "" {
			ports = ports[1:]
		}
	}
	for _, pr := range ports {
		lo, hi, isRange := strings.Cut(pr, "-")
		for _, s := range []string{lo, hi} {
			if s == "" && isRange {
				return fmt.Errorf("%q: bad port range", p)
			}
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("%q: port %q out of range (1-65535)", p, s)
			}
		}
	}
	return nil
}
