package devcontainer

import "fmt"

// Layout is where the workspace lives in the container.
type Layout struct {
	// HostSource is the host folder mounted (the Git root or the workspace folder); "" for compose.
	HostSource string
	// WorkspaceMount is the --mount string for the workspace, "" for none.
	WorkspaceMount string
	// WorkspaceFolder is the container path processes start in.
	WorkspaceFolder string
}

// ComputeLayout computes the workspace mount and folder for c opened from localFolder.
func ComputeLayout(c *Config, localFolder string, mountGitRoot bool) (Layout, error) {
	return Layout{}, fmt.Errorf("layout: %w", ErrNotImplemented)
}
