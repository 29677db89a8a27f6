// Package lxc implements mochi's providers contract on LXC 5 system containers, driven through
// the lxc-* tools (the Go binding is not used). An image is resolved and extracted by the image
// package; every container gets a copy-on-write root (overlayfs over the extracted image, or a
// full copy where overlayfs is missing), a veth on the LXC bridge with a static address, bind
// mounts for the workspace, volumes and the agent, and a keep-alive init process. What lxc-info
// cannot tell (labels, creation and start times, the create spec) is kept in a JSON file next to
// the container's LXC config.
package lxc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/docker/docker/client"

	"github.com/mochi-dev/mochi/image"
	"github.com/mochi-dev/mochi/providers"
)

// DefaultStateDir is where the provider keeps containers, volumes and images by default.
const DefaultStateDir = "/var/lib/mochi/lxc"

// DefaultAddressDir is where providers claim bridge addresses, host-wide.
const DefaultAddressDir = "/var/lib/mochi/lxc-addresses"

// DefaultBridge is the bridge lxc-net creates.
const DefaultBridge = "lxcbr0"

// Options configure a Provider.
type Options struct {
	// Logger receives the provider's diagnostics; nil discards them.
	Logger *slog.Logger
	// StateDir holds the LXC containers (StateDir/containers, used as lxcpath), volumes
	// (StateDir/volumes) and, unless Images is given, the image cache (StateDir/images).
	// Empty means DefaultStateDir.
	StateDir string
	// Images resolves and extracts images; nil builds a store under StateDir/images that
	// exports images from the local Docker engine (DOCKER_HOST etc.) when one answers.
	Images *image.Store
	// Builder builds Dockerfiles (and Features) for BuildImage, normally the Docker provider;
	// the built image is then exported from that engine. Nil makes BuildImage unsupported.
	Builder providers.ImageBuilder
	// Bridge is the host bridge the containers' veth joins; empty means DefaultBridge.
	Bridge string
	// AddressDir is where the bridge addresses given to containers are claimed; it must be
	// shared by every provider on the host using the bridge. Empty means DefaultAddressDir.
	AddressDir string
}

// Provider is the LXC provider. It implements providers.Provider, providers.Execer,
// providers.Attacher and providers.ImageBuilder. It is safe for concurrent use, also by
// several processes sharing StateDir.
type Provider struct {
	log     *slog.Logger
	state   string
	lxcpath string
	images  *image.Store
	builder providers.ImageBuilder
	bridge  string
	addrDir string

	warnOnce sync.Once
}

var (
	_ providers.Provider     = (*Provider)(nil)
	_ providers.Execer       = (*Provider)(nil)
	_ providers.Attacher     = (*Provider)(nil)
	_ providers.ImageBuilder = (*Provider)(nil)
)

// New returns an LXC provider. It neither creates folders nor runs an LXC tool; call Check to
// find out whether LXC is usable on this machine.
func New(opts Options) (*Provider, error) {
	p := &Provider{log: opts.Logger, state: opts.StateDir, images: opts.Images, builder: opts.Builder, bridge: opts.Bridge, addrDir: opts.AddressDir}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("component", "lxc")
	if p.state == "" {
		p.state = DefaultStateDir
	}
	if p.bridge == "" {
		p.bridge = DefaultBridge
	}
	if p.addrDir == "" {
		p.addrDir = DefaultAddressDir
	}
	p.lxcpath = filepath.Join(p.state, "containers")
	if p.images == nil {
		var docker image.DockerAPI
		if c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err == nil {
			docker = c
		} else {
			p.log.Debug("no docker client for images", "err", err)
		}
		s, err := image.New(image.Options{Dir: filepath.Join(p.state, "images"), Docker: docker, Logger: p.log})
		if err != nil {
			return nil, err
		}
		p.images = s
	}
	return p, nil
}

// Capabilities reports what the LXC provider can do.
func (p *Provider) Capabilities() providers.Capabilities {
	return providers.Capabilities{Name: "lxc", BuildsImages: p.builder != nil, SharedKernel: true}
}

// Check reports whether LXC is usable: the lxc-* tools installed, running as root, and the
// bridge up. The error wraps providers.ErrUnavailable and says what to install or run.
func (p *Provider) Check() error {
	for _, tool := range []string{"lxc-start", "lxc-attach", "lxc-info", "lxc-stop"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found: install LXC 5 (apt-get install lxc)", providers.ErrUnavailable, tool)
		}
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: the lxc provider runs privileged containers and needs root", providers.ErrUnavailable)
	}
	if _, _, err := p.bridgeNet(); err != nil {
		return err
	}
	p.warnOnce.Do(p.warnForwarding)
	return nil
}

// warnForwarding logs how to fix a host firewall that drops the bridge's forwarded traffic:
// the Docker engine sets the FORWARD policy to DROP, which cuts LXC containers off the
// network beyond the host (lxc-net's own nftables accept rules do not override it).
func (p *Provider) warnForwarding() {
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if err != nil || !strings.Contains(string(out), "-P FORWARD DROP") {
		return
	}
	user, _ := exec.Command("iptables", "-S", "DOCKER-USER").Output()
	if strings.Contains(string(user), p.bridge) {
		return
	}
	p.log.Warn("the host firewall drops forwarded traffic (FORWARD policy DROP, set by Docker): LXC containers cannot reach beyond the host; allow the bridge with iptables -I DOCKER-USER -i "+p.bridge+" -j ACCEPT && iptables -I DOCKER-USER -o "+p.bridge+" -j ACCEPT",
		"bridge", p.bridge)
}

// ensureDirs creates the provider's folders.
func (p *Provider) ensureDirs() error {
	for _, d := range []string{p.lxcpath, filepath.Join(p.state, "volumes"), p.addrDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("lxc provider state: %w", err)
		}
	}
	return nil
}

// bridgeNet returns the bridge's IPv4 address and network.
func (p *Provider) bridgeNet() (net.IP, *net.IPNet, error) {
	hint := "start it with /usr/libexec/lxc/lxc-net start (apt-get install lxc), or choose another bridge"
	ifc, err := net.InterfaceByName(p.bridge)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bridge %s: %v: %s", providers.ErrUnavailable, p.bridge, err, hint)
	}
	if ifc.Flags&net.FlagUp == 0 {
		return nil, nil, fmt.Errorf("%w: bridge %s is down: %s", providers.ErrUnavailable, p.bridge, hint)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: bridge %s: %v", providers.ErrUnavailable, p.bridge, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.To4(), &net.IPNet{IP: n.IP.Mask(n.Mask).To4(), Mask: n.Mask}, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: bridge %s has no IPv4 address: %s", providers.ErrUnavailable, p.bridge, hint)
}

// lxc runs an lxc-* tool on a container of this provider's lxcpath and returns its stdout.
// The error carries the tool's stderr.
func (p *Provider) lxc(ctx context.Context, tool, name string, args ...string) (string, error) {
	argv := append([]string{"-P", p.lxcpath, "-n", name}, args...)
	cmd := exec.CommandContext(ctx, tool, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("%w: %s not found: install LXC 5 (apt-get install lxc)", providers.ErrUnavailable, tool)
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", tool, name, err, msg)
	}
	return stdout.String(), nil
}
