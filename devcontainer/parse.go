package devcontainer

import "fmt"

// Parse decodes the devcontainer.json content data; file names the file in errors and
// becomes Config.File (made absolute).
func Parse(file string, data []byte) (*Config, error) {
	return nil, fmt.Errorf("parse %s: %w", file, ErrNotImplemented)
}

// Load reads and parses the devcontainer.json at path.
func Load(path string) (*Config, error) {
	return nil, fmt.Errorf("load %s: %w", path, ErrNotImplemented)
}

// LoadOverride reads the content of overridePath (--override-config) in place of
// configPath's, while the configuration keeps configPath as its File, so relative paths
// resolve against configPath's directory as the reference does.
func LoadOverride(configPath, overridePath string) (*Config, error) {
	return nil, fmt.Errorf("load %s: %w", overridePath, ErrNotImplemented)
}

// Result is the "configuration" object `devcontainer read-configuration` prints for c:
// the configuration's properties in the reference's key order plus configFilePath.
// Encode it with HTML escaping off to match the reference byte for byte.
func (c *Config) Result() []byte {
	return nil
}

// node is one JSON value of a configuration, with its position and JavaScript key order.
type node struct {
	kind byte // '{', '[', '"', '0' (number), 't', 'f', 'n'
	off  int  // byte offset of the value in the file
	str  string
	keys []string
	vals map[string]*node
	elem []*node
}
