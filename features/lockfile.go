package features

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// LockEntry is one feature in devcontainer-lock.json.
type LockEntry struct {
	Version   string   `json:"version"`
	Resolved  string   `json:"resolved"`
	Integrity string   `json:"integrity"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

// Lockfile is devcontainer-lock.json: the OCI and tarball features of a configuration (user
// references and the dependencies they pulled in) pinned to a digest.
type Lockfile struct {
	Features map[string]LockEntry `json:"features"`
}

// LockfilePath returns the lockfile next to a configuration file: devcontainer-lock.json, or
// .devcontainer-lock.json for a configuration file whose name starts with a dot.
func LockfilePath(configFile string) string {
	name := "devcontainer-lock.json"
	if strings.HasPrefix(filepath.Base(configFile), ".") {
		name = ".devcontainer-lock.json"
	}
	return filepath.Join(filepath.Dir(configFile), name)
}

// ReadLockfile reads a lockfile. A missing file returns (nil, false, nil); an empty file
// returns (nil, true, nil): the reference treats it as "write a lockfile after this build".
func ReadLockfile(file string) (lock *Lockfile, initialize bool, err error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read lockfile: %w", err)
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, true, nil
	}
	lock, err = ParseLockfile(file, data)
	return lock, false, err
}

// ParseLockfile parses lockfile content; file names it in errors.
func ParseLockfile(file string, data []byte) (*Lockfile, error) {
	v, err := decodeOrdered(data)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("parse %s: expected a JSON object", file)
	}
	lock := &Lockfile{Features: map[string]LockEntry{}}
	fv, ok := doc.get("features")
	if !ok {
		return lock, nil
	}
	feats, ok := fv.(*object)
	if !ok {
		return nil, fmt.Errorf("parse %s: property \"features\": expected an object", file)
	}
	for _, k := range feats.keys {
		e, ok := feats.vals[k].(*object)
		if !ok {
			return nil, fmt.Errorf("parse %s: property \"features.%s\": expected an object", file, k)
		}
		var le LockEntry
		for _, f := range []struct {
			name string
			dst  *string
		}{{"version", &le.Version}, {"resolved", &le.Resolved}, {"integrity", &le.Integrity}} {
			if s, ok := e.vals[f.name].(string); ok {
				*f.dst = s
			} else if _, present := e.vals[f.name]; present {
				return nil, fmt.Errorf("parse %s: property \"features.%s.%s\": expected a string", file, k, f.name)
			}
		}
		if d, ok := e.vals["dependsOn"].([]any); ok {
			for _, x := range d {
				if s, ok := x.(string); ok {
					le.DependsOn = append(le.DependsOn, s)
				}
			}
		}
		lock.Features[k] = le
	}
	return lock, nil
}

// integrity returns the pinned digest for a user reference, if any.
func (l *Lockfile) integrity(userID string) string {
	if l == nil {
		return ""
	}
	e, ok := l.Features[userID]
	if !ok || validDigest(e.Integrity) != nil {
		return ""
	}
	return e.Integrity
}

// Marshal renders the lockfile as the reference does: keys in locale order, two-space JSON,
// a trailing newline.
func (l *Lockfile) Marshal() []byte {
	o := newOrderer()
	keys := make([]string, 0, len(l.Features))
	for k := range l.Features {
		keys = append(keys, k)
	}
	sort.SliceStable(keys, func(i, j int) bool { return o.lc(keys[i], keys[j]) < 0 })
	feats := newObject()
	for _, k := range keys {
		e := l.Features[k]
		eo := newObject()
		eo.set("version", e.Version)
		eo.set("resolved", e.Resolved)
		eo.set("integrity", e.Integrity)
		if len(e.DependsOn) > 0 {
			eo.set("dependsOn", e.DependsOn)
		}
		feats.set(k, eo)
	}
	doc := newObject()
	doc.set("features", feats)
	return []byte(stringify(doc, 2) + "\n")
}

// WriteLockfile writes lock to file unless the file already holds the same content after JSON
// normalisation. In frozen mode nothing is written: a missing file is ErrLockfileMissing and
// a difference is ErrLockfileMismatch. It reports whether the file was (or would be) changed.
func WriteLockfile(file string, lock *Lockfile, frozen bool) (changed bool, err error) {
	want := lock.Marshal()
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("read lockfile: %w", err)
	}
	if err != nil && frozen {
		return true, fmt.Errorf("%w: %s", ErrLockfileMissing, file)
	}
	if err == nil {
		if v, perr := decodeOrdered(old); perr == nil && stringify(v, 2)+"\n" == string(want) {
			return false, nil
		}
	}
	if frozen {
		return true, fmt.Errorf("%w: %s", ErrLockfileMismatch, file)
	}
	if err := (cache{}).writeAtomic(file, want); err != nil {
		return true, fmt.Errorf("write lockfile: %w", err)
	}
	return true, nil
}
