package devcontainer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// MetadataLabel is the image and container label that carries dev container metadata: a JSON
// array with one object per base image layer, Feature and devcontainer.json.
const MetadataLabel = "devcontainer.metadata"

// hookProperties are the five in-container lifecycle hooks, in the order they run.
var hookProperties = []string{"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand"}

// configProperties are the devcontainer.json properties kept in its metadata entry, in the
// reference's order (pickConfigProperties), which is also the key order of the entry.
var configProperties = []string{
	"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand",
	"waitFor", "customizations", "mounts", "containerEnv", "containerUser", "init", "privileged",
	"capAdd", "securityOpt", "remoteUser", "userEnvProbe", "remoteEnv", "overrideCommand",
	"portsAttributes", "otherPortsAttributes", "forwardPorts", "shutdownAction",
	"updateRemoteUserUID", "hostRequirements",
}

// featureProperties are the Feature properties kept in its metadata entry after "id", in the
// reference's order (pickFeatureProperties).
var featureProperties = []string{
	"onCreateCommand", "updateContentCommand", "postCreateCommand", "postStartCommand", "postAttachCommand",
	"init", "privileged", "capAdd", "securityOpt", "entrypoint", "mounts", "customizations",
}

// updateableProperties are the only devcontainer.json properties that still apply to a
// container created earlier (pickUpdateableConfigProperties).
var updateableProperties = []string{"remoteUser", "userEnvProbe", "remoteEnv"}

// MetadataEntry is one entry of the devcontainer.metadata label. It remembers the key order
// of its JSON objects, so entries read from a label, a devcontainer.json or a
// devcontainer-feature.json are written back byte for byte as the reference writes them.
// The zero value is an empty entry.
type MetadataEntry struct {
	tree *node
}

// Map returns the entry as plain values (map[string]any, []any, string, float64, bool, nil),
// the form Substitute and Merge take.
func (e MetadataEntry) Map() map[string]any {
	if e.tree == nil {
		return map[string]any{}
	}
	return e.tree.value().(map[string]any)
}

// Len is the number of properties of the entry; entries without any are left out of labels.
func (e MetadataEntry) Len() int {
	if e.tree == nil {
		return 0
	}
	return len(e.tree.keys)
}

// ID is the Feature reference of a Feature's entry, "" for other entries.
func (e MetadataEntry) ID() string {
	if n := e.tree.get("id"); n != nil && n.kind == '"' {
		return n.str
	}
	return ""
}

// MarshalJSON renders the entry as JavaScript's JSON.stringify does.
func (e MetadataEntry) MarshalJSON() ([]byte, error) {
	if e.tree == nil {
		return []byte("{}"), nil
	}
	return e.tree.MarshalJSON()
}

// ParseMetadataEntries decodes a devcontainer.metadata label value keeping key order: a JSON
// array of objects, or a single object (older images). Array elements that are not objects are
// skipped, as the reference effectively ignores them.
func ParseMetadataEntries(value string) ([]MetadataEntry, error) {
	root, err := parseTree(MetadataLabel, []byte(value))
	if err != nil {
		return nil, fmt.Errorf("parse %s label: %w", MetadataLabel, err)
	}
	switch root.kind {
	case '{':
		return []MetadataEntry{{tree: root}}, nil
	case '[':
		out := make([]MetadataEntry, 0, len(root.elem))
		for _, e := range root.elem {
			if e.kind == '{' {
				out = append(out, MetadataEntry{tree: e})
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("parse %s label: %w: not an array or object", MetadataLabel, ErrInvalid)
}

// EncodeMetadataEntries renders entries as the label value the reference gives a container
// (docker run -l devcontainer.metadata=…): JSON.stringify of the array, empty entries left out.
func EncodeMetadataEntries(entries []MetadataEntry) string {
	var b bytes.Buffer
	b.WriteByte('[')
	n := 0
	for _, e := range entries {
		if e.Len() == 0 {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		e.tree.writeJS(&b)
	}
	b.WriteByte(']')
	return b.String()
}

// MetadataEntriesInstruction renders entries as the LABEL instruction the reference appends
// to generated Dockerfiles: one entry per line, JSON with '"', '\' and '$' escaped by a
// backslash, lines continued with " \". It returns "" when there is no non-empty entry.
func MetadataEntriesInstruction(entries []MetadataEntry) string {
	var parts []string
	for _, e := range entries {
		if e.Len() == 0 {
			continue
		}
		var b bytes.Buffer
		e.tree.writeJS(&b)
		parts = append(parts, " \\\n"+labelEscaper.Replace(b.String()))
	}
	if len(parts) == 0 {
		return ""
	}
	return "LABEL " + MetadataLabel + "=\"[" + strings.Join(parts, ",") + " \\\n]\""
}

var labelEscaper = strings.NewReplacer(`"`, `\"`, `\`, `\\`, `$`, `\$`)

// MetadataEntry returns the configuration's metadata entry (the reference's
// pickConfigProperties) with its key order: the properties in the reference's pick order, their
// values as written in the file, before variable substitution (the label keeps ${localEnv:…}
// and friends so they are evaluated again on every use) and after legacy migration. It may be
// called on the parsed configuration or on a substituted copy. omit names properties to leave
// out (the reference's hidden --omit-config-remote-env-from-metadata omits "remoteEnv").
func (c *Config) MetadataEntry(omit ...string) MetadataEntry {
	root := c.tree
	if c.src != nil {
		if t, err := parseTree(c.name, c.src); err == nil && t.kind == '{' {
			migrateLegacy(t)
			root = t
		}
	}
	return MetadataEntry{tree: pickNode(root, configProperties, omit)}
}

// FeatureEntry builds a Feature's metadata entry (the reference's pickFeatureProperties) from
// its devcontainer-feature.json content, keeping key order: "id" is the Feature reference as
// the user wrote it, followed by the picked properties, after moving legacy top-level
// "extensions" and "settings" into customizations.vscode. omit names properties to leave out
// (--skip-persisting-customizations-from-features omits "customizations").
func FeatureEntry(id string, featureJSON []byte, omit ...string) (MetadataEntry, error) {
	root, err := parseTree("devcontainer-feature.json", featureJSON)
	if err != nil {
		return MetadataEntry{}, fmt.Errorf("feature %s: %w", id, err)
	}
	if root.kind != '{' {
		return MetadataEntry{}, fmt.Errorf("feature %s: devcontainer-feature.json: %w: not an object", id, ErrInvalid)
	}
	// Features migrate only extensions and settings; devPort is not picked either way.
	root.del("devPort")
	migrateLegacy(root)
	picked := pickNode(root, featureProperties, omit)
	n := &node{kind: '{', vals: map[string]*node{}}
	n.set("id", &node{kind: '"', str: id})
	for _, k := range picked.keys {
		n.set(k, picked.vals[k])
	}
	return MetadataEntry{tree: n}, nil
}

// pickNode copies the members of root named in keys, in that order, except those in omit.
func pickNode(root *node, keys, omit []string) *node {
	out := &node{kind: '{', vals: map[string]*node{}}
	for _, k := range keys {
		if v := root.get(k); v != nil && !slices.Contains(omit, k) {
			out.set(k, v.clone())
		}
	}
	return out
}
