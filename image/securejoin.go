package image

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxLinks bounds the symlinks followed while resolving one path (like the kernel's ELOOP).
const maxLinks = 255

// cleanEntryName turns a tar entry name into a clean relative path, rejecting absolute
// names and names that climb out of the root. "." is returned for the root itself.
func cleanEntryName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%w: empty entry name", ErrUnsafePath)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: absolute entry name %q", ErrUnsafePath, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("%w: entry name %q contains ..", ErrUnsafePath, name)
		}
	}
	return path.Clean(name), nil
}

// resolveInRoot returns the host path of rel inside root, with every symlink met on the way
// resolved as if root were "/" (absolute targets restart at root, ".." stops at root), so the
// result never leaves root. The last component is followed only when followLast is set.
// Components that do not exist yet are taken literally.
func resolveInRoot(root, rel string, followLast bool) (string, error) {
	pending := splitPath(rel)
	resolved := ""
	links := 0
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = parentOf(resolved)
			continue
		}
		next := path.Join(resolved, part)
		if len(pending) == 0 && !followLast {
			resolved = next
			break
		}
		fi, err := os.Lstat(filepath.Join(root, next))
		if errors.Is(err, os.ErrNotExist) || (err == nil && fi.Mode()&os.ModeSymlink == 0) {
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		links++
		if links > maxLinks {
			return "", fmt.Errorf("%w: too many symlinks resolving %q", ErrUnsafePath, rel)
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			resolved = ""
		}
		pending = append(splitPath(target), pending...)
	}
	return filepath.Join(root, filepath.FromSlash(resolved)), nil
}

func splitPath(p string) []string { return strings.Split(p, "/") }

// parentOf is path.Dir for a root-relative path, where the root's parent is the root.
func parentOf(p string) string {
	d := path.Dir(p)
	if d == "." || d == "/" {
		return ""
	}
	return d
}

// symlinkEscapes reports whether a relative symlink target, taken from the folder of the
// link at rel, climbs above the root. Absolute targets never do: they are resolved inside
// the container's root.
func symlinkEscapes(rel, target string) bool {
	if path.IsAbs(target) {
		return false
	}
	joined := path.Join(path.Dir(rel), target)
	return joined == ".." || strings.HasPrefix(joined, "../")
}
