package devcontainer

import (
	"path/filepath"
)

// Config is one devcontainer.json, decoded with the reference CLI's meaning.
//
// Fields hold the values as written (or, on the copy returned by Config.Substitute, after
// variable substitution). Legacy properties are already migrated: the top-level dockerFile
// and context live in Build, and extensions/settings/devPort live in
// Customizations["vscode"].
type Config struct {
	// File is the absolute path of the devcontainer.json the configuration belongs to.
	// Relative paths inside the configuration resolve against its directory.
	File string
	// Raw is the JSON object after legacy migration and before variable substitution;
	// the devcontainer.metadata label and --include-configuration output are built from it.
	Raw map[string]any

	Name string

	// Image configurations.
	Image string
	// Dockerfile configurations (build.* and the legacy top-level dockerFile/context).
	Build *Build

	// Compose configurations.
	DockerComposeFile []string
	Service           string
	RunServices       []string

	WorkspaceFolder string
	// WorkspaceMount is nil when the property is absent; a present empty string disables
	// the default workspace mount.
	WorkspaceMount *string
	Mounts         []Mount

	ContainerEnv map[string]string
	// RemoteEnv values are nil when the configuration sets the variable to null.
	RemoteEnv           map[string]*string
	ContainerUser       string
	RemoteUser          string
	UpdateRemoteUserUID *bool
	UserEnvProbe        string
	OverrideCommand     *bool

	RunArgs []string
	// AppPort holds -p arguments: a number N becomes "127.0.0.1:N:N", strings are verbatim.
	AppPort        []string
	CapAdd         []string
	SecurityOpt    []string
	Init           *bool
	Privileged     *bool
	ShutdownAction string

	// ForwardPorts holds numbers as their decimal text ("3000") and strings verbatim
	// ("db:5432"); ForwardPortValues gives them back with numbers as numbers.
	ForwardPorts         []string
	PortsAttributes      map[string]PortAttributes
	OtherPortsAttributes *PortAttributes
	HostRequirements     *HostRequirements
	Customizations       map[string]any

	// Features in the order the configuration lists them.
	Features                    []FeatureRef
	OverrideFeatureInstallOrder []string

	InitializeCommand    *Command
	OnCreateCommand      *Command
	UpdateContentCommand *Command
	PostCreateCommand    *Command
	PostStartCommand     *Command
	PostAttachCommand    *Command
	WaitFor              string

	// forwardPortNumbers marks the ForwardPorts entries written as JSON numbers.
	forwardPortNumbers []bool
	// tree is the ordered JSON object behind the fields (substituted on a substituted copy).
	tree *node
}

// Build is the build section of a Dockerfile configuration.
type Build struct {
	// Dockerfile is the path as written, relative to the configuration's directory.
	Dockerfile string
	// Context is the path as written ("" when absent), relative to the configuration's directory.
	Context   string
	Args      map[string]string
	Target    string
	CacheFrom []string
	Options   []string
}

// PortAttributes are the attributes of portsAttributes entries and otherPortsAttributes.
type PortAttributes struct {
	Label            string `json:"label,omitempty"`
	Protocol         string `json:"protocol,omitempty"`
	OnAutoForward    string `json:"onAutoForward,omitempty"`
	RequireLocalPort *bool  `json:"requireLocalPort,omitempty"`
	ElevateIfNeeded  *bool  `json:"elevateIfNeeded,omitempty"`
}

// HostRequirements is the hostRequirements property. Memory and Storage are kept as
// written ("8gb"); GPU is nil, true, false, "optional" or a *GPURequirements.
type HostRequirements struct {
	CPUs    int
	Memory  string
	Storage string
	GPU     any
}

// GPURequirements is the object form of hostRequirements.gpu.
type GPURequirements struct {
	Cores  int
	Memory string
}

// FeatureRef is one entry of the features object.
type FeatureRef struct {
	// ID is the reference as written (OCI ref, https URL or ./local path).
	ID string
	// Options are the Feature's options. The string form "x" becomes {"version": "x"};
	// true becomes an empty map; false is kept as Disabled.
	Options map[string]any
	// Value is the value as written in the configuration (object, string or bool).
	Value any
}

// IsCompose reports whether the configuration runs a Docker Compose service.
func (c *Config) IsCompose() bool { return c.DockerComposeFile != nil || c.hasRaw("dockerComposeFile") }

// IsDockerfile reports whether the configuration builds a Dockerfile.
func (c *Config) IsDockerfile() bool {
	return !c.IsCompose() && c.Build != nil && c.Build.Dockerfile != ""
}

// IsImage reports whether the configuration starts from an image.
func (c *Config) IsImage() bool { return !c.IsCompose() && !c.IsDockerfile() && c.Image != "" }

// ConfigDir is the directory holding the configuration file.
func (c *Config) ConfigDir() string { return filepath.Dir(c.File) }

// DockerfilePath is the absolute path of the Dockerfile ("" for non-Dockerfile configurations).
func (c *Config) DockerfilePath() string {
	if c.Build == nil || c.Build.Dockerfile == "" {
		return ""
	}
	return c.resolve(c.Build.Dockerfile)
}

// ContextPath is the absolute build context: build.context relative to the configuration's
// directory, defaulting to the Dockerfile's directory as the reference does.
func (c *Config) ContextPath() string {
	if c.Build == nil || c.Build.Dockerfile == "" {
		return ""
	}
	if c.Build.Context == "" {
		return filepath.Dir(c.DockerfilePath())
	}
	return c.resolve(c.Build.Context)
}

// resolve makes p absolute against the configuration's directory.
func (c *Config) resolve(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(c.ConfigDir(), p)
}

func (c *Config) hasRaw(key string) bool {
	_, ok := c.Raw[key]
	return ok
}
