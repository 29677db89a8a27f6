package features

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CollectionFile is the collection metadata written next to packaged features.
const CollectionFile = "devcontainer-collection.json"

// Packaged is one packaged feature.
type Packaged struct {
	ID      string
	Version string
	// Archive is devcontainer-feature-<id>.tgz: a plain (uncompressed) tar despite its name,
	// as the reference writes it.
	Archive   string
	LegacyIDs []string
	// Metadata is devcontainer-feature.json as packaged (with currentId added when the
	// feature has legacyIds), key order kept.
	Metadata *Metadata
	doc      *object
}

// Package packages a feature folder (with devcontainer-feature.json) or a collection folder
// (whose sub-folders are features) into outDir: one devcontainer-feature-<id>.tgz each and a
// devcontainer-collection.json listing their metadata.
func Package(dir, outDir string) ([]Packaged, error) {
	var dirs []string
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err == nil {
		dirs = []string{dir}
	} else {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("package %s: %w", dir, err)
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, e.Name(), MetadataFile)); err == nil {
				dirs = append(dirs, filepath.Join(dir, e.Name()))
			}
		}
		if len(dirs) == 0 {
			return nil, fmt.Errorf("package %s: no %s in it or in its sub-folders", dir, MetadataFile)
		}
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	var out []Packaged
	var metas []any
	for _, d := range dirs {
		p, err := packageOne(d, outDir)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
		metas = append(metas, p.doc)
	}
	coll := newObject()
	src := newObject()
	src.set("source", "mochi")
	coll.set("sourceInformation", src)
	coll.set("features", metas)
	if err := os.WriteFile(filepath.Join(outDir, CollectionFile), []byte(stringify(coll, 4)), 0o644); err != nil {
		return nil, fmt.Errorf("package: %w", err)
	}
	return out, nil
}

func packageOne(dir, outDir string) (Packaged, error) {
	file := filepath.Join(dir, MetadataFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return Packaged{}, fmt.Errorf("package %s: %w", dir, err)
	}
	m, err := ParseMetadata(file, data)
	if err != nil {
		return Packaged{}, fmt.Errorf("package %s: %w", dir, err)
	}
	if m.Version == "" || m.Name == "" {
		return Packaged{}, fmt.Errorf("package %s: %w: %s: properties \"id\", \"version\" and \"name\" are required", dir, ErrInvalidMetadata, file)
	}
	if st, err := os.Stat(filepath.Join(dir, "install.sh")); err != nil || !st.Mode().IsRegular() {
		return Packaged{}, fmt.Errorf("package %s: feature %q has no install.sh", dir, m.ID)
	}
	overrides := map[string][]byte{}
	if len(m.LegacyIDs) > 0 {
		// The reference records the current id for renamed features.
		m.doc.set("currentId", m.ID)
		m.CurrentID = m.ID
		overrides[MetadataFile] = []byte(stringify(m.doc, 4))
	}
	var buf bytes.Buffer
	if err := tarFolder(&buf, dir, overrides); err != nil {
		return Packaged{}, fmt.Errorf("package %s: %w", dir, err)
	}
	archive := filepath.Join(outDir, "devcontainer-feature-"+m.ID+".tgz")
	if err := os.WriteFile(archive, buf.Bytes(), 0o644); err != nil {
		return Packaged{}, fmt.Errorf("package %s: %w", dir, err)
	}
	return Packaged{ID: m.ID, Version: m.Version, Archive: archive, LegacyIDs: m.LegacyIDs, Metadata: m, doc: m.doc}, nil
}

// tarFolder writes dir as a tar whose entries start with "./", deterministically; overrides
// replace the content of files (by slash path relative to dir).
func tarFolder(buf *bytes.Buffer, dir string, overrides map[string][]byte) error {
	var rels []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(rels)
	tw := tar.NewWriter(buf)
	for _, rel := range rels {
		name := "./" + rel
		if rel == "." {
			name = "." // written as "./"
		}
		e := contextEntry{hostPath: filepath.Join(dir, filepath.FromSlash(rel))}
		if st, err := os.Lstat(e.hostPath); err == nil && st.IsDir() {
			e.isDir = true
		}
		if data, ok := overrides[rel]; ok {
			e = contextEntry{data: data}
		}
		if err := writeContextEntry(tw, name, e); err != nil {
			return err
		}
	}
	return tw.Close()
}
