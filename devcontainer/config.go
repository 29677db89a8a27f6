package devcontainer

import (
	"path/filepath"
	"strconv"
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
	// Raw is the JSON object after legacy migration and before variable substitution, with
	// unknown properties kept (numbers as float64); the devcontainer.metadata label is built
	// from it. It stays unsubstituted on substituted copies. For the substituted object in
	// the reference's key order use Result.
	Raw map[string]any

	Name string

	// Image configurations.
	Image string
	// Dockerfile configurations (build.* and the legacy top-level dockerFile/context).
	Build *Build

	// Compose configurations. DockerComposeFile is nil when absent and empty (not nil) for
	// "[]", which the reference reads as "use COMPOSE_FILE / docker-compose.yml in the cwd".
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

	hasImage, hasCompose bool
	// src and name are the file content and the name errors use.
	src  []byte
	name string
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

	// legacy: Dockerfile and Context came from top-level dockerFile/context.
	legacy bool
	// isDockerfile: the configuration has dockerFile or build.dockerfile (even empty).
	isDockerfile bool
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
	// Options is the object form's options; nil for the string and boolean forms (see
	// UserOptions).
	Options map[string]any
	// Value is the value as written in the configuration (map[string]any, string or bool).
	Value any
}

// IsDockerfile reports whether the configuration builds a Dockerfile: it has dockerFile or
// build.dockerfile. The reference checks this first.
func (c *Config) IsDockerfile() bool { return c.Build != nil && c.Build.isDockerfile }

// IsImage reports whether the configuration starts from an image (has "image" and is not a
// Dockerfile configuration).
func (c *Config) IsImage() bool { return !c.IsDockerfile() && c.hasImage }

// IsCompose reports whether the configuration runs a Docker Compose service: it has
// dockerComposeFile and is neither a Dockerfile nor an image configuration.
func (c *Config) IsCompose() bool { return !c.IsDockerfile() && !c.hasImage && c.hasCompose }

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

// ForwardPortValues returns ForwardPorts with the entries written as numbers as ints, the
// form the devcontainer.metadata label and merged configuration use.
func (c *Config) ForwardPortValues() []any {
	out := make([]any, len(c.ForwardPorts))
	for i, p := range c.ForwardPorts {
		out[i] = p
		if i < len(c.forwardPortNumbers) && c.forwardPortNumbers[i] {
			if n, err := strconv.Atoi(p); err == nil {
				out[i] = n
			}
		}
	}
	return out
}

// UserOptions are the options a Feature receives from the configuration: the object form
// as is; a string or boolean value is given to mainProperty (the Feature's "version" option
// when it has one, see the reference's getFeatureValueObject), or no options when "".
func (f FeatureRef) UserOptions(mainProperty string) map[string]any {
	if f.Options != nil {
		return f.Options
	}
	if mainProperty == "" {
		return map[string]any{}
	}
	return map[string]any{mainProperty: f.Value}
}

// Result is the "configuration" object `devcontainer read-configuration` prints for c
// (call it on the substituted copy): every property in JavaScript's key order, legacy
// properties migrated, and configFilePath as the URI object the reference prints. Its
// scheme is "file" when the path came from --config (explicitConfig) and
// "vscode-fileHost" when it was discovered. The bytes are final: do not let an encoder
// HTML-escape them (json.Encoder.SetEscapeHTML(false) around a json.RawMessage).
func (c *Config) Result(explicitConfig bool) []byte {
	t := c.tree.clone()
	scheme := "vscode-fileHost"
	if explicitConfig {
		scheme = "file"
	}
	p := filepath.ToSlash(c.File)
	uri := &node{kind: '{', vals: map[string]*node{}}
	uri.set("$mid", &node{kind: '0', str: "1"})
	uri.set("fsPath", &node{kind: '"', str: c.File})
	uri.set("path", &node{kind: '"', str: p})
	uri.set("scheme", &node{kind: '"', str: scheme})
	t.set("configFilePath", uri)
	b, _ := t.MarshalJSON()
	return b
}
