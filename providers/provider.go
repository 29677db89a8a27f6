// Package providers defines the contract between mochi's workspace engine and the engines that
// materialise workspaces (Docker, LXC, QEMU). The contract is made of small role interfaces:
// every provider implements Provider; optional abilities (building images, attaching to the
// agent) are separate interfaces found by type assertion, and Capabilities describes the rest
// so that callers never compare provider names.
package providers

import (
	"context"
	"io"
	"time"
)

// State is the coarse run state of an instance.
type State string

// Instance states, as reported by Inspect and Find.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateStopped State = "stopped"
	StatePaused  State = "paused"
	StateUnknown State = "unknown"
)

// Capabilities says what a provider can do, so callers never switch on its name.
type Capabilities struct {
	// Name is the provider's registry name ("docker", "lxc", "qemu", "fake").
	Name string
	// BuildsImages is true when the provider builds Dockerfiles itself (ImageBuilder).
	BuildsImages bool
	// Compose is true when the provider can run compose projects (several containers on one network).
	Compose bool
	// SharedKernel is true for containers (Docker, LXC), false for VMs.
	SharedKernel bool
}

// Mount is a bind, volume or tmpfs mount of an instance.
type Mount struct {
	Type     string // "bind", "volume" or "tmpfs"
	Source   string // host path (bind) or volume name (volume); empty for tmpfs
	Target   string // absolute path inside the instance
	ReadOnly bool
	// External marks a named volume that mochi must not create or remove.
	External bool
}

// CreateSpec is everything a provider needs to create one workspace instance.
type CreateSpec struct {
	// Name is the instance name; empty lets the provider choose one.
	Name string
	// Image is an image reference the provider can run (already prepared).
	Image  string
	Labels map[string]string
	// Env is the container environment as KEY=VALUE.
	Env  []string
	User string
	// Entrypoint and Cmd replace the image's when non-nil.
	Entrypoint []string
	Cmd        []string
	Mounts     []Mount
	// Ports are published ports in `docker run -p` syntax ([ip:]host:container[/proto]).
	Ports       []string
	Init        bool
	Privileged  bool
	CapAdd      []string
	SecurityOpt []string
	GPUs        bool
	// RunArgs are `docker run` style flags from devcontainer.json; a provider translates
	// the ones it understands and returns an error naming the rest.
	RunArgs []string
	// AgentPath is the host path of a static mochi binary that the provider makes available
	// read-only at AgentTarget inside the instance.
	AgentPath string
}

// AgentTarget is where the mochi binary (the in-workspace agent) appears inside an instance.
const AgentTarget = "/.mochi/bin/mochi"

// Instance is what a provider knows about one workspace instance.
type Instance struct {
	ID       string
	Name     string
	Provider string
	State    State
	// Created and StartedAt are the engine's timestamps as strings; lifecycle markers compare
	// them verbatim, so they must be stable for the life of the instance / the current start.
	Created   string
	StartedAt string
	Labels    map[string]string
	// Env is the instance's configured environment (image + create), KEY=VALUE.
	Env []string
	// User is the configured user of the instance's main process ("" means root).
	User  string
	Image string
	// ImageID is the content id of the image the instance was created from.
	ImageID string
	Mounts  []Mount
	// Ports are the published ports, "hostIP:hostPort->containerPort/proto".
	Ports []string
}

// Running reports whether the instance is running.
func (i *Instance) Running() bool { return i != nil && i.State == StateRunning }

// Provider is the lifecycle every provider implements.
type Provider interface {
	Capabilities() Capabilities
	// Find returns the first instance carrying all the given labels, or nil, nil when none does.
	// Instances being removed are ignored.
	Find(ctx context.Context, labels map[string]string) (*Instance, error)
	// List returns every instance carrying all the given labels; an empty value matches
	// any value of that label.
	List(ctx context.Context, labels map[string]string) ([]*Instance, error)
	// Inspect returns the instance with the given id or name, or an error wrapping ErrNotFound.
	Inspect(ctx context.Context, id string) (*Instance, error)
	Create(ctx context.Context, spec CreateSpec) (*Instance, error)
	// Start starts the instance and returns once it is running.
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// Remove removes the instance (forcibly, stopping it first) and, if volumes is set, its
	// anonymous volumes.
	Remove(ctx context.Context, id string, volumes bool) error
}

// ExecSpec describes one process to run inside an instance.
type ExecSpec struct {
	Cmd     []string
	User    string
	Env     []string // KEY=VALUE, added to the instance's environment
	WorkDir string
	Tty     bool
	Stdin   io.Reader // nil: no stdin
	Stdout  io.Writer // nil: discarded
	Stderr  io.Writer // nil: discarded (merged into Stdout when Tty)
}

// Execer runs processes inside an instance.
type Execer interface {
	// Exec runs the process to completion and returns its exit code. A process killed by a
	// signal reports 128+signal. The error is non-nil only when the process could not be run.
	Exec(ctx context.Context, id string, spec ExecSpec) (int, error)
}

// Attacher opens a byte stream to a process serving mochi's agent protocol inside the
// instance (`mochi agent serve --stdio` run from AgentTarget).
type Attacher interface {
	Attach(ctx context.Context, id string, argv []string) (io.ReadWriteCloser, error)
}

// ImageInfo is what mochi needs to know about an image.
type ImageInfo struct {
	ID         string
	Ref        string
	User       string
	Env        []string
	Labels     map[string]string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	OS         string
	Arch       string
}

// BuildSpec describes one image build.
type BuildSpec struct {
	// ContextDir is the build context folder on the host.
	ContextDir string
	// Dockerfile is the Dockerfile path relative to ContextDir, or absolute. When
	// DockerfileContent is set it is used instead of reading the file.
	Dockerfile        string
	DockerfileContent []byte
	// ExtraFiles are added to the build context under their key (slash-separated paths);
	// used for generated files such as feature folders.
	ExtraFiles map[string][]byte
	// ExtraDirs are host folders added to the context under their key.
	ExtraDirs map[string]string
	Tags      []string
	Args      map[string]string
	Target    string
	NoCache   bool
	Pull      bool
	CacheFrom []string
	Labels    map[string]string
	// Options are extra `docker build` flags from build.options; unknown ones are an error.
	Options []string
	// Output receives the build log.
	Output io.Writer
}

// ImageBuilder is implemented by providers that inspect, pull and build images.
type ImageBuilder interface {
	// InspectImage returns the image, or an error wrapping ErrNotFound.
	InspectImage(ctx context.Context, ref string) (*ImageInfo, error)
	// PullImage pulls ref from its registry.
	PullImage(ctx context.Context, ref string, out io.Writer) error
	BuildImage(ctx context.Context, spec BuildSpec) (*ImageInfo, error)
	RemoveImage(ctx context.Context, ref string) error
}
