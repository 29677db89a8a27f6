package compose

import (
	"context"
	"io"
	"time"
)

// Engine is what the orchestrator needs from a container engine. providers/docker
// implements it on the Docker API.
type Engine interface {
	resourceEngine
	containerEngine
	imageEngine
}

// resourceEngine manages networks and volumes.
type resourceEngine interface {
	// EnsureNetwork creates the network unless one with its name exists; for an external
	// network it only checks that it exists.
	EnsureNetwork(ctx context.Context, spec NetworkSpec) error
	// EnsureVolume creates the volume unless it exists; for an external volume it only
	// checks that it exists.
	EnsureVolume(ctx context.Context, spec VolumeSpec) error
	// Networks and Volumes list the names of those carrying all the labels.
	Networks(ctx context.Context, labels map[string]string) ([]string, error)
	Volumes(ctx context.Context, labels map[string]string) ([]string, error)
	RemoveNetwork(ctx context.Context, name string) error
	RemoveVolume(ctx context.Context, name string) error
}

// containerEngine manages containers.
type containerEngine interface {
	// Containers lists the containers (running or not) carrying all the labels.
	Containers(ctx context.Context, labels map[string]string) ([]Container, error)
	InspectContainer(ctx context.Context, id string) (*Container, error)
	CreateContainer(ctx context.Context, spec ContainerSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer stops the container; a nil timeout uses the container's stop timeout.
	StopContainer(ctx context.Context, id string, timeout *time.Duration) error
	// RemoveContainer removes the container forcibly, with its anonymous volumes.
	RemoveContainer(ctx context.Context, id string) error
	// Logs returns the last lines of the container's output (stdout and stderr).
	Logs(ctx context.Context, id string, lines int) (string, error)
}

// imageEngine finds, pulls and builds images.
type imageEngine interface {
	// InspectImage returns the image, or nil and no error when it is not present.
	InspectImage(ctx context.Context, ref string) (*Image, error)
	PullImage(ctx context.Context, ref string, out io.Writer) error
	// BuildImage builds and tags the image and returns its id.
	BuildImage(ctx context.Context, spec BuildSpec) (string, error)
}

// NetworkSpec describes a network to create.
type NetworkSpec struct {
	Name       string
	Driver     string
	DriverOpts map[string]string
	Labels     map[string]string
	Internal   bool
	Attachable bool
	EnableIPv6 *bool
	// IPAM pools, when the compose file configures them.
	IPAMDriver string
	Subnets    []IPAMPool
	External   bool
}

// IPAMPool is one address pool of a network.
type IPAMPool struct {
	Subnet, Gateway, IPRange string
}

// VolumeSpec describes a named volume to create.
type VolumeSpec struct {
	Name       string
	Driver     string
	DriverOpts map[string]string
	Labels     map[string]string
	External   bool
}

// Image is what the orchestrator needs to know about an image.
type Image struct {
	ID string
	// ExposedPorts are the image's EXPOSE ports, "5432/tcp".
	ExposedPorts []string
}

// BuildSpec describes the build of a service's image.
type BuildSpec struct {
	Context string
	// Dockerfile is relative to Context or absolute; DockerfileInline replaces it.
	Dockerfile       string
	DockerfileInline string
	Args             map[string]string
	Target           string
	Tags             []string
	Labels           map[string]string
	NoCache          bool
	Pull             bool
	CacheFrom        []string
	ExtraHosts       []string
	Network          string
	ShmSize          int64
	Output           io.Writer
}

// ContainerSpec is the full configuration of one service container.
type ContainerSpec struct {
	Name       string
	Image      string
	Labels     map[string]string
	Env        []string
	User       string
	WorkingDir string
	Hostname   string
	Domainname string
	// Entrypoint and Cmd replace the image's when non-nil (an empty slice clears them).
	Entrypoint []string
	Cmd        []string
	Tty        bool
	StdinOpen  bool
	StopSignal string
	// StopTimeout is the stop grace period in seconds; nil is the engine's default.
	StopTimeout  *int
	Healthcheck  *Healthcheck
	ExposedPorts []string // "80/tcp"
	Ports        []PortBinding
	Mounts       []Mount
	Tmpfs        map[string]string
	// NetworkMode is "" for the project networks in Networks (the first is primary), or
	// "host", "none", "bridge".
	NetworkMode string
	Networks    []Endpoint
	Restart     RestartPolicy
	Init        *bool
	Privileged  bool
	ReadOnly    bool
	CapAdd      []string
	CapDrop     []string
	SecurityOpt []string
	DNS         []string
	DNSSearch   []string
	DNSOptions  []string
	ExtraHosts  []string // "host:ip"
	GroupAdd    []string
	Sysctls     map[string]string
	ShmSize     int64
	Ulimits     []Ulimit
	Devices     []Device
	Ipc         string
	Pid         string
	Links       []string
	LogDriver   string
	LogOptions  map[string]string
	// VolumesFrom are volumes_from entries: "<service>[:ro|:rw]" or "container:<name>[:mode]"
	// as written, then "<container id or name>[:mode]" once shareVolumes resolved them.
	VolumesFrom []string
	Resources   Resources
}

// Resources are a container's resource limits, from the service's own properties and its
// deploy.resources (which win), as Compose v2 sets them. Zero values leave the engine's
// defaults.
type Resources struct {
	Memory            int64 // bytes
	MemoryReservation int64
	MemorySwap        int64  // -1: unlimited swap
	MemorySwappiness  *int64 // nil: the engine's default
	NanoCPUs          int64
	CPUShares         int64
	CPUPeriod         int64
	CPUQuota          int64
	CpusetCpus        string
	PidsLimit         *int64
	OomKillDisable    bool
	OomScoreAdj       int
	CgroupParent      string
}

// Healthcheck is a container healthcheck; Docker runs it, the orchestrator polls the result.
type Healthcheck struct {
	Test          []string // ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"]
	Interval      time.Duration
	Timeout       time.Duration
	StartPeriod   time.Duration
	StartInterval time.Duration
	Retries       int
}

// PortBinding publishes a container port on the host.
type PortBinding struct {
	HostIP        string
	HostPort      string // "" picks a free port; may be a range "8000-8010"
	ContainerPort uint32
	Protocol      string // "tcp", "udp", "sctp"
}

// Mount is a bind, volume or tmpfs mount.
type Mount struct {
	Type     string // "bind", "volume", "tmpfs"
	Source   string
	Target   string
	ReadOnly bool
	// CreateHostPath creates a missing bind source folder (Compose's short syntax).
	CreateHostPath bool
	Propagation    string
	SELinux        string
	NoCopy         bool
	Subpath        string
	TmpfsSize      int64
	TmpfsMode      uint32
	// External marks a named volume mochi must not create or remove.
	External bool
}

// Endpoint attaches the container to a network.
type Endpoint struct {
	Network     string
	Aliases     []string
	IPv4Address string
	IPv6Address string
}

// RestartPolicy is the container restart policy ("no", "always", "on-failure", "unless-stopped").
type RestartPolicy struct {
	Name       string
	MaxRetries int
}

// Ulimit is one resource limit.
type Ulimit struct {
	Name       string
	Soft, Hard int64
}

// Device maps a host device into the container.
type Device struct {
	Host, Container, Permissions string
}

// Container is what the orchestrator learns about a container.
type Container struct {
	ID     string
	Name   string
	Labels map[string]string
	// State is the engine state: created, running, paused, restarting, removing, exited, dead.
	State    string
	ExitCode int
	// Health is "", "starting", "healthy" or "unhealthy"; HealthLog is the output of the
	// last probe.
	Health    string
	HealthLog string
	// ImageID is the id of the image the container runs.
	ImageID string
	// Ports are the published ports, "hostIP:hostPort->containerPort/proto".
	Ports []string
}

// Running reports whether the container is running.
func (c *Container) Running() bool { return c != nil && c.State == "running" }
