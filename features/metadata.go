package features

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
)

// MetadataFile is the name of a feature's metadata file.
const MetadataFile = "devcontainer-feature.json"

// Option is one declared option of a feature.
type Option struct {
	Name        string
	Type        string // "string" or "boolean"
	Default     any    // string or bool; nil without a default
	HasDefault  bool
	Description string
	Enum        []string
	Proposals   []string
}

// EnvVar is a name/value pair whose order matters.
type EnvVar struct {
	Name  string
	Value string
}

// Dependency is one entry of dependsOn: a feature reference and the options to install it with.
type Dependency struct {
	Ref     string
	Options any // as written: map[string]any, string or bool

	ordered any // Options with key order kept
}

// Metadata is a parsed devcontainer-feature.json. Raw holds the whole document as
// map[string]any; the typed fields are what this package and its callers need.
type Metadata struct {
	ID               string
	Version          string
	Name             string
	Description      string
	DocumentationURL string
	LicenseURL       string
	Keywords         []string
	Options          []Option // in declaration order
	ContainerEnv     []EnvVar // in declaration order
	Privileged       *bool
	Init             *bool
	CapAdd           []string
	SecurityOpt      []string
	Entrypoint       string
	Mounts           []any // strings or mount objects
	Customizations   map[string]any
	DependsOn        []Dependency // in declaration order
	InstallsAfter    []string
	LegacyIDs        []string
	CurrentID        string
	Deprecated       bool
	// Lifecycle hooks by name (onCreateCommand, ...), as written: string, []any or map.
	Hooks map[string]any

	Raw map[string]any

	doc *object
}

var metadataIDRe = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// HookNames are the lifecycle hooks a feature may declare, in the order they run.
var HookNames = []string{"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand"}

// Option returns the declared option called name.
func (m *Metadata) Option(name string) (Option, bool) {
	for _, o := range m.Options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// ParseMetadata parses and validates devcontainer-feature.json (JSON with comments). file
// names the document in errors.
func ParseMetadata(file string, data []byte) (*Metadata, error) {
	v, err := parseJSONC(data)
	if err != nil {
		return nil, fmt.Errorf("%w: parse %s: %v", ErrInvalidMetadata, file, err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("%w: %s: expected a JSON object", ErrInvalidMetadata, file)
	}
	p := metaParser{file: file, m: &Metadata{doc: doc, Raw: plain(doc).(map[string]any), Hooks: map[string]any{}}}
	p.parse(doc)
	if p.err != nil {
		return nil, p.err
	}
	return p.m, nil
}

// describe names a JSON value's type for error messages: `string "x"`, `boolean true`, ...
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", t)
	case bool:
		return fmt.Sprintf("boolean %t", t)
	case json.Number, float64, int:
		return fmt.Sprintf("number %v", t)
	case []any:
		return "an array"
	case *object, map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MetadataEntry returns the feature's entry for the devcontainer.metadata label, as the
// reference picks it: id (the user's reference), the lifecycle hooks, init, privileged,
// capAdd, securityOpt, entrypoint, mounts and customizations. containerEnv is not part of it
// (it becomes ENV in the image).
func (m *Metadata) MetadataEntry(userID string) map[string]any {
	e := map[string]any{"id": userID}
	for _, k := range metadataEntryKeys {
		if v, ok := m.Raw[k]; ok {
			e[k] = v
		}
	}
	return e
}

var metadataEntryKeys = append(append([]string(nil), HookNames...), "init", "privileged", "capAdd", "securityOpt", "entrypoint", "mounts", "customizations")

// MetadataEntryJSON is MetadataEntry serialised like the reference: keys in its pick order,
// nested objects in the order written in devcontainer-feature.json.
func (m *Metadata) MetadataEntryJSON(userID string) json.RawMessage {
	e := newObject()
	e.set("id", userID)
	for _, k := range metadataEntryKeys {
		if v, ok := m.doc.get(k); ok {
			e.set(k, v)
		}
	}
	return json.RawMessage(stringify(e, 0))
}
