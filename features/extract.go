package features

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxArchiveBytes bounds what one feature archive may unpack to.
const maxArchiveBytes = 1 << 30

// extractArchive unpacks a feature archive (plain tar or gzip-compressed tar) into dst, which
// must not exist yet. Entries that would land outside dst are refused: absolute names, names
// with "..", links whose target leaves the folder, and entries below a symlink. Devices and
// FIFOs are refused too. The error names the offending entry.
func extractArchive(r io.Reader, dst string) error {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read gzip: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	links := map[string]bool{} // cleaned names of symlinks written so far
	var total int64
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		name, err := safeEntryName(h.Name)
		if err != nil {
			return err
		}
		if name == "" { // "." or "./"
			continue
		}
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if links[dir] {
				return fmt.Errorf("%w: entry %q: is below the symlink %q", ErrUnsafeArchive, h.Name, dir)
			}
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA:
			total += h.Size
			if total > maxArchiveBytes {
				return fmt.Errorf("%w: archive unpacks to more than %d bytes", ErrUnsafeArchive, maxArchiveBytes)
			}
			if err := writeEntry(target, tr, h.FileInfo().Mode().Perm()); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := checkLinkTarget(h.Name, name, h.Linkname); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
			links[name] = true
		case tar.TypeLink:
			src, err := safeEntryName(h.Linkname)
			if err != nil || src == "" {
				return fmt.Errorf("%w: entry %q: hard link target %q is outside the feature folder", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if links[src] {
				return fmt.Errorf("%w: entry %q: hard link to the symlink %q", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Link(filepath.Join(dst, filepath.FromSlash(src)), target); err != nil {
				return fmt.Errorf("entry %q: %w", h.Name, err)
			}
		case tar.TypeXGlobalHeader, tar.TypeXHeader:
		default:
			return fmt.Errorf("%w: entry %q: unsupported type %q", ErrUnsafeArchive, h.Name, h.Typeflag)
		}
	}
}

// safeEntryName cleans an archive entry name and refuses absolute names and "..".
func safeEntryName(n string) (string, error) {
	s := strings.ReplaceAll(n, `\`, "/")
	if strings.HasPrefix(s, "/") || filepath.IsAbs(n) || (len(s) > 1 && s[1] == ':') {
		return "", fmt.Errorf("%w: entry %q: absolute path", ErrUnsafeArchive, n)
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: entry %q: path escapes the feature folder", ErrUnsafeArchive, n)
		}
	}
	c := path.Clean(s)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// checkLinkTarget refuses a symlink whose target, resolved from the link's folder, leaves the
// feature folder.
func checkLinkTarget(entry, name, target string) error {
	t := strings.ReplaceAll(target, `\`, "/")
	if strings.HasPrefix(t, "/") || filepath.IsAbs(target) {
		return fmt.Errorf("%w: entry %q: symlink to the absolute path %q", ErrUnsafeArchive, entry, target)
	}
	// ".." after a normal element could climb out of a symlinked folder ("link/.."), which a
	// lexical check cannot see: refuse it. Leading ".." elements walk real parent folders.
	normal := false
	for _, part := range strings.Split(t, "/") {
		switch part {
		case "..":
			if normal {
				return fmt.Errorf("%w: entry %q: symlink target %q has \"..\" after a folder name", ErrUnsafeArchive, entry, target)
			}
		case "", ".":
		default:
			normal = true
		}
	}
	joined := path.Join(path.Dir(name), t)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return fmt.Errorf("%w: entry %q: symlink target %q points outside the feature folder", ErrUnsafeArchive, entry, target)
	}
	return nil
}

func writeEntry(target string, r io.Reader, perm os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	// O_EXCL: never write through something that already exists (a link planted earlier).
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
