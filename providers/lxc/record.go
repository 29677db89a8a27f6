package lxc

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/mochi-dev/mochi/providers"
)

// recordFile is the file next to a container's LXC config that holds what LXC does not know.
const recordFile = "mochi.json"

// record is what the provider remembers about one container.
type record struct {
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels,omitempty"`
	Created   string            `json:"created"`
	StartedAt string            `json:"startedAt,omitempty"`
	Image     string            `json:"image"`
	ImageID   string            `json:"imageId"`
	// Env is the full configured environment (image, then create spec).
	Env []string `json:"env,omitempty"`
	// User is the configured user as given (name or uid[:gid]); "" is root.
	User string `json:"user,omitempty"`
	// WorkingDir is the image's working folder ("" is /).
	WorkingDir string            `json:"workingDir,omitempty"`
	Init       []string          `json:"init"`
	Mounts     []providers.Mount `json:"mounts,omitempty"`
	// AnonVolumes are the volumes created for anonymous volume mounts (removed with the
	// container when asked).
	AnonVolumes []string  `json:"anonVolumes,omitempty"`
	Ports       []portMap `json:"ports,omitempty"`
	IP          string    `json:"ip"`
	Hostname    string    `json:"hostname"`
	// Forwarder is the pid of the port forwarder of the current start (0: none).
	Forwarder int `json:"forwarder,omitempty"`
}

// portMap is one published port.
type portMap struct {
	HostIP        string `json:"hostIp"`
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Proto         string `json:"proto"`
	// Fixed is true when the user chose the host port; otherwise it is picked at every start.
	Fixed bool `json:"fixed,omitempty"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// dir is the container's folder in the lxcpath.
func (p *Provider) dir(name string) string { return filepath.Join(p.lxcpath, name) }

// load reads the record of the container with the given name; the error wraps
// providers.ErrNotFound when there is none.
func (p *Provider) load(name string) (*record, error) {
	if !validName.MatchString(name) {
		return nil, fmt.Errorf("container %s: %w", name, providers.ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(p.dir(name), recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("container %s: %w", name, providers.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read container %s: %w", name, err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read container %s: %s: %w", name, filepath.Join(p.dir(name), recordFile), err)
	}
	return &r, nil
}

// save writes r atomically.
func (p *Provider) save(r *record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("save container %s: %w", r.Name, err)
	}
	path := filepath.Join(p.dir(r.Name), recordFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save container %s: %w", r.Name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save container %s: %w", r.Name, err)
	}
	return nil
}

// names lists the containers that have a record.
func (p *Provider) names() ([]string, error) {
	entries, err := os.ReadDir(p.lxcpath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // nothing created yet
	}
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(p.lxcpath, e.Name(), recordFile)); err == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// matches reports whether labels holds every key and value of want.
func matches(labels, want map[string]string) bool {
	for k, v := range want {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
