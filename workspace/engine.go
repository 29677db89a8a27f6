// Package workspace is mochi's engine: it turns a devcontainer.json (plus features and
// compose files) into provider calls and runs the lifecycle inside the result. One file per
// verb: up, build, exec, run-user-commands, set-up, stop, down, list.
package workspace

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/providers"
)

// Backend is the subset of a provider the engine uses: lifecycle, exec and images.
type Backend interface {
	providers.Provider
	providers.Execer
	providers.ImageBuilder
}

// Engine runs workspace verbs against one provider.
type Engine struct {
	be  Backend
	log *slog.Logger
	// out receives raw process output (build logs, hook output); the JSON result never
	// goes there.
	out io.Writer
	// lookupEnv reads the host environment (for ${localEnv:...} and initializeCommand).
	lookupEnv func(string) (string, bool)
	// agentPath is the host path of the static mochi binary mounted into workspaces.
	agentPath string
	// runHost runs initializeCommand on the host.
	runHost hostRunner
	// home is mochi's data folder ($MOCHI_HOME); "" disables the agent link.
	home string

	linkState
	compose compose.Engine

	linkMu sync.Mutex
	links  map[string]providers.Execer // agent connections by container id
	// linkFailed is when an agent last did not answer, by container start: a long-lived
	// engine (the server) then uses the engine for a while without dialling and warning again.
	linkFailed map[string]time.Time
}

// Config holds the Engine's dependencies.
type Config struct {
	Backend   Backend
	Logger    *slog.Logger
	Output    io.Writer
	LookupEnv func(string) (string, bool)
	AgentPath string
	// Home is mochi's data folder; empty disables the agent link (engine exec only).
	Home string
	// Compose runs compose projects; nil refuses compose configurations.
	Compose compose.Engine
}

// New returns an Engine.
func New(c Config) *Engine {
	e := &Engine{be: c.Backend, log: c.Logger, out: c.Output, lookupEnv: c.LookupEnv, agentPath: c.AgentPath, home: c.Home, compose: c.Compose, links: map[string]providers.Execer{}}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.out == nil {
		e.out = io.Discard
	}
	if e.lookupEnv == nil {
		e.lookupEnv = os.LookupEnv
	}
	e.runHost = execHost{}
	return e
}

// hostRunner runs a command on the host; a seam for tests.
type hostRunner interface {
	Run(ctx context.Context, dir string, argv []string, env []string, out io.Writer) error
}
