package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// layerApplier applies one layer tar onto a root folder. It remembers what the layer wrote so
// that whiteouts and opaque folders, applied when the layer ends, hide only lower layers.
type layerApplier struct {
	root     string
	asRoot   bool                   // chown and mknod are possible
	written  map[string]bool        // root-relative paths this layer created
	parents  map[string]bool        // folders holding something this layer created
	whiteout []string               // root-relative paths to delete from lower layers
	opaque   []string               // folders whose lower-layer content is hidden
	dirs     map[string]*tar.Header // folders to finish (mode, times) once the layer is done
	skipped  []string               // entries not created (devices without root)
	resolved map[string]string      // root-relative folder -> host folder, for this layer
}

// ApplyLayer applies an uncompressed layer tar onto root: entries are created with their
// numeric owners (when running as root), modes and times, whiteouts (.wh.NAME) delete NAME
// from lower layers and opaque markers (.wh..wh..opq) empty a folder of lower-layer content.
// Nothing is ever written outside root: absolute names, names with "..", hard links leaving
// root and relative symlinks pointing above root are errors wrapping ErrUnsafePath; symlinks
// met on the way are resolved inside root. It returns the names of entries it skipped
// (device nodes when not running as root).
func ApplyLayer(root string, r io.Reader) ([]string, error) {
	a := &layerApplier{
		root:     root,
		asRoot:   os.Geteuid() == 0,
		written:  map[string]bool{},
		parents:  map[string]bool{},
		dirs:     map[string]*tar.Header{},
		resolved: map[string]string{},
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a.skipped, fmt.Errorf("read layer: %w", err)
		}
		if err := a.entry(hdr, tr); err != nil {
			return a.skipped, fmt.Errorf("layer entry %s: %w", hdr.Name, err)
		}
	}
	if err := a.finish(); err != nil {
		return a.skipped, err
	}
	return a.skipped, nil
}

func (a *layerApplier) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	rel, err := cleanEntryName(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil // the root folder's own metadata is not the image's to change
	}
	dir, base := path.Split(rel)
	if base == opaqueMarker {
		a.opaque = append(a.opaque, path.Clean(dir))
		return nil
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		a.whiteout = append(a.whiteout, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
		return nil
	}
	parent, err := a.parentDir(path.Dir(rel))
	if err != nil {
		return err
	}
	dst := filepath.Join(parent, base)
	key := a.key(dst)
	if fi, err := os.Lstat(dst); err == nil && (fi.Mode()&os.ModeSymlink != 0 || fi.IsDir() && hdr.Typeflag != tar.TypeDir) {
		a.resolved = map[string]string{} // a folder or symlink is replaced: cached paths may run through it
	}
	if err := a.create(hdr, rel, dst, r); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		a.resolved[rel] = dst
	}
	a.markWritten(key)
	return nil
}

// parentDir returns the host folder for the root-relative folder rel, creating it when
// missing. Resolved folders are cached for the layer: they hold no symlink, and the cache is
// dropped whenever a folder is replaced by something else.
func (a *layerApplier) parentDir(rel string) (string, error) {
	if rel == "." {
		return a.root, nil
	}
	if host, ok := a.resolved[rel]; ok {
		return host, nil
	}
	host, err := resolveInRoot(a.root, rel, true)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(host, 0o755); err != nil {
		return "", err
	}
	a.resolved[rel] = host
	return host, nil
}

// create makes the file system object for hdr at dst (its parent exists and holds no symlink).
func (a *layerApplier) create(hdr *tar.Header, rel, dst string, r io.Reader) error {
	existing, lerr := os.Lstat(dst)
	exists := lerr == nil
	if hdr.Typeflag == tar.TypeDir {
		if exists && !existing.IsDir() {
			if err := os.Remove(dst); err != nil {
				return err
			}
			exists = false
		}
		if !exists {
			if err := os.Mkdir(dst, 0o700); err != nil {
				return err
			}
		}
		a.dirs[dst] = hdr
		return a.owner(dst, hdr)
	}
	if exists {
		// Never write through an existing file: it may be a hard link shared with
		// another path, and a folder is replaced with all it holds.
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA:
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if symlinkEscapes(rel, hdr.Linkname) {
			return fmt.Errorf("%w: symlink to %q leaves the root", ErrUnsafePath, hdr.Linkname)
		}
		if err := os.Symlink(hdr.Linkname, dst); err != nil {
			return err
		}
		if err := a.owner(dst, hdr); err != nil {
			return err
		}
		return a.times(dst, hdr)
	case tar.TypeLink:
		target, err := cleanEntryName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hard link target: %w", err)
		}
		src, err := resolveInRoot(a.root, target, false)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(src)
		if err != nil {
			return fmt.Errorf("hard link target %s: %w", hdr.Linkname, err)
		}
		if fi.IsDir() {
			return fmt.Errorf("hard link to folder %s", hdr.Linkname)
		}
		return os.Link(src, dst) // a hard link shares the target's owner, mode and times
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !a.asRoot && hdr.Typeflag != tar.TypeFifo {
			a.skipped = append(a.skipped, rel)
			return nil
		}
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(dst, mode, int(dev)); err != nil {
			if errors.Is(err, unix.EPERM) {
				a.skipped = append(a.skipped, rel)
				return nil
			}
			return fmt.Errorf("mknod: %w", err)
		}
	default:
		a.skipped = append(a.skipped, rel)
		return nil
	}
	if err := a.owner(dst, hdr); err != nil {
		return err
	}
	if err := a.xattrs(dst, hdr); err != nil {
		return err
	}
	// chmod after chown: chown clears the setuid and setgid bits.
	if err := unix.Chmod(dst, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	return a.times(dst, hdr)
}

// owner sets the numeric owner when running as root.
func (a *layerApplier) owner(dst string, hdr *tar.Header) error {
	if !a.asRoot {
		return nil
	}
	return os.Lchown(dst, hdr.Uid, hdr.Gid)
}

// xattrs copies extended attributes (security.capability and others) where the file system
// takes them; user-visible failures are limited to what the kernel refuses for root too.
func (a *layerApplier) xattrs(dst string, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(dst, name, []byte(v), 0); err != nil &&
			!errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("set xattr %s: %w", name, err)
		}
	}
	return nil
}

func (a *layerApplier) times(dst string, hdr *tar.Header) error {
	mt := unix.NsecToTimespec(hdr.ModTime.UnixNano())
	at := mt
	if !hdr.AccessTime.IsZero() {
		at = unix.NsecToTimespec(hdr.AccessTime.UnixNano())
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, []unix.Timespec{at, mt}, unix.AT_SYMLINK_NOFOLLOW)
}

// key is dst relative to the root, slash-separated.
func (a *layerApplier) key(dst string) string {
	rel, _ := filepath.Rel(a.root, dst)
	return filepath.ToSlash(rel)
}

func (a *layerApplier) markWritten(key string) {
	a.written[key] = true
	for d := parentOf(key); d != ""; d = parentOf(d) {
		a.parents[d] = true
	}
	a.parents["."] = true
}

// finish applies the layer's whiteouts and opaque folders, then the folders' modes and times
// (deepest first, since creating entries changed them).
func (a *layerApplier) finish() error {
	for _, dir := range a.opaque {
		host, err := resolveInRoot(a.root, dir, true)
		if err != nil {
			return fmt.Errorf("opaque folder %s: %w", dir, err)
		}
		entries, err := os.ReadDir(host)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("opaque folder %s: %w", dir, err)
		}
		for _, e := range entries {
			if err := a.pruneLower(filepath.Join(host, e.Name())); err != nil {
				return fmt.Errorf("opaque folder %s: %w", dir, err)
			}
		}
	}
	for _, wh := range a.whiteout {
		host, err := resolveInRoot(a.root, wh, false)
		if err != nil {
			return fmt.Errorf("whiteout %s: %w", wh, err)
		}
		if err := a.pruneLower(host); err != nil {
			return fmt.Errorf("whiteout %s: %w", wh, err)
		}
	}
	dirs := make([]string, 0, len(a.dirs))
	for d := range a.dirs {
		dirs = append(dirs, d)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		hdr := a.dirs[d]
		if err := a.xattrs(d, hdr); err != nil {
			return err
		}
		if err := unix.Chmod(d, uint32(hdr.Mode&0o7777)); err != nil {
			return err
		}
		if err := a.times(d, hdr); err != nil {
			return err
		}
	}
	return nil
}

// pruneLower deletes host (a path inside the root) and everything below it that this layer
// did not write itself.
func (a *layerApplier) pruneLower(host string) error {
	key := a.key(host)
	fi, err := os.Lstat(host)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !a.written[key] && !a.parents[key] {
		return os.RemoveAll(host)
	}
	if !fi.IsDir() {
		return nil
	}
	entries, err := os.ReadDir(host)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := a.pruneLower(filepath.Join(host, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
