package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// An image built on another one shares its first layers. Its root then starts as a
// hard-linked clone of the cached root of the image with the longest such run of layers, and
// only the layers after it are applied: ApplyLayer never writes through an existing file (it
// replaces it), so the shared files of the cached root never change. A rebuilt Dockerfile on
// a large base costs the new layers, not the base again.

// layersFile lists, in an image's cache folder, the diff ids of the layers its root was made of.
const layersFile = "layers.json"

// findBase returns the cached root whose layers are the longest run of diffIDs' first layers,
// and how many layers that is ("" and 0 when none shares the first layer). except is the
// cache folder of the image being extracted.
func (s *Store) findBase(diffIDs []string, except string) (string, int) {
	entries, err := os.ReadDir(s.dir)
	if err != nil || len(diffIDs) == 0 {
		return "", 0
	}
	best, bestN := "", 0
	for _, e := range entries {
		dir := filepath.Join(s.dir, e.Name())
		if !e.IsDir() || dir == except {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, layersFile))
		if err != nil {
			continue
		}
		var ids []string
		if json.Unmarshal(b, &ids) != nil || len(ids) <= bestN || len(ids) > len(diffIDs) || !slices.Equal(ids, diffIDs[:len(ids)]) {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "rootfs")); err != nil {
			continue
		}
		best, bestN = filepath.Join(dir, "rootfs"), len(ids)
	}
	return best, bestN
}

// cloneTree fills the empty folder dst with a copy of src in which folders are new and
// everything else is a hard link to src's (cp -al keeps owners, modes, times and xattrs).
func cloneTree(ctx context.Context, src, dst string) error {
	cmd := exec.CommandContext(ctx, "cp", "-al", "--", src+"/.", dst+"/")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("clone %s: %w: %s", src, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// writeLayers records the diff ids of the layers a root was made of.
func writeLayers(dir string, diffIDs []string) error {
	b, err := json.Marshal(diffIDs)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, layersFile), b, 0o644)
}
