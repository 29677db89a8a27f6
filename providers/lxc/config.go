package lxc

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/mochi-dev/mochi/providers"
)

// defaultCapDrop is what LXC's common.conf drops; --cap-add of one of them takes it back.
var defaultCapDrop = []string{"mac_admin", "mac_override", "sys_time", "sys_module", "sys_rawio"}

// lxcConfig is the content of one container's LXC config file.
type lxcConfig struct {
	rootfs     string // lxc.rootfs.path value ("overlay:LOWER:UPPER" or "dir:PATH")
	hostname   string
	bridge     string
	address    string // IPv4 CIDR and broadcast address
	gateway    string
	env        []string
	uid, gid   int
	cwd        string
	mounts     []mountEntry
	privileged bool
	capAdd     []string
	consoleLog string
}

// mountEntry is one lxc.mount.entry line.
type mountEntry struct {
	source, target, fstype string
	options                []string
}

// render writes the config in LXC's key = value format.
func (c *lxcConfig) render() (string, error) {
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s = %s\n", k, v) }
	b.WriteString("# Written by mochi; see mochi.json for what LXC does not keep.\n")
	line("lxc.include", "/usr/share/lxc/config/common.conf")
	line("lxc.arch", "linux64")
	// common.conf pulls in lxcfs's mount and post-stop hooks (common.conf.d/00-lxcfs.conf): a
	// Docker container has no lxcfs view of /proc either, and the hooks cost a shell per start.
	line("lxc.hook.mount", "")
	line("lxc.hook.post-stop", "")
	line("lxc.rootfs.path", c.rootfs)
	line("lxc.uts.name", c.hostname)
	line("lxc.autodev", "1")
	// No /dev/tty1-4 for logins on virtual consoles (common.conf asks for 4): a workspace has
	// no getty, and Docker has none either.
	line("lxc.tty.max", "0")
	line("lxc.signal.halt", "SIGTERM")
	line("lxc.signal.stop", "SIGKILL")
	line("lxc.console.logfile", c.consoleLog)
	line("lxc.net.0.type", "veth")
	line("lxc.net.0.link", c.bridge)
	line("lxc.net.0.flags", "up")
	line("lxc.net.0.name", "eth0")
	line("lxc.net.0.ipv4.address", c.address)
	line("lxc.net.0.ipv4.gateway", c.gateway)
	line("lxc.init.uid", fmt.Sprint(c.uid))
	line("lxc.init.gid", fmt.Sprint(c.gid))
	line("lxc.init.cwd", c.cwd)
	for _, e := range c.env {
		if strings.ContainsAny(e, "\n\r") {
			k, _, _ := strings.Cut(e, "=")
			return "", fmt.Errorf("environment variable %s: LXC cannot hold a value with a line break", k)
		}
		line("lxc.environment", e)
	}
	if c.privileged {
		line("lxc.cap.drop", "")
		line("lxc.apparmor.profile", "unconfined")
		line("lxc.seccomp.profile", "")
		line("lxc.mount.auto", "")
		line("lxc.mount.auto", "proc:rw sys:rw cgroup:rw")
		line("lxc.cgroup.devices.allow", "a")
		line("lxc.cgroup2.devices.allow", "a")
	} else if drop, changed := capDrop(c.capAdd); changed {
		line("lxc.cap.drop", "")
		if len(drop) > 0 {
			line("lxc.cap.drop", strings.Join(drop, " "))
		}
	}
	// /dev/shm as Docker gives it (64 MiB), for POSIX shared memory (browsers, Python's
	// multiprocessing, databases); autodev's /dev has none.
	line("lxc.mount.entry", "shm dev/shm tmpfs rw,nosuid,nodev,noexec,size=65536k,create=dir 0 0")
	for _, m := range c.mounts {
		line("lxc.mount.entry", fmt.Sprintf("%s %s %s %s 0 0",
			fstabEscape(m.source), fstabEscape(m.target), m.fstype, strings.Join(m.options, ",")))
	}
	return b.String(), nil
}

// capDrop returns LXC's default drop list minus the added capabilities, and whether it changed.
func capDrop(add []string) ([]string, bool) {
	drop := slices.Clone(defaultCapDrop)
	for _, c := range add {
		c = strings.TrimPrefix(strings.ToLower(c), "cap_")
		if c == "all" {
			return nil, true
		}
		drop = slices.DeleteFunc(drop, func(d string) bool { return d == c })
	}
	return drop, len(drop) != len(defaultCapDrop)
}

// fstabEscape escapes what separates fstab fields (LXC reads mount entries like getmntent).
func fstabEscape(s string) string {
	r := strings.NewReplacer(`\`, `\134`, " ", `\040`, "\t", `\011`, "\n", `\012`)
	return r.Replace(s)
}

// mountEntries turns the container's mounts into LXC mount entries, shallowest target first
// so that nested mounts land on top of their parents. hostPath maps a mount to its host source.
func mountEntries(mounts []providers.Mount, hostPath func(providers.Mount) (string, bool, error)) ([]mountEntry, error) {
	sorted := slices.Clone(mounts)
	sort.SliceStable(sorted, func(i, j int) bool { return depth(sorted[i].Target) < depth(sorted[j].Target) })
	var out []mountEntry
	for _, m := range sorted {
		if !filepath.IsAbs(m.Target) {
			return nil, fmt.Errorf("mount target %q: must be an absolute path", m.Target)
		}
		target := strings.TrimPrefix(filepath.Clean(m.Target), "/")
		if target == "" {
			return nil, fmt.Errorf("mount target %q: cannot mount over /", m.Target)
		}
		rw := "rw"
		if m.ReadOnly {
			rw = "ro"
		}
		switch m.Type {
		case "tmpfs":
			out = append(out, mountEntry{"tmpfs", target, "tmpfs", []string{rw, "nosuid", "nodev", "create=dir"}})
		case "bind", "volume":
			src, isFile, err := hostPath(m)
			if err != nil {
				return nil, err
			}
			create := "create=dir"
			if isFile {
				create = "create=file"
			}
			out = append(out, mountEntry{src, target, "none", []string{"bind", rw, create}})
		default:
			return nil, fmt.Errorf("mount at %s: type %q is not supported by the lxc provider", m.Target, m.Type)
		}
	}
	return out, nil
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }
