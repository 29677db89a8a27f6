package devcontainer

import (
	"encoding/json"
	"math"
)

// replacedProperties are the configuration properties the merged configuration replaces by
// its own (plural) forms (the reference's replaceProperties).
var replacedProperties = append([]string{"customizations", "entrypoint", "shutdownAction"}, hookProperties...)

// JSON returns the merged configuration as the reference prints it as "mergedConfiguration"
// (read-configuration and up with --include-merged-configuration): config (the substituted
// configuration object, with whatever extra keys the caller prints, such as configFilePath)
// without customizations, entrypoint, shutdownAction and the five hooks, overlaid with the
// merged properties. Properties the merge leaves undefined are removed; init, privileged, the
// five plural hook arrays (onCreateCommands, …), remoteEnv, containerEnv and portsAttributes are
// always present, and so is hostRequirements when no entry has any property (a reference quirk).
func (m *Merged) JSON(config map[string]any) map[string]any {
	out := make(map[string]any, len(config)+16)
	for k, v := range config {
		out[k] = v
	}
	for _, k := range replacedProperties {
		delete(out, k)
	}
	set := func(k string, v any, defined bool) {
		if defined {
			out[k] = v
		} else {
			delete(out, k)
		}
	}
	set("init", m.Init, true)
	set("privileged", m.Privileged, true)
	set("capAdd", anySlice(m.CapAdd), len(m.CapAdd) > 0)
	set("securityOpt", anySlice(m.SecurityOpt), len(m.SecurityOpt) > 0)
	set("entrypoints", anySlice(m.Entrypoints), len(m.Entrypoints) > 0)
	set("mounts", m.rawMounts, len(m.rawMounts) > 0)
	if len(m.Customizations) > 0 {
		c := make(map[string]any, len(m.Customizations))
		for k, v := range m.Customizations {
			c[k] = v
		}
		out["customizations"] = c
	} else {
		delete(out, "customizations")
	}
	hooks := [][]HookCommand{m.OnCreateCommands, m.UpdateContentCommands, m.PostCreateCommands, m.PostStartCommands, m.PostAttachCommands}
	for i, name := range hookProperties {
		list := make([]any, 0, len(hooks[i]))
		for _, h := range hooks[i] {
			list = append(list, h.json())
		}
		out[name+"s"] = list
	}
	set("waitFor", m.WaitFor, m.WaitFor != "")
	set("remoteUser", m.RemoteUser, m.RemoteUser != "")
	set("containerUser", m.ContainerUser, m.ContainerUser != "")
	set("userEnvProbe", m.UserEnvProbe, m.UserEnvProbe != "")
	remoteEnv := make(map[string]any, len(m.RemoteEnv))
	for k, v := range m.RemoteEnv {
		if v == nil {
			remoteEnv[k] = nil
		} else {
			remoteEnv[k] = *v
		}
	}
	out["remoteEnv"] = remoteEnv
	containerEnv := make(map[string]any, len(m.ContainerEnv))
	for k, v := range m.ContainerEnv {
		containerEnv[k] = v
	}
	out["containerEnv"] = containerEnv
	set("overrideCommand", derefBool(m.OverrideCommand), m.OverrideCommand != nil)
	pa := make(map[string]any, len(m.PortsAttributes))
	for k, v := range m.PortsAttributes {
		pa[k] = v
	}
	out["portsAttributes"] = pa
	set("otherPortsAttributes", m.OtherPortsAttributes, m.OtherPortsAttributes != nil)
	set("forwardPorts", m.ForwardPorts, len(m.ForwardPorts) > 0)
	set("shutdownAction", m.ShutdownAction, m.ShutdownAction != "")
	set("updateRemoteUserUID", derefBool(m.UpdateRemoteUserUID), m.UpdateRemoteUserUID != nil)
	switch {
	case m.HostRequirements != nil:
		out["hostRequirements"] = m.HostRequirements.json()
	case m.noEntries:
		// The reference takes Math.max of no values (-Infinity, which is truthy) when there is
		// no metadata at all, so it prints this object for a configuration without any merged
		// property on an image without metadata.
		out["hostRequirements"] = map[string]any{"cpus": nil, "memory": "-Infinity", "storage": "-Infinity"}
	default:
		delete(out, "hostRequirements")
	}
	return out
}

// json is the command as the entry wrote it.
func (h HookCommand) json() any {
	if h.raw != nil {
		return h.raw
	}
	if h.Command == nil {
		return nil
	}
	b, err := h.Command.MarshalJSON()
	if err != nil {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func derefBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

// jsonNumber returns an int for integral values so that encoding/json prints them without an
// exponent, else the float.
func jsonNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}
