package lxc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mochi-dev/mochi/providers"
)

// volumeDir is the host folder holding a named volume's data.
func (p *Provider) volumeDir(name string) string {
	return filepath.Join(p.state, "volumes", name, "_data")
}

// resolveMounts names anonymous volumes, creates volume folders and checks bind sources,
// recording the mounts (with volume names) in rec, and returns the LXC mount entries.
func (p *Provider) resolveMounts(rec *record, mounts []providers.Mount) ([]mountEntry, error) {
	for i, m := range mounts {
		if m.Type != "volume" {
			continue
		}
		if m.Source == "" {
			m.Source = randomHex(32)
			rec.AnonVolumes = append(rec.AnonVolumes, m.Source)
		}
		if !validName.MatchString(m.Source) {
			return nil, fmt.Errorf("volume %q: a name has letters, digits, _ . - only", m.Source)
		}
		dir := p.volumeDir(m.Source)
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			if m.External {
				return nil, fmt.Errorf("external volume %s: %w (create it first)", m.Source, providers.ErrNotFound)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("create volume %s: %w", m.Source, err)
			}
		}
		mounts[i] = m
	}
	rec.Mounts = mounts
	return mountEntries(mounts, func(m providers.Mount) (string, bool, error) {
		if m.Type == "volume" {
			return p.volumeDir(m.Source), false, nil
		}
		fi, err := os.Stat(m.Source)
		if errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(m.Source, 0o755); err != nil { // like `docker run -v`
				return "", false, fmt.Errorf("bind mount source %s: %w", m.Source, err)
			}
			return m.Source, false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("bind mount source %s: %w", m.Source, err)
		}
		return m.Source, !fi.IsDir(), nil
	})
}

// removeVolumes deletes volumes by name.
func (p *Provider) removeVolumes(names []string) {
	for _, n := range names {
		if err := os.RemoveAll(filepath.Dir(p.volumeDir(n))); err != nil {
			p.log.Warn("remove volume", "volume", n, "err", err)
		}
	}
}

// copyOwnerMode gives dst the owner and permission bits of ref.
func copyOwnerMode(ref os.FileInfo, dst string) error {
	if st, ok := ref.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return os.Chmod(dst, ref.Mode()&(os.ModePerm|os.ModeSetgid|os.ModeSetuid|os.ModeSticky))
}
