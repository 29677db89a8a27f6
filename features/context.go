package features

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// contextTime is the modification time of every entry WriteTar writes, so the same inputs give
// the same bytes and Docker's COPY cache keys do not change between builds.
var contextTime = time.Unix(0, 0).UTC()

type contextEntry struct {
	hostPath string // file or folder on the host; empty for generated content
	data     []byte
	isDir    bool
}

// entries lists every path of the build context: the folders' contents (symlinks kept as
// links, never followed) overlaid with the generated files.
func (bc *BuildContext) entries() (map[string]contextEntry, error) {
	out := map[string]contextEntry{}
	addParents := func(p string) {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := out[d]; !ok {
				out[d] = contextEntry{isDir: true}
			}
		}
	}
	for _, ctxPath := range sortedKeys(bc.Dirs) {
		root := bc.Dirs[ctxPath]
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			cp := path.Join(ctxPath, filepath.ToSlash(rel))
			if cp == "." {
				return nil // the context root itself (a folder added under "")
			}
			out[cp] = contextEntry{hostPath: p, isDir: d.IsDir()}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read feature folder %s: %w", root, err)
		}
		addParents(path.Join(ctxPath, "x"))
	}
	for p, data := range bc.Files {
		out[p] = contextEntry{data: data}
		addParents(p)
	}
	return out, nil
}

// WriteTar writes the build context as a tar stream (what the Docker API's image build takes),
// deterministically: sorted paths, fixed times, owner 0:0. To build a user's Dockerfile with
// features, add the user's context folder to Dirs under "" (the root of the context) and pass
// its Dockerfile as DockerfileOptions.Prefix; .dockerignore is not applied.
func (bc *BuildContext) WriteTar(w io.Writer) error {
	ents, err := bc.entries()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(ents))
	for p := range ents {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	tw := tar.NewWriter(w)
	for _, p := range paths {
		if err := writeContextEntry(tw, p, ents[p]); err != nil {
			return fmt.Errorf("write build context %s: %w", p, err)
		}
	}
	return tw.Close()
}

func writeContextEntry(tw *tar.Writer, p string, e contextEntry) error {
	h := &tar.Header{Name: p, ModTime: contextTime, Format: tar.FormatPAX, Mode: 0o644, Typeflag: tar.TypeReg}
	switch {
	case e.isDir:
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, p+"/", 0o755
		return tw.WriteHeader(h)
	case e.hostPath == "":
		h.Size = int64(len(e.data))
		if strings.HasSuffix(p, ".sh") {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.data)
		return err
	}
	st, err := os.Lstat(e.hostPath)
	if err != nil {
		return err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(e.hostPath)
		if err != nil {
			return err
		}
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, target, 0o777
		return tw.WriteHeader(h)
	case st.Mode().IsRegular():
		h.Mode = int64(st.Mode().Perm())
		h.Size = st.Size()
		f, err := os.Open(e.hostPath)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, h.Size)
		return err
	}
	return nil // sockets, devices: not part of a feature
}
