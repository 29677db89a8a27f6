package devcontainer

import "fmt"

// SubstContext carries what the substitution phases need. Zero values leave the
// corresponding variables untouched.
type SubstContext struct {
	// LocalWorkspaceFolder is the host workspace folder ("" leaves ${localWorkspaceFolder}).
	LocalWorkspaceFolder string
	// ContainerWorkspaceFolder is the effective container workspace folder; it is itself
	// substituted first ("" leaves ${containerWorkspaceFolder}).
	ContainerWorkspaceFolder string
	// LookupEnv looks up host variables for ${localEnv:X} and ${env:X}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// DevcontainerID replaces ${devcontainerId}; "" leaves it.
	DevcontainerID string
	// ContainerEnv replaces ${containerEnv:X}; nil leaves it.
	ContainerEnv map[string]string
}

// Substitute returns v with variables replaced in every string of maps and arrays (keys are
// not substituted). Strings that cannot be resolved (${localEnv} without a name) are kept;
// use Config.Substitute to get such errors.
func Substitute(v any, sc SubstContext) any {
	return v
}

// Substitute returns a copy of c with every phase sc enables applied. Raw stays unsubstituted.
func (c *Config) Substitute(sc SubstContext) (*Config, error) {
	return nil, fmt.Errorf("substitute %s: %w", c.File, ErrNotImplemented)
}
