package devcontainer

import (
	"fmt"
	"os"
	"path/filepath"
)

// Discover returns the absolute path of the configuration file for a workspace:
// configPath (relative to the working directory) when given, else the first existing file
// of <ws>/.devcontainer/devcontainer.json and <ws>/.devcontainer.json, the two places the
// reference looks. When nothing is found the error is a *NotFoundError naming the path the
// reference names.
func Discover(workspaceFolder, configPath string) (string, error) {
	if configPath != "" {
		abs, err := filepath.Abs(configPath)
		if err != nil {
			return "", fmt.Errorf("discover dev container config: %w", err)
		}
		if !isFile(abs) {
			return "", &NotFoundError{Path: abs}
		}
		return abs, nil
	}
	ws, err := filepath.Abs(workspaceFolder)
	if err != nil {
		return "", fmt.Errorf("discover dev container config: %w", err)
	}
	for _, p := range WellKnownPaths(ws) {
		if isFile(p) {
			return p, nil
		}
	}
	return "", &NotFoundError{Path: DefaultPath(ws)}
}

// WellKnownPaths are the configuration files the reference looks for in a workspace, in order.
func WellKnownPaths(workspaceFolder string) []string {
	return []string{
		filepath.Join(workspaceFolder, ".devcontainer", "devcontainer.json"),
		filepath.Join(workspaceFolder, ".devcontainer.json"),
	}
}

// DefaultPath is the configuration path used when none exists (with --override-config, and
// in the not-found message): <ws>/.devcontainer/devcontainer.json.
func DefaultPath(workspaceFolder string) string {
	return filepath.Join(workspaceFolder, ".devcontainer", "devcontainer.json")
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// NotFoundError reports a missing configuration with the reference's exact message.
type NotFoundError struct {
	// Path is the absolute configuration path that was expected.
	Path string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("Dev container config (%s) not found.", e.Path)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// CheckConfigName is the check the reference's `up` makes on --config: the file must be
// named devcontainer.json or .devcontainer.json. path should be absolute.
func CheckConfigName(path string) error {
	if b := filepath.Base(path); b != "devcontainer.json" && b != ".devcontainer.json" {
		return fmt.Errorf("Filename must be devcontainer.json or .devcontainer.json (%s).", path)
	}
	return nil
}
