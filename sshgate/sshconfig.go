package sshgate

import (
	"bytes"
	"errors"
	"fmt"
	"golang.org/x/sys/cpu"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostSuffix ends the ssh_config host name of every workspace: NAME.mochi.
const HostSuffix = ".mochi"

// Host is one ssh_config entry for a workspace behind the gateway.
type Host struct {
	Workspace    string
	HostName     string // the gateway's address, e.g. 127.0.0.1
	Port         int
	IdentityFile string
}

// ConfigDir is where mochi keeps the ssh_config, known_hosts and user key it writes:
// HOME/.ssh/mochi.
func ConfigDir(home string) string { return filepath.Join(home, ".ssh", "mochi") }

// UserKeyPath is the user's key for the gateway, in ConfigDir.
func UserKeyPath(home string) string { return filepath.Join(ConfigDir(home), "id_ed25519") }

// WriteSSHConfig writes dir/config with one "Host NAME.mochi" entry per host and
// dir/known_hosts holding hostKey for every gateway address used, both atomically. The
// entries pin the gateway key (StrictHostKeyChecking yes), so nothing is asked on first
// connect. It returns the config file's path, for EnsureInclude.
func WriteSSHConfig(dir string, hostKey ssh.PublicKey, hosts []Host) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("write ssh config: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("write ssh config: %w", err)
	}
	knownPath := filepath.Join(abs, "known_hosts")
	sorted := append([]Host(nil), hosts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Workspace < sorted[j].Workspace })

	var cfg strings.Builder
	cfg.WriteString("# Written by mochi (`mochi ssh-config`); changes here are overwritten.\n")
	addrs := map[string]bool{}
	for _, h := range sorted {
		if !ValidWorkspaceName(h.Workspace) {
			return "", fmt.Errorf("write ssh config: %w %q", ErrBadWorkspaceName, h.Workspace)
		}
		port := h.Port
		if port == 0 {
			port = 22
		}
		fmt.Fprintf(&cfg, "\nHost %s%s\n", h.Workspace, HostSuffix)
		fmt.Fprintf(&cfg, "  HostName %s\n", h.HostName)
		fmt.Fprintf(&cfg, "  Port %d\n", port)
		fmt.Fprintf(&cfg, "  User %s\n", h.Workspace)
		if h.IdentityFile != "" {
			fmt.Fprintf(&cfg, "  IdentityFile %s\n", quote(h.IdentityFile))
			cfg.WriteString("  IdentitiesOnly yes\n")
		}
		fmt.Fprintf(&cfg, "  UserKnownHostsFile %s\n", quote(knownPath))
		cfg.WriteString("  StrictHostKeyChecking yes\n")
		if aesHardware {
			fmt.Fprintf(&cfg, "  Ciphers %s\n", aesFirstCiphers)
		}
		addrs[knownhosts.Normalize(net.JoinHostPort(h.HostName, strconv.Itoa(port)))] = true
	}
	var known strings.Builder
	names := make([]string, 0, len(addrs))
	for a := range addrs {
		names = append(names, a)
	}
	sort.Strings(names)
	if len(names) > 0 {
		known.WriteString(knownhosts.Line(names, hostKey) + "\n")
	}
	if err := writeFileAtomic(knownPath, []byte(known.String()), 0o600); err != nil {
		return "", err
	}
	cfgPath := filepath.Join(abs, "config")
	if err := writeFileAtomic(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return "", err
	}
	return cfgPath, nil
}

// An OpenSSH client takes the first cipher of its own list that the server offers:
// chacha20-poly1305 by default. The gateway's AES-GCM runs on the CPU's AES instructions and
// its ChaCha20 on none (a 512 MiB scp through the gateway took 1.6 s with aes128-gcm and
// 2.6 s with chacha20-poly1305 on the build machines, where sshd took 1.5 s and 2.0 s), so
// where this machine has them the entries put AES-GCM first; every cipher listed is one the
// gateway offers.
const aesFirstCiphers = "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr"

// aesHardware reports AES and carry-less multiply instructions, which Go's AES-GCM uses.
var aesHardware = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ || cpu.ARM64.HasAES && cpu.ARM64.HasPMULL

// quote writes a path the way ssh_config reads it back.
func quote(p string) string {
	if strings.ContainsAny(p, " \t\"") {
		return `"` + strings.ReplaceAll(p, `"`, ``) + `"`
	}
	return p
}

// EnsureInclude puts "Include <configPath>" as the first line of HOME/.ssh/config,
// creating the file (0600, folder 0700) if needed. It never changes anything else and
// does nothing if the line is already there; it reports whether it wrote. A symlinked
// config is updated at its target.
func EnsureInclude(home, configPath string) (bool, error) {
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return false, fmt.Errorf("add include to ssh config: %w", err)
	}
	path := filepath.Join(sshDir, "config")
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	old, err := os.ReadFile(path)
	mode := os.FileMode(0o600)
	switch {
	case err == nil:
		if fi, err := os.Stat(path); err == nil {
			mode = fi.Mode().Perm()
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return false, fmt.Errorf("add include to ssh config: %w", err)
	}
	line := "Include " + quote(configPath)
	for _, l := range strings.Split(string(old), "\n") {
		if strings.TrimSpace(l) == line {
			return false, nil
		}
	}
	var b bytes.Buffer
	b.WriteString(line + "\n")
	b.Write(old)
	if err := writeFileAtomic(path, b.Bytes(), mode); err != nil {
		return false, fmt.Errorf("add include to ssh config: %w", err)
	}
	return true, nil
}
