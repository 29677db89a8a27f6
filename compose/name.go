package compose

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// NameInput is what the reference CLI looks at to name a compose project.
type NameInput struct {
	// Env is the environment mochi runs in (COMPOSE_PROJECT_NAME).
	Env map[string]string
	// WorkspaceFolder is the workspace (the reference's working directory and config
	// folder): its .env may set COMPOSE_PROJECT_NAME, and compose files in its .devcontainer
	// folder give the "<folder>_devcontainer" name.
	WorkspaceFolder string
	// Files are the compose files, absolute, in order.
	Files []string
	// ConfigName is the project name of the normalised compose configuration (what
	// `docker compose config` prints: the interpolated top-level name, or the name Compose
	// derives from the first file's folder).
	ConfigName string
}

// ProjectName names a compose project exactly as the Dev Container reference CLI does
// (dockerCompose.ts getProjectName), first match wins: COMPOSE_PROJECT_NAME in the
// environment; COMPOSE_PROJECT_NAME= in the workspace's .env; the configuration's name unless
// it is "devcontainer" (then only if a compose file sets name explicitly); "<workspace
// basename>_devcontainer" when the first compose file sits in <workspace>/.devcontainer;
// else the basename of the first compose file's folder. The result is lower-cased and
// stripped of characters outside [-_a-z0-9].
func ProjectName(in NameInput) string {
	if n := sanitizeName(in.Env["COMPOSE_PROJECT_NAME"]); n != "" {
		return n
	}
	if in.WorkspaceFolder != "" {
		if data, err := os.ReadFile(filepath.Join(in.WorkspaceFolder, ".env")); err == nil {
			if m := envProjectName.FindSubmatch(data); m != nil {
				if n := sanitizeName(strings.TrimSpace(string(m[1]))); n != "" {
					return n
				}
			}
		}
	}
	if in.ConfigName != "" {
		if in.ConfigName != "devcontainer" {
			return sanitizeName(in.ConfigName)
		}
		for i := len(in.Files) - 1; i >= 0; i-- {
			if data, err := os.ReadFile(in.Files[i]); err == nil && explicitName.Match(data) {
				return sanitizeName(in.ConfigName)
			}
		}
	}
	dir := in.WorkspaceFolder
	if len(in.Files) > 0 {
		dir = filepath.Dir(in.Files[0])
	}
	if in.WorkspaceFolder != "" && filepath.Clean(dir) == filepath.Join(in.WorkspaceFolder, ".devcontainer") {
		return sanitizeName(filepath.Base(in.WorkspaceFolder) + "_devcontainer")
	}
	return sanitizeName(filepath.Base(dir))
}

var (
	// envProjectName is the reference's pattern for COMPOSE_PROJECT_NAME in a .env file;
	// like JavaScript's `.`, [^\n] stops at a newline only.
	envProjectName = regexp.MustCompile(`(?m)^COMPOSE_PROJECT_NAME=([^\n]+)$`)
	// explicitName finds a non-empty top-level name property in a compose file.
	explicitName = regexp.MustCompile(`(?m)^name:[ \t]*[^\s#]`)
	nameDrop     = regexp.MustCompile(`[^-_a-z0-9]`)
)

// sanitizeName lower-cases s and drops characters outside [-_a-z0-9], as the reference does
// for Compose >= 1.21.
func sanitizeName(s string) string {
	return nameDrop.ReplaceAllString(strings.ToLower(s), "")
}

// ContainerName is the name Compose v2 gives the number'th container of a service.
func ContainerName(project, service string, number int) string {
	return project + separator + service + separator + strconv.Itoa(number)
}

// DefaultImageName is the tag Compose v2 gives the image it builds for a service without
// an image property.
func DefaultImageName(project, service string) string {
	return project + separator + service
}
