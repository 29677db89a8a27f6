package lxc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/image"
	"github.com/mochi-dev/mochi/internal/flock"
	"github.com/mochi-dev/mochi/providers"
)

// Create creates (does not start) a container from spec. What it made is removed again when
// it fails.
func (p *Provider) Create(ctx context.Context, spec providers.CreateSpec) (inst *providers.Instance, err error) {
	if spec.Image == "" {
		return nil, errors.New("create container: no image given")
	}
	s, err := newSettings(spec)
	if err != nil {
		return nil, fmt.Errorf("create container from %s: %w", spec.Image, err)
	}
	if s.name == "" {
		s.name = "mochi-" + randomHex(6)
	}
	if !validName.MatchString(s.name) {
		return nil, fmt.Errorf("create container %q: a name has letters, digits, _ . - only", s.name)
	}
	if err := p.Check(); err != nil {
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}
	if err := p.ensureDirs(); err != nil {
		return nil, err
	}
	img, err := p.images.Lookup(ctx, spec.Image)
	if err != nil {
		if errors.Is(err, image.ErrNotFound) {
			return nil, fmt.Errorf("create container %s: image %s: %w (build or pull it first: the lxc provider looks in the local docker engine and in images pulled before)", s.name, spec.Image, providers.ErrNotFound)
		}
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}
	lower, err := p.images.Rootfs(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}

	dir := p.dir(s.name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create container %s: the name is in use", s.name)
		}
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}
	// Like a Docker container, the instance carries its image's labels (devcontainer.metadata
	// among them) under the ones given.
	labels := map[string]string{}
	for k, v := range img.Config.Config.Labels {
		labels[k] = v
	}
	for k, v := range s.labels {
		labels[k] = v
	}
	rec := &record{Name: s.name, Labels: labels, Image: spec.Image, ImageID: img.ID, WorkingDir: img.Config.Config.WorkingDir}
	defer func() {
		if err != nil {
			p.cleanupFailedCreate(rec)
		}
	}()
	if err := p.build(ctx, rec, s, spec, img, lower); err != nil {
		return nil, fmt.Errorf("create container %s: %w", s.name, err)
	}
	return p.Inspect(ctx, s.name)
}

// build fills the container folder: root file system, files, LXC config and record.
func (p *Provider) build(ctx context.Context, rec *record, s *settings, spec providers.CreateSpec, img *image.Image, lower string) error {
	dir := p.dir(rec.Name)
	rootfsValue, upper, err := p.makeRootfs(ctx, dir, lower)
	if err != nil {
		return err
	}
	cfgRoot := lower // where the image's passwd is read
	if upper == filepath.Join(dir, "rootfs") {
		cfgRoot = upper
	}
	rec.Env = mergeEnv(img.Config.Config.Env, s.env)
	rec.User = s.user
	if rec.User == "" {
		rec.User = img.Config.Config.User
	}
	acc, err := resolveUser(cfgRoot, rec.User)
	if err != nil {
		return err
	}
	rec.Init = append(append([]string{}, orDefault(spec.Entrypoint, img.Config.Config.Entrypoint)...), orDefault(spec.Cmd, img.Config.Config.Cmd)...)
	if spec.Entrypoint != nil && spec.Cmd == nil {
		rec.Init = append([]string{}, spec.Entrypoint...) // a new entrypoint drops the image's cmd
	}
	if len(rec.Init) == 0 {
		return errors.New("the image has no entrypoint or command and the spec gives none")
	}
	if rec.Ports, err = parsePorts(s.ports); err != nil {
		return err
	}
	mounts, err := p.resolveMounts(rec, s.mounts)
	if err != nil {
		return err
	}
	if spec.AgentPath != "" {
		if _, err := os.Stat(spec.AgentPath); err != nil {
			return fmt.Errorf("agent binary: %w", err)
		}
		mounts = append(mounts, mountEntry{spec.AgentPath, strings.TrimPrefix(providers.AgentTarget, "/"), "none", []string{"bind", "ro", "create=file"}})
	}

	bridgeIP, network, err := p.bridgeNet()
	if err != nil {
		return err
	}
	lock, err := flock.Acquire(ctx, filepath.Join(p.addrDir, ".lock"))
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if rec.IP, err = p.allocateIP(bridgeIP, network, dir); err != nil {
		return err
	}
	prefix, _ := network.Mask.Size()
	rec.Hostname = s.hostname
	if rec.Hostname == "" {
		rec.Hostname = hostnameFor(rec.Name)
	}
	for rel, content := range map[string]string{
		"etc/hosts":       hostsFile(rec.IP, rec.Hostname, s.extraHosts, bridgeIP.String()),
		"etc/hostname":    rec.Hostname + "\n",
		"etc/resolv.conf": p.resolvConf(bridgeIP),
	} {
		if err := writeRootFile(upper, lower, rel, content); err != nil {
			return err
		}
	}
	cwd := rec.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	cfg := &lxcConfig{
		rootfs: rootfsValue, hostname: rec.Hostname, bridge: p.bridge,
		address: fmt.Sprintf("%s/%d %s", rec.IP, prefix, broadcast(network)), gateway: bridgeIP.String(),
		env: mergeEnv([]string{defaultPath}, rec.Env), uid: acc.uid, gid: acc.gid, cwd: cwd, mounts: mounts,
		privileged: s.privileged, capAdd: s.capAdd, consoleLog: filepath.Join(dir, "console.log"),
	}
	text, err := cfg.render()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(text), 0o600); err != nil {
		return err
	}
	rec.Created = time.Now().UTC().Format(time.RFC3339Nano)
	return p.save(rec)
}

// makeRootfs prepares the container's root: an overlay upper folder over lower, or a full
// copy of lower where overlayfs is not available. It returns the lxc.rootfs.path value and
// the folder the container's own files go to.
func (p *Provider) makeRootfs(ctx context.Context, dir, lower string) (string, string, error) {
	if overlayAvailable() {
		upper := filepath.Join(dir, "delta")
		if err := os.Mkdir(upper, 0o755); err != nil {
			return "", "", err
		}
		return "overlay:" + lower + ":" + upper, upper, nil
	}
	p.log.Info("overlayfs not available: copying the image's root", "container", filepath.Base(dir))
	root := filepath.Join(dir, "rootfs")
	if out, err := exec.CommandContext(ctx, "cp", "-a", lower, root).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("copy image root: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return "dir:" + root, root, nil
}

func overlayAvailable() bool {
	b, err := os.ReadFile("/proc/filesystems")
	return err == nil && strings.Contains(string(b), "\toverlay\n")
}

// writeRootFile writes rel (a file under etc/) into the container's own layer. Parent folders
// created in an overlay upper take the owner and mode of the image's folder, since the upper
// folder's attributes win in the merged view. A symlinked folder in the way is an error.
func writeRootFile(upper, lower, rel, content string) error {
	parts := strings.Split(filepath.Dir(rel), "/")
	for i := range parts {
		sub := filepath.Join(parts[:i+1]...)
		ref, err := os.Lstat(filepath.Join(lower, sub))
		if err == nil && !ref.IsDir() {
			return fmt.Errorf("write /%s: /%s in the image is not a folder", rel, sub)
		}
		dst := filepath.Join(upper, sub)
		if fi, err := os.Lstat(dst); err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("write /%s: /%s is not a folder", rel, sub)
			}
			continue
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
		if ref != nil {
			if err := copyOwnerMode(ref, dst); err != nil {
				return err
			}
		}
	}
	dst := filepath.Join(upper, rel)
	if fi, err := os.Lstat(dst); err == nil && !fi.Mode().IsRegular() {
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	return os.WriteFile(dst, []byte(content), 0o644)
}

// cleanupFailedCreate removes what a failed Create made.
func (p *Provider) cleanupFailedCreate(rec *record) {
	p.releaseIP(rec.IP, p.dir(rec.Name))
	if err := os.RemoveAll(p.dir(rec.Name)); err != nil {
		p.log.Warn("remove folder of failed container", "container", rec.Name, "err", err)
	}
	p.removeVolumes(rec.AnonVolumes)
}

// mergeEnv overlays KEY=VALUE lists, later keys replacing earlier ones in place.
func mergeEnv(lists ...[]string) []string {
	var out []string
	index := map[string]int{}
	for _, l := range lists {
		for _, kv := range l {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func orDefault(v, def []string) []string {
	if v != nil {
		return v
	}
	return def
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
