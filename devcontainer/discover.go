package devcontainer

import "fmt"

// Discover returns the absolute path of the configuration file for a workspace: configPath
// (relative to the working directory) when given, else the first existing of
// <ws>/.devcontainer/devcontainer.json and <ws>/.devcontainer.json.
func Discover(workspaceFolder, configPath string) (string, error) {
	return "", fmt.Errorf("discover: %w", ErrNotImplemented)
}
