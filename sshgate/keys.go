package sshgate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/internal/flock"
)

// AllWorkspaces in a grant lets a key into every workspace.
const AllWorkspaces = "*"

var workspaceName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidWorkspaceName says whether name can be a workspace's SSH user name.
func ValidWorkspaceName(name string) bool { return workspaceName.MatchString(name) }

// Grant lets Key into Workspace (or every workspace, AllWorkspaces).
type Grant struct {
	Workspace string
	Key       ssh.PublicKey
	Comment   string
}

// KeyStore holds the keys granted per workspace in one text file: one grant per line,
// "<workspace or *> <key in authorized_keys format>". It is read on every check, so
// grants added by another process apply at once, and written atomically.
type KeyStore struct {
	path string
	mu   sync.Mutex
}

// OpenKeyStore returns the store in dataDir (file authorized_keys).
func OpenKeyStore(dataDir string) *KeyStore {
	return &KeyStore{path: filepath.Join(dataDir, "authorized_keys")}
}

// Path is the file the store lives in.
func (k *KeyStore) Path() string { return k.path }

// List returns every grant.
func (k *KeyStore) List() ([]Grant, error) {
	b, err := os.ReadFile(k.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keys: %w", err)
	}
	var grants []Grant
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ws, rest, _ := strings.Cut(line, " ")
		if ws != AllWorkspaces && !ValidWorkspaceName(ws) {
			return nil, fmt.Errorf("%s:%d: %w %q", k.path, n, ErrBadWorkspaceName, ws)
		}
		key, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(rest))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: parse key: %w", k.path, n, err)
		}
		grants = append(grants, Grant{Workspace: ws, Key: key, Comment: comment})
	}
	return grants, sc.Err()
}

// Authorized says whether key may enter workspace.
func (k *KeyStore) Authorized(workspace string, key ssh.PublicKey) (bool, error) {
	grants, err := k.List()
	if err != nil {
		return false, err
	}
	want := key.Marshal()
	for _, g := range grants {
		if (g.Workspace == workspace || g.Workspace == AllWorkspaces) && bytes.Equal(g.Key.Marshal(), want) {
			return true, nil
		}
	}
	return false, nil
}

// Add grants key to workspace (or AllWorkspaces). Adding an existing grant is a no-op.
func (k *KeyStore) Add(workspace string, key ssh.PublicKey, comment string) error {
	if workspace != AllWorkspaces && !ValidWorkspaceName(workspace) {
		return fmt.Errorf("grant key: %w %q", ErrBadWorkspaceName, workspace)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// Other mochi processes (concurrent ups) write the same file: lock it across processes.
	return flock.With(context.Background(), k.path+".lock", func() error {
		grants, err := k.List()
		if err != nil {
			return err
		}
		for _, g := range grants {
			if g.Workspace == workspace && bytes.Equal(g.Key.Marshal(), key.Marshal()) {
				return nil
			}
		}
		return k.write(append(grants, Grant{Workspace: workspace, Key: key, Comment: comment}))
	})
}

// Remove revokes key from workspace and reports whether a grant was removed.
func (k *KeyStore) Remove(workspace string, key ssh.PublicKey) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l, err := flock.Acquire(context.Background(), k.path+".lock")
	if err != nil {
		return false, err
	}
	defer l.Unlock()
	grants, err := k.List()
	if err != nil {
		return false, err
	}
	kept := grants[:0]
	for _, g := range grants {
		if g.Workspace != workspace || !bytes.Equal(g.Key.Marshal(), key.Marshal()) {
			kept = append(kept, g)
		}
	}
	if len(kept) == len(grants) {
		return false, nil
	}
	return true, k.write(kept)
}

func (k *KeyStore) write(grants []Grant) error {
	var b strings.Builder
	b.WriteString("# mochi gateway keys: <workspace or *> <public key>\n")
	for _, g := range grants {
		line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(g.Key)), "\n")
		if c := strings.Join(strings.Fields(g.Comment), " "); c != "" {
			line += " " + c
		}
		fmt.Fprintf(&b, "%s %s\n", g.Workspace, line)
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fmt.Errorf("write keys: %w", err)
	}
	return writeFileAtomic(k.path, []byte(b.String()), 0o600)
}
