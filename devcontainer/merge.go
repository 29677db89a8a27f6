package devcontainer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// Merged is the effective configuration merged from metadata entries (base image entries,
// Features, devcontainer.json) with the reference's per-property rules (mergeConfiguration).
type Merged struct {
	// Init and Privileged are true if any entry sets them.
	Init, Privileged bool
	// CapAdd and SecurityOpt are the ordered union of all entries.
	CapAdd, SecurityOpt []string
	// Entrypoints are the entries' entrypoint values in order (Features contribute them).
	Entrypoints []string
	// Mounts are all entries' mounts in order; of mounts with the same target only the last
	// one is kept.
	Mounts []Mount

	// The in-container lifecycle hooks: every entry's command, in entry order.
	OnCreateCommands      []HookCommand
	UpdateContentCommands []HookCommand
	PostCreateCommands    []HookCommand
	PostStartCommands     []HookCommand
	PostAttachCommands    []HookCommand

	// The last non-empty value of each.
	WaitFor, RemoteUser, ContainerUser, UserEnvProbe, ShutdownAction string
	// The last boolean value of each (nil when no entry sets one).
	OverrideCommand, UpdateRemoteUserUID *bool

	// RemoteEnv, ContainerEnv and PortsAttributes are merged key by key, later entries
	// winning. A RemoteEnv value is nil when an entry sets it to null.
	RemoteEnv       map[string]*string
	ContainerEnv    map[string]string
	PortsAttributes map[string]any
	// OtherPortsAttributes is the last non-empty value (an object), or nil.
	OtherPortsAttributes any
	// ForwardPorts is the union of all entries' ports: ints for port numbers (a
	// "localhost:N" string counts as N), strings for host:port.
	ForwardPorts []any
	// HostRequirements is nil when no entry sets a requirement.
	HostRequirements *MergedHostRequirements
	// Customizations holds, per tool (vscode, jetbrains, …), each entry's object in order;
	// merging inside is left to the tool.
	Customizations map[string][]any

	// raw values kept to render the reference's JSON.
	rawMounts []any
	forwardKs []string // dedupe keys of ForwardPorts
	// noEntries: no entry had any property (see JSON).
	noEntries bool
}

// HookCommand is one lifecycle command contributed by a metadata entry.
type HookCommand struct {
	// Origin is the Feature id of the entry, or "" for devcontainer.json and image entries
	// without an id (the reference logs those as "devcontainer.json").
	Origin  string
	Command *Command
	raw     any
}

// MergedHostRequirements is the maximum of all entries' hostRequirements.
type MergedHostRequirements struct {
	CPUs int
	// Memory and Storage are in bytes; 0 when no entry sets them.
	Memory, Storage int64
	// GPU is nil (no entry sets it), false, true, "optional" or an object with "cores" and/or
	// "memory", as merged by the reference: false and unset yield to the other value,
	// optional and optional stay optional, any other pair becomes the object of the maximum
	// cores and memory (bytes, as a string).
	GPU any

	cpus, memory, storage float64
	gpuSet                bool // an entry set gpu (GPU may be nil for an explicit null)
}

// Merge merges metadata entries (already variable-substituted) in order. Values of the wrong
// type are errors naming the entry and property.
func Merge(entries []map[string]any) (*Merged, error) {
	m := &Merged{
		RemoteEnv:       map[string]*string{},
		ContainerEnv:    map[string]string{},
		PortsAttributes: map[string]any{},
	}
	hr := newHostReqMerge()
	for i, e := range entries {
		if err := m.add(e, &hr); err != nil {
			return nil, fmt.Errorf("metadata entry %d: %w", i, err)
		}
	}
	m.Mounts, m.rawMounts = dedupeMounts(m.Mounts, m.rawMounts)
	m.HostRequirements = hr.result()
	m.noEntries = !slices.ContainsFunc(entries, func(e map[string]any) bool { return len(e) > 0 })
	return m, nil
}

func (m *Merged) add(e map[string]any, hr *hostReqMerge) error {
	origin, _ := e["id"].(string)
	if b, err := boolProp(e, "init"); err != nil {
		return err
	} else if b != nil && *b {
		m.Init = true
	}
	if b, err := boolProp(e, "privileged"); err != nil {
		return err
	} else if b != nil && *b {
		m.Privileged = true
	}
	for _, p := range []struct {
		name string
		dst  *[]string
	}{{"capAdd", &m.CapAdd}, {"securityOpt", &m.SecurityOpt}} {
		list, err := stringsProp(e, p.name)
		if err != nil {
			return err
		}
		for _, s := range list {
			if !slices.Contains(*p.dst, s) {
				*p.dst = append(*p.dst, s)
			}
		}
	}
	if s, err := stringProp(e, "entrypoint"); err != nil {
		return err
	} else if s != "" {
		m.Entrypoints = append(m.Entrypoints, s)
	}
	if err := m.addMounts(e["mounts"]); err != nil {
		return err
	}
	hooks := []*[]HookCommand{&m.OnCreateCommands, &m.UpdateContentCommands, &m.PostCreateCommands, &m.PostStartCommands, &m.PostAttachCommands}
	for i, name := range hookProperties {
		if err := addHook(hooks[i], e, name, origin); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"waitFor", &m.WaitFor}, {"remoteUser", &m.RemoteUser}, {"containerUser", &m.ContainerUser}, {"userEnvProbe", &m.UserEnvProbe}, {"shutdownAction", &m.ShutdownAction}} {
		s, err := stringProp(e, p.name)
		if err != nil {
			return err
		}
		if s != "" {
			*p.dst = s
		}
	}
	for _, p := range []struct {
		name string
		dst  **bool
	}{{"overrideCommand", &m.OverrideCommand}, {"updateRemoteUserUID", &m.UpdateRemoteUserUID}} {
		if b, ok := e[p.name].(bool); ok {
			*p.dst = &b
		}
	}
	if err := m.addEnv(e); err != nil {
		return err
	}
	if pa, ok := e["portsAttributes"].(map[string]any); ok {
		for k, v := range pa {
			m.PortsAttributes[k] = v
		}
	} else if e["portsAttributes"] != nil {
		return propError("portsAttributes", "must be an object")
	}
	if v := e["otherPortsAttributes"]; jsTruthy(v) {
		m.OtherPortsAttributes = v
	}
	if err := m.addForwardPorts(e["forwardPorts"]); err != nil {
		return err
	}
	if err := hr.add(e["hostRequirements"]); err != nil {
		return err
	}
	if c, ok := e["customizations"].(map[string]any); ok {
		for _, k := range sortedKeys(c) {
			if m.Customizations == nil {
				m.Customizations = map[string][]any{}
			}
			m.Customizations[k] = append(m.Customizations[k], c[k])
		}
	} else if e["customizations"] != nil {
		return propError("customizations", "must be an object")
	}
	return nil
}

func (m *Merged) addMounts(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return propError("mounts", "must be an array")
	}
	for i, x := range list {
		var mt Mount
		switch t := x.(type) {
		case string:
			p, err := ParseMount(t)
			if err != nil {
				return fmt.Errorf("\"mounts[%d]\": %w", i, err)
			}
			mt = p
		case map[string]any:
			mt.Type, _ = t["type"].(string)
			mt.Source, _ = t["source"].(string)
			mt.Target, _ = t["target"].(string)
			if mt.Target == "" {
				return propError(fmt.Sprintf("mounts[%d]", i), "has no target")
			}
		default:
			return propError(fmt.Sprintf("mounts[%d]", i), "must be a string or an object")
		}
		m.Mounts = append(m.Mounts, mt)
		m.rawMounts = append(m.rawMounts, x)
	}
	return nil
}

// dedupeMounts keeps, for each target, only the last mount, preserving order otherwise.
func dedupeMounts(ms []Mount, raw []any) ([]Mount, []any) {
	seen := map[string]bool{}
	keep := make([]bool, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		if !seen[ms[i].Target] {
			seen[ms[i].Target] = true
			keep[i] = true
		}
	}
	var outM []Mount
	var outR []any
	for i := range ms {
		if keep[i] {
			outM = append(outM, ms[i])
			outR = append(outR, raw[i])
		}
	}
	return outM, outR
}

func addHook(dst *[]HookCommand, e map[string]any, name, origin string) error {
	v := e[name]
	if !jsTruthy(v) {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return propError(name, err.Error())
	}
	c := &Command{}
	if err := c.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("%q: %w", name, err)
	}
	*dst = append(*dst, HookCommand{Origin: origin, Command: c, raw: v})
	return nil
}

func (m *Merged) addEnv(e map[string]any) error {
	if v := e["remoteEnv"]; v != nil {
		obj, ok := v.(map[string]any)
		if !ok {
			return propError("remoteEnv", "must be an object")
		}
		for k, x := range obj {
			switch s := x.(type) {
			case nil:
				m.RemoteEnv[k] = nil
			case string:
				m.RemoteEnv[k] = &s
			default:
				return propError("remoteEnv."+k, "must be a string or null")
			}
		}
	}
	if v := e["containerEnv"]; v != nil {
		obj, ok := v.(map[string]any)
		if !ok {
			return propError("containerEnv", "must be an object")
		}
		for k, x := range obj {
			s, ok := x.(string)
			if !ok {
				return propError("containerEnv."+k, "must be a string")
			}
			m.ContainerEnv[k] = s
		}
	}
	return nil
}

var localhostPort = regexp.MustCompile(`localhost:\d+`)

// addForwardPorts adds ports with the reference's dedupe: a number N and the string
// "localhost:N" are the same port, kept as the number N.
func (m *Merged) addForwardPorts(v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return propError("forwardPorts", "must be an array")
	}
	for i, x := range list {
		var key string
		switch t := x.(type) {
		case string:
			key = t
		case float64:
			key = "localhost:" + strconv.FormatFloat(t, 'f', -1, 64)
		case int:
			key = "localhost:" + strconv.Itoa(t)
		default:
			return propError(fmt.Sprintf("forwardPorts[%d]", i), "must be a number or a string")
		}
		if slices.Contains(m.forwardKs, key) {
			continue
		}
		m.forwardKs = append(m.forwardKs, key)
		if localhostPort.MatchString(key) {
			m.ForwardPorts = append(m.ForwardPorts, jsParseInt(key[min(len(key), len("localhost:")):]))
		} else {
			m.ForwardPorts = append(m.ForwardPorts, key)
		}
	}
	return nil
}
