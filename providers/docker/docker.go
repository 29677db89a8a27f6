// Package docker implements mochi's providers contract on the Docker Engine API (and any
// engine that speaks it). It talks to the daemon through github.com/docker/docker/client with
// API version negotiation, so a 20.10 daemon (API 1.41) and newer ones work alike; it never
// runs the docker command.
package docker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/mochi-dev/mochi/providers"
)

// Options configure a Provider.
type Options struct {
	// Logger receives the provider's diagnostics; nil discards them.
	Logger *slog.Logger
	// Client is the Docker API client to use; nil builds one from the environment
	// (DOCKER_HOST, DOCKER_CERT_PATH, ...) with API version negotiation.
	Client client.APIClient
	// AgentBinary is the host path of the mochi binary that Attach copies into an instance
	// lacking providers.AgentTarget; empty means the running executable.
	AgentBinary string
	// StartGrace is how long Start watches a started container for an immediate exit
	// (0: 200ms; negative: not at all). A shorter window makes up faster; an exit after it
	// shows later, when the first process cannot run.
	StartGrace time.Duration
}

// Provider is the Docker provider. It implements providers.Provider, providers.Execer,
// providers.Attacher and providers.ImageBuilder. It is safe for concurrent use.
type Provider struct {
	cli        client.APIClient
	log        *slog.Logger
	agentBin   string
	agentMu    sync.Mutex // serialises copying the agent into containers
	startGrace time.Duration
}

var (
	_ providers.Provider     = (*Provider)(nil)
	_ providers.Execer       = (*Provider)(nil)
	_ providers.Attacher     = (*Provider)(nil)
	_ providers.ImageBuilder = (*Provider)(nil)
)

// New returns a Docker provider. It does not contact the daemon; the first call that does
// negotiates the API version.
func New(opts Options) (*Provider, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cli := opts.Client
	if cli == nil {
		c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
		cli = c
	}
	return &Provider{
		cli:        cli,
		log:        log.With("component", "docker"),
		agentBin:   opts.AgentBinary,
		startGrace: opts.StartGrace,
	}, nil
}

// Close releases the client's idle connections.
func (p *Provider) Close() error { return p.cli.Close() }

// Capabilities reports what the Docker provider can do.
func (p *Provider) Capabilities() providers.Capabilities {
	return providers.Capabilities{
		Name:         "docker",
		BuildsImages: true,
		Compose:      true,
		SharedKernel: true,
	}
}

// Ping checks that the daemon answers; the error wraps providers.ErrUnavailable when it
// cannot be reached.
func (p *Provider) Ping(ctx context.Context) error {
	if _, err := p.cli.Ping(ctx); err != nil {
		return p.wrap(err, "ping docker engine")
	}
	return nil
}
