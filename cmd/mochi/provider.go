package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/providers/lxc"
	"github.com/mochi-dev/mochi/workspace"
)

// Provider names.
const (
	providerDocker = "docker"
	providerLXC    = "lxc"
)

// settings are the user's defaults in $MOCHI_HOME/settings.json.
type settings struct {
	// Provider is the default provider for new workspaces.
	Provider string `json:"provider"`
}

func readSettings(home string) (settings, error) {
	var s settings
	data, err := os.ReadFile(filepath.Join(home, "settings.json"))
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(home, "settings.json"), err)
	}
	return s, nil
}

// chooseProvider picks the provider of a command, first match wins: --provider; the
// workspace's record (an existing workspace stays where it is); the config's
// customizations.mochi.provider; the user's settings; docker.
func chooseProvider(flag, home string, loc *workspace.Locate) (string, error) {
	if flag != "" {
		return validProvider(flag, "--provider")
	}
	if loc != nil {
		folder := loc.WorkspaceFolder
		if folder == "" {
			folder, _ = os.Getwd()
		}
		folder, _ = filepath.Abs(folder)
		if cfgPath, err := devcontainer.Discover(folder, loc.ConfigFile); err == nil {
			if st, err := workspace.OpenStore(home); err == nil {
				recs, _ := st.List()
				for _, r := range recs {
					if r.Folder == folder && r.ConfigFile == cfgPath && r.Provider != "" {
						return r.Provider, nil
					}
				}
			}
			if cfg, err := devcontainer.Load(cfgPath); err == nil {
				if c, ok := cfg.Customizations["mochi"].(map[string]any); ok {
					if p, ok := c["provider"].(string); ok && p != "" {
						return validProvider(p, cfgPath+": customizations.mochi.provider")
					}
				}
			}
		}
	}
	s, err := readSettings(home)
	if err != nil {
		return "", err
	}
	if s.Provider != "" {
		return validProvider(s.Provider, "settings.json provider")
	}
	return providerDocker, nil
}

func validProvider(p, where string) (string, error) {
	switch p {
	case providerDocker, providerLXC:
		return p, nil
	case "qemu":
		return "", fmt.Errorf("%s: the qemu provider is not built yet (docker or lxc)", where)
	}
	return "", fmt.Errorf("%s: unknown provider %q (docker or lxc)", where, p)
}

// newEngine builds the workspace engine on the named provider.
func newEngine(name string, ios *IOStreams, log *slog.Logger, raw io.Writer, exe, home string) (*workspace.Engine, error) {
	// A keep-alive that dies at once is caught in 60ms; later deaths surface at the first exec.
	dk, err := docker.New(docker.Options{Logger: log, AgentBinary: exe, StartGrace: 60 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	cfg := workspace.Config{Logger: log, Output: raw, LookupEnv: ios.LookupEnv, AgentPath: exe, Home: home}
	switch name {
	case providerLXC:
		be, err := lxc.New(lxc.Options{Logger: log, StateDir: filepath.Join(home, "lxc"), Builder: dk})
		if err != nil {
			return nil, err
		}
		if err := be.Check(); err != nil {
			return nil, err
		}
		cfg.Backend = be
	default:
		cfg.Backend, cfg.Compose = dk, dk.ComposeEngine()
	}
	return workspace.New(cfg), nil
}
