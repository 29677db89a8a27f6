package workspace

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Record is what mochi remembers about a named workspace, in $MOCHI_HOME/workspaces.
type Record struct {
	Name            string            `json:"name"`
	Folder          string            `json:"folder"`
	ConfigFile      string            `json:"configFile"`
	Provider        string            `json:"provider"`
	ContainerID     string            `json:"containerId"`
	IDLabels        map[string]string `json:"idLabels"`
	RemoteUser      string            `json:"remoteUser"`
	WorkspaceFolder string            `json:"workspaceFolder"`
	// RemoteEnv are the --remote-env values of the last up, for gateway sessions.
	RemoteEnv []string `json:"remoteEnv,omitempty"`
}

// Store keeps workspace records as one JSON file each, written atomically.
type Store struct{ dir string }

// OpenStore opens (creating, owner-only) the record folder under home.
func OpenStore(home string) (*Store, error) {
	dir := filepath.Join(home, "workspaces")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create workspace records folder: %w", err)
	}
	return &Store{dir: dir}, nil
}

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Get returns the record named name, or an error wrapping fs.ErrNotExist.
func (s *Store) Get(name string) (*Record, error) {
	return readRecord[Record](s.dir, name)
}

// readRecord reads dir/NAME.json (a workspace record of either store), or an error wrapping
// fs.ErrNotExist.
func readRecord[T any](dir, name string) (*T, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("workspace name %q: %w", name, fs.ErrNotExist)
	}
	data, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, fmt.Errorf("read workspace %s: %w", name, err)
	}
	var r T
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read workspace %s: %w", name, err)
	}
	return &r, nil
}

// List returns every record, sorted by name.
func (s *Store) List() ([]*Record, error) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	var out []*Record
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		r, err := s.Get(name)
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Put writes r atomically (temp file + rename).
func (s *Store) Put(r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("write workspace %s: %w", r.Name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write workspace %s: %w", r.Name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write workspace %s: %w", r.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write workspace %s: %w", r.Name, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(s.dir, r.Name+".json")); err != nil {
		return fmt.Errorf("write workspace %s: %w", r.Name, err)
	}
	return nil
}

// Delete removes the record named name (no error if it is absent).
func (s *Store) Delete(name string) error {
	err := os.Remove(filepath.Join(s.dir, name+".json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete workspace %s: %w", name, err)
	}
	return nil
}

// NameFor returns the workspace name for a folder + config: the record that already has
// them, else the folder's sanitized basename, made unique with a short hash suffix.
func (s *Store) NameFor(folder, configFile string) (string, error) {
	recs, err := s.List()
	if err != nil {
		return "", err
	}
	for _, r := range recs {
		if r.Folder == folder && r.ConfigFile == configFile {
			return r.Name, nil
		}
	}
	base := sanitizeName(filepath.Base(folder))
	taken := map[string]bool{}
	for _, r := range recs {
		taken[r.Name] = true
	}
	if !taken[base] {
		return base, nil
	}
	sum := sha256.Sum256([]byte(folder + "\x00" + configFile))
	h := hex.EncodeToString(sum[:])
	for n := 4; n <= len(h); n++ {
		cand := strings.TrimRight(base[:min(len(base), 62-n)], "-") + "-" + h[:n]
		if !taken[cand] {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free workspace name for %s", folder)
}

var nameJunk = regexp.MustCompile(`[^a-z0-9-]+`)

// sanitizeName makes a host-name-safe workspace name from a folder name.
func sanitizeName(s string) string {
	s = nameJunk.ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if len(s) > 40 {
		s = strings.Trim(s[:40], "-")
	}
	if s == "" {
		s = "workspace"
	}
	return s
}
