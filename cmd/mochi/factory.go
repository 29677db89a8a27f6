package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/mochi-dev/mochi/internal/clilog"
	"github.com/mochi-dev/mochi/workspace"
)

// logger is the part of *slog.Logger commands use.
type logger interface {
	Error(msg string, args ...any)
}

// common holds the flags every engine command takes.
type common struct {
	logLevel, logFormat       string
	dockerPath, composePath   string
	userDataFolder            string
	terminalCols, terminalRow int
	secretsFile               string
	secrets                   map[string]string
	provider                  string
	// loc, when a command has one, lets the provider follow the workspace.
	loc *workspace.Locate
}

func (c *common) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: info, debug or trace")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format on stderr: text or json")
	fs.StringVar(&c.dockerPath, "docker-path", "", "accepted for compatibility; mochi talks to the Docker API (DOCKER_HOST)")
	fs.StringVar(&c.composePath, "docker-compose-path", "", "accepted for compatibility; mochi needs no compose tool")
	fs.StringVar(&c.userDataFolder, "user-data-folder", "", "host folder for persisted data (accepted for compatibility)")
	fs.IntVar(&c.terminalCols, "terminal-columns", 0, "terminal columns (accepted for compatibility)")
	fs.IntVar(&c.terminalRow, "terminal-rows", 0, "terminal rows (accepted for compatibility)")
	fs.StringVar(&c.provider, "provider", "", "where workspaces run: docker or lxc (default: the workspace's, the config's customizations.mochi.provider, settings.json, docker)")
}

func (c *common) registerSecrets(fs *pflag.FlagSet) {
	fs.StringVar(&c.secretsFile, "secrets-file", "", "JSON file of secrets (name -> value) given to lifecycle hooks and masked in logs")
}

// check refuses flags whose values mochi cannot honour.
func (c *common) check() error {
	switch c.dockerPath {
	case "", "docker":
	default:
		return fmt.Errorf("--docker-path %q: mochi uses the Docker API; point DOCKER_HOST at the engine instead", c.dockerPath)
	}
	return nil
}

// engine builds the logger, the Docker provider and the workspace engine.
func (c *common) engine(ios *IOStreams) (*workspace.Engine, *slog.Logger, io.Writer, error) {
	if err := c.check(); err != nil {
		return nil, nil, nil, err
	}
	if err := c.loadSecrets(); err != nil {
		return nil, nil, nil, err
	}
	var secretValues []string
	for _, v := range c.secrets {
		secretValues = append(secretValues, v)
	}
	lo := clilog.Options{Format: c.logFormat, Level: c.logLevel, Secrets: secretValues}
	log, err := clilog.New(ios.ErrOut, lo)
	if err != nil {
		return nil, nil, nil, err
	}
	raw := clilog.RawWriter(ios.ErrOut, lo)
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("find the mochi binary: %w", err)
	}
	home, err := mochiHome(ios)
	if err != nil {
		return nil, nil, nil, err
	}
	name, err := chooseProvider(c.provider, home, c.loc)
	if err != nil {
		return nil, nil, nil, err
	}
	eng, err := newEngine(name, ios, log, raw, exe, home)
	if err != nil {
		return nil, nil, nil, err
	}
	return eng, log, raw, nil
}
