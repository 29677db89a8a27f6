package workspace

import "encoding/json"

// Locate says how to find the workspace's configuration and container; it is shared by
// every verb.
type Locate struct {
	// WorkspaceFolder is the host project folder (default: the current directory).
	WorkspaceFolder string
	// ConfigFile is an explicit devcontainer.json.
	ConfigFile string
	// OverrideConfig replaces the content of the config file (paths stay relative to it).
	OverrideConfig string
	// IDLabels replace the default id labels (k=v).
	IDLabels []string
	// ContainerID names the container directly (exec, run-user-commands, set-up).
	ContainerID string
	// MountWorkspaceGitRoot mounts the Git root instead of the folder (default true).
	MountWorkspaceGitRoot bool
}

// HookOptions control the lifecycle hooks run in the container.
type HookOptions struct {
	SkipPostCreate      bool
	SkipPostAttach      bool
	SkipNonBlocking     bool
	Prebuild            bool
	StopForPersonalize  bool
	RemoteEnv           []string // k=v from --remote-env
	Secrets             map[string]string
	DefaultUserEnvProbe string
	ContainerDataFolder string
	SystemDataFolder    string
	SessionDataFolder   string
	Dotfiles            Dotfiles
}

// Dotfiles configure the dotfiles repository installed once per container.
type Dotfiles struct {
	Repository     string
	InstallCommand string
	TargetPath     string
}

// UpOptions are the flags of `mochi up`.
type UpOptions struct {
	Locate
	HookOptions
	FeatureOptions
	// Name names the workspace (default: the folder's basename, made unique).
	Name string
	// ExtraLabels are added to a new container (for example the worktree a named workspace
	// belongs to).
	ExtraLabels                map[string]string
	RemoveExisting             bool
	ExpectExisting             bool
	BuildNoCache               bool
	Mounts                     []string
	AdditionalFeatures         string
	IncludeConfiguration       bool
	IncludeMergedConfiguration bool
	WorkspaceMountConsistency  string
	UpdateRemoteUserUIDDefault string
	CacheFrom                  []string
}

// UpResult is the JSON line `mochi up` prints, field for field the reference's.
type UpResult struct {
	Outcome               string              `json:"outcome"`
	ContainerID           string              `json:"containerId,omitempty"`
	ComposeProjectName    string              `json:"composeProjectName,omitempty"`
	RemoteUser            string              `json:"remoteUser,omitempty"`
	RemoteWorkspaceFolder string              `json:"remoteWorkspaceFolder,omitempty"`
	Workspace             string              `json:"workspace,omitempty"`
	Configuration         json.RawMessage     `json:"configuration,omitempty"`
	MergedConfiguration   map[string]any      `json:"mergedConfiguration,omitempty"`
	OCIAuthDiagnostics    *OCIAuthDiagnostics `json:"ociAuthDiagnostics,omitempty"`
	// Created says this up made the container (not printed).
	Created bool `json:"-"`
}

// OCIAuthDiagnostics is the diagnostics object reference CLI 0.89 adds to up, build and
// read-configuration results. mochi makes no credential look-up that a redirect could
// block, so every field is false; it is printed so results compare equal.
type OCIAuthDiagnostics struct {
	AuthLookupWouldBeBlocked                         bool `json:"authLookupWouldBeBlocked"`
	RegistryRedirectWouldPreventCredentialForwarding bool `json:"registryRedirectWouldPreventCredentialForwarding"`
	AuthServerRedirect                               bool `json:"authServerRedirect"`
}
