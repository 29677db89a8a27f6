package docker

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// extraModTime is the modification time of generated context entries, fixed so that the
// builder's cache sees identical content as unchanged.
var extraModTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// buildContext describes the tar stream sent to the builder.
type buildContext struct {
	dir string
	// keep are context paths sent even when .dockerignore excludes them (the Dockerfile).
	keep       []string
	extraFiles map[string][]byte
	extraDirs  map[string]string
}

// write streams the context as a tar: the context folder filtered by its .dockerignore, then
// the extra folders and files, which replace context entries at the same paths.
func (bc *buildContext) write(w io.Writer) error {
	tw := tar.NewWriter(w)
	shadowed := func(rel string) bool {
		for k := range bc.extraFiles {
			if rel == cleanRel(k) {
				return true
			}
		}
		for k := range bc.extraDirs {
			k = cleanRel(k)
			if rel == k || strings.HasPrefix(rel, k+"/") {
				return true
			}
		}
		return false
	}
	if bc.dir != "" {
		pm, err := readDockerignore(bc.dir)
		if err != nil {
			return err
		}
		keep := map[string]bool{".dockerignore": true}
		for _, k := range bc.keep {
			keep[cleanRel(k)] = true
		}
		err = addTree(tw, bc.dir, "", func(rel string, isDir bool) (bool, bool, error) {
			if shadowed(rel) {
				return false, isDir, nil
			}
			if keep[rel] || pm == nil {
				return true, false, nil
			}
			ex, err := pm.MatchesOrParentMatches(rel)
			if err != nil {
				return false, false, fmt.Errorf(".dockerignore: %w", err)
			}
			// An excluded folder is still walked when some pattern re-includes paths.
			return !ex, ex && isDir && !pm.Exclusions(), nil
		})
		if err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(bc.extraDirs) {
		prefix := cleanRel(k)
		if err := addParents(tw, prefix+"/_"); err != nil { // the folder and its parents
			return err
		}
		if err := addTree(tw, bc.extraDirs[k], prefix, nil); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(bc.extraFiles) {
		rel := cleanRel(k)
		if err := addParents(tw, rel); err != nil {
			return err
		}
		data := bc.extraFiles[k]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: 0o644, Size: int64(len(data)), ModTime: extraModTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

func readDockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return pm, nil
}

// addTree adds the tree under root to tw, naming entries prefix/rel. filter, when set, says
// whether to include an entry and whether to skip a folder's contents.
func addTree(tw *tar.Writer, root, prefix string, filter func(rel string, isDir bool) (include, skip bool, err error)) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("build context: %w", err)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if filter != nil {
			include, skip, err := filter(rel, d.IsDir())
			if err != nil {
				return err
			}
			if skip {
				return filepath.SkipDir
			}
			if !include {
				return nil
			}
		}
		return addEntry(tw, p, path.Join(prefix, rel), d)
	})
}

// addEntry adds one file, folder or symlink; other file types are skipped.
func addEntry(tw *tar.Writer, p, name string, d fs.DirEntry) error {
	info, err := d.Info()
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return fmt.Errorf("build context: %w", err)
		}
	} else if !info.Mode().IsRegular() && !info.IsDir() {
		return nil
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return fmt.Errorf("build context %s: %w", p, err)
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("build context: %w", err)
	}
	defer f.Close()
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		return fmt.Errorf("build context %s: %w", p, err)
	}
	return nil
}

// addParents adds folder entries for the parents of rel so that they get a sane mode.
func addParents(tw *tar.Writer, rel string) error {
	var dirs []string
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	for _, d := range dirs {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: extraModTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return nil
}

func cleanRel(p string) string { return strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(p)), "/") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
