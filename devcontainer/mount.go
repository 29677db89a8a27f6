package devcontainer

import (
	"fmt"
	"regexp"
	"strings"
)

// Mount is one mount: an entry of mounts, the workspace mount or a --mount flag.
type Mount struct {
	// Type is "bind" or "volume" (or another Docker mount type, verbatim).
	Type string
	// Source is the host path or volume name; "" for an anonymous volume.
	Source string
	// Target is the path in the container.
	Target   string
	ReadOnly bool
	// External marks a compose named volume as created outside the project (--mount flag).
	External    bool
	Consistency string
	// Extra are the other key[=value] options, in order, as written.
	Extra []string
	// Spec is the string the mount was parsed from ("" for the object form). The reference
	// passes string mounts to the engine verbatim, so String returns it unchanged.
	Spec string
}

// mountKeys maps the --mount key spellings to their canonical names, as Docker and the
// reference's parseMount do.
var mountKeys = map[string]string{
	"src": "source", "source": "source",
	"dst": "target", "destination": "target", "target": "target",
}

// ParseMount parses the Docker --mount string syntax: comma-separated key=value fields
// (src/source, dst/destination/target, type, readonly/ro, consistency, external, others
// kept in Extra); a field may be wrapped in double quotes to contain commas.
func ParseMount(s string) (Mount, error) {
	m, reason := parseMount(s)
	if reason != "" {
		return Mount{}, fmt.Errorf("parse mount %q: %w: %s", s, ErrInvalid, reason)
	}
	return m, nil
}

// parseMount parses s, returning why it is not a mount when it is not.
func parseMount(s string) (Mount, string) {
	m := Mount{Spec: s}
	fields, ok := splitMountFields(s)
	if !ok {
		return Mount{}, "unterminated quote"
	}
	for _, f := range fields {
		key, val, hasVal := strings.Cut(f, "=")
		switch k := strings.ToLower(key); {
		case mountKeys[k] == "source":
			m.Source = val
		case mountKeys[k] == "target":
			m.Target = val
		case k == "type":
			m.Type = val
		case k == "readonly" || k == "ro":
			m.ReadOnly = !hasVal || val == "1" || strings.EqualFold(val, "true")
		case k == "consistency":
			m.Consistency = val
		case k == "external":
			m.External = strings.EqualFold(val, "true")
		case f == "":
		default:
			m.Extra = append(m.Extra, f)
		}
	}
	if m.Target == "" {
		return Mount{}, "no target"
	}
	return m, ""
}

// splitMountFields splits on commas outside double quotes and removes the quotes, like the
// CSV reader Docker parses --mount with.
func splitMountFields(s string) ([]string, bool) {
	var fields []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' && quoted && i+1 < len(s) && s[i+1] == '"':
			b.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			fields = append(fields, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(fields, b.String()), !quoted
}

// mountFlag is the only form the reference's --mount flag accepts.
var mountFlag = regexp.MustCompile(`^type=(bind|volume),source=([^,]+),target=([^,]+)(?:,external=(true|false))?$`)

// ParseMountFlag parses a --mount command-line flag with the reference's strict format.
func ParseMountFlag(s string) (Mount, error) {
	m := mountFlag.FindStringSubmatch(s)
	if m == nil {
		return Mount{}, fmt.Errorf("%w: Unmatched argument format: mount must match type=<bind|volume>,source=<source>,target=<target>[,external=<true|false>]", ErrInvalid)
	}
	return Mount{Type: m[1], Source: m[2], Target: m[3], External: m[4] == "true"}, nil
}

// String renders m as a --mount string: Spec when m was parsed from a string, else
// type=…,src=…,dst=… as the reference renders object mounts, followed by any options.
func (m Mount) String() string {
	if m.Spec != "" {
		return m.Spec
	}
	var parts []string
	if m.Type != "" {
		parts = append(parts, "type="+m.Type)
	}
	if m.Source != "" {
		parts = append(parts, "src="+m.Source)
	}
	parts = append(parts, "dst="+m.Target)
	if m.ReadOnly {
		parts = append(parts, "readonly")
	}
	if m.Consistency != "" {
		parts = append(parts, "consistency="+m.Consistency)
	}
	parts = append(parts, m.Extra...)
	return strings.Join(parts, ",")
}

// mounts decodes the mounts property: strings in --mount syntax or {type, source, target}.
func (d *decoder) mounts(n *node, path string) []Mount {
	if absent(n) {
		return nil
	}
	if n.kind != '[' {
		d.fail(n, path, "must be an array of mount strings or objects")
		return nil
	}
	out := make([]Mount, 0, len(n.elem))
	for i, e := range n.elem {
		p := index(path, i)
		switch e.kind {
		case '"':
			m, reason := parseMount(e.str)
			if reason != "" {
				d.fail(e, p, "is not a mount (%s)", reason)
				return nil
			}
			out = append(out, m)
		case '{':
			m := Mount{
				Type:   d.str(e.get("type"), p+".type"),
				Source: d.str(e.get("source"), p+".source"),
				Target: d.str(e.get("target"), p+".target"),
			}
			if ext := d.boolPtr(e.get("external"), p+".external"); ext != nil {
				m.External = *ext
			}
			out = append(out, m)
		default:
			d.fail(e, p, "must be a mount string or object")
			return nil
		}
	}
	return out
}
