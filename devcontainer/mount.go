package devcontainer

import "fmt"

// Mount is one mount: an entry of mounts, workspaceMount or a --mount flag.
type Mount struct {
	Type        string
	Source      string
	Target      string
	ReadOnly    bool
	External    bool
	Consistency string
	// Extra are the other key=value options, in order, as written.
	Extra []string
}

// ParseMount parses the --mount string syntax.
func ParseMount(s string) (Mount, error) {
	return Mount{}, fmt.Errorf("parse mount %q: %w", s, ErrNotImplemented)
}

// String renders m as a --mount string.
func (m Mount) String() string {
	return ""
}
