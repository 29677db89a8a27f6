package features

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// cache is the content-addressed feature store under the resolver's CacheDir:
//
//	manifests/sha256/<hex>   OCI manifests by digest
//	features/sha256/<hex>/   extracted feature folders by archive digest (OCI layer or tarball)
//	tags/<registry>/<path>/<tag>   last digest seen for a tag (offline use without a lockfile)
//	urls/<sha256 of url>     last digest seen for a tarball URL
//	tmp/                     staging for atomic writes
type cache struct{ root string }

var digestRe = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

func validDigest(d string) error {
	if !digestRe.MatchString(d) {
		return fmt.Errorf("%w: %q is not a sha256 digest", ErrDigestMismatch, d)
	}
	return nil
}

func digestOf(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (c cache) byDigest(kind, d string) string {
	return filepath.Join(c.root, kind, "sha256", strings.TrimPrefix(d, "sha256:"))
}

func (c cache) manifest(d string) ([]byte, bool) {
	if validDigest(d) != nil {
		return nil, false
	}
	data, err := os.ReadFile(c.byDigest("manifests", d))
	if err != nil || digestOf(data) != d {
		return nil, false
	}
	return data, true
}

func (c cache) putManifest(data []byte) (string, error) {
	d := digestOf(data)
	return d, c.writeAtomic(c.byDigest("manifests", d), data)
}

// featureDir returns the extracted folder for an archive digest if it is complete.
func (c cache) featureDir(d string) (string, bool) {
	if validDigest(d) != nil {
		return "", false
	}
	dir := c.byDigest("features", d)
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err != nil {
		return "", false
	}
	return dir, true
}

// putArchive verifies data against want (if set), extracts it and returns the folder and the
// archive's digest. Extraction happens in tmp/ and is renamed into place, so a folder in
// features/ is always complete.
func (c cache) putArchive(data []byte, want string) (string, string, error) {
	d := digestOf(data)
	if want != "" && d != want {
		return "", "", fmt.Errorf("%w: got %s, want %s", ErrDigestMismatch, d, want)
	}
	if dir, ok := c.featureDir(d); ok {
		return dir, d, nil
	}
	tmp, err := c.tempDir()
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	stage := filepath.Join(tmp, "x")
	if err := extractArchive(bytes.NewReader(data), stage); err != nil {
		return "", "", err
	}
	final := c.byDigest("features", d)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", "", err
	}
	if err := os.Rename(stage, final); err != nil {
		if _, ok := c.featureDir(d); ok { // another process won the race
			return final, d, nil
		}
		if errors.Is(err, fs.ErrExist) || isNotEmpty(err) {
			// A leftover incomplete folder: replace it.
			if rmErr := os.RemoveAll(final); rmErr == nil {
				err = os.Rename(stage, final)
			}
		}
		if err != nil {
			return "", "", fmt.Errorf("store feature %s: %w", d, err)
		}
	}
	return final, d, nil
}

func isNotEmpty(err error) bool {
	return err != nil && strings.Contains(err.Error(), "directory not empty")
}

func (c cache) tagFile(r Ref) string {
	return filepath.Join(c.root, "tags", safeName(r.Registry), filepath.FromSlash(r.Path), safeName(r.Tag))
}

func (c cache) urlFile(u string) string {
	return filepath.Join(c.root, "urls", strings.TrimPrefix(digestOf([]byte(u)), "sha256:"))
}

// safeName keeps a path element from naming a parent folder.
func safeName(s string) string {
	if s == "" || s == "." || s == ".." {
		return "_" + s
	}
	return strings.ReplaceAll(s, "/", "_")
}

// pointer reads a small file holding a digest.
func (c cache) pointer(file string) (string, bool) {
	data, err := os.ReadFile(file)
	d := strings.TrimSpace(string(data))
	if err != nil || validDigest(d) != nil {
		return "", false
	}
	return d, true
}

func (c cache) setPointer(file, d string) error { return c.writeAtomic(file, []byte(d+"\n")) }

func (c cache) tempDir() (string, error) {
	base := filepath.Join(c.root, "tmp")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(base, "stage-")
}

func (c cache) writeAtomic(file string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), ".tmp-*")
	if err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if _, err := io.Copy(f, bytes.NewReader(data)); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), file); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
