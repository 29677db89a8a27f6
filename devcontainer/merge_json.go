package devcontainer

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
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
// always present.
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
	if m.HostRequirements != nil {
		out["hostRequirements"] = m.HostRequirements.json()
	} else {
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

// hostReqMerge accumulates hostRequirements with the reference's rules (mergeHostRequirements).
type hostReqMerge struct {
	cpus, memory, storage float64
	gpu                   any // gpuUndefined while no entry sets gpu
}

func newHostReqMerge() hostReqMerge { return hostReqMerge{gpu: gpuUndefined} }

// gpuUndefined marks "no entry set gpu" apart from an explicit false.
type gpuUndefinedT struct{}

var gpuUndefined = gpuUndefinedT{}

func (h *hostReqMerge) add(v any) error {
	if v == nil {
		h.gpu = mergeGPU(h.gpu, gpuUndefined)
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return propError("hostRequirements", "must be an object")
	}
	switch c := obj["cpus"].(type) {
	case nil:
	case float64:
		h.cpus = math.Max(h.cpus, c)
	case int:
		h.cpus = math.Max(h.cpus, float64(c))
	default:
		return propError("hostRequirements.cpus", "must be a number")
	}
	h.memory = math.Max(h.memory, parseBytes(obj["memory"]))
	h.storage = math.Max(h.storage, parseBytes(obj["storage"]))
	g, set := obj["gpu"]
	if !set {
		g = gpuUndefined
	}
	h.gpu = mergeGPU(h.gpu, g)
	return nil
}

// result returns nil when nothing is required, as the reference leaves hostRequirements
// undefined then.
func (h *hostReqMerge) result() *MergedHostRequirements {
	gpu, gpuSet := h.gpu, h.gpu != gpuUndefined
	if !gpuSet {
		gpu = nil
	}
	if h.cpus == 0 && h.memory == 0 && h.storage == 0 && !jsTruthy(gpu) {
		return nil
	}
	return &MergedHostRequirements{
		CPUs: int(h.cpus), Memory: saturate(h.memory), Storage: saturate(h.storage), GPU: gpu,
		cpus: h.cpus, memory: h.memory, storage: h.storage, gpuSet: gpuSet,
	}
}

func saturate(f float64) int64 {
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f)
}

// json renders the requirements as the reference: cpus always, memory and storage as
// strings of bytes when set, gpu when any entry set it (false included).
func (r *MergedHostRequirements) json() map[string]any {
	out := map[string]any{"cpus": jsonNumber(r.cpus)}
	if r.memory != 0 {
		out["memory"] = jsNumber(strconv.FormatFloat(r.memory, 'g', -1, 64))
	}
	if r.storage != 0 {
		out["storage"] = jsNumber(strconv.FormatFloat(r.storage, 'g', -1, 64))
	}
	if r.gpuSet {
		out["gpu"] = r.GPU
	}
	return out
}

// jsonNumber returns an int for integral values so that encoding/json prints them without an
// exponent, else the float.
func jsonNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

var bytesRE = regexp.MustCompile(`^(\d+)([tgmk]b)?$`)

// parseBytes is the reference's parseBytes: "<digits>[tb|gb|mb|kb]" (lower case only) in
// bytes, 0 for anything else. Numbers are read as their decimal text, as JavaScript would.
func parseBytes(v any) float64 {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case float64:
		s = jsNumber(strconv.FormatFloat(t, 'g', -1, 64))
	case int:
		s = strconv.Itoa(t)
	default:
		return 0
	}
	m := bytesRE.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0
	}
	unit := 1.0
	if m[2] != "" {
		unit = map[byte]float64{'t': 1 << 40, 'g': 1 << 30, 'm': 1 << 20, 'k': 1 << 10}[m[2][0]]
	}
	return n * unit
}

// mergeGPU is the reference's mergeGpuRequirements.
func mergeGPU(a, b any) any {
	if a == gpuUndefined || a == false {
		return b
	}
	if b == gpuUndefined || b == false {
		return a
	}
	if a == "optional" && b == "optional" {
		return "optional"
	}
	ao, _ := a.(map[string]any)
	bo, _ := b.(map[string]any)
	cores := math.Max(number(ao["cores"]), number(bo["cores"]))
	memory := math.Max(parseBytes(orZero(ao["memory"])), parseBytes(orZero(bo["memory"])))
	out := map[string]any{}
	if cores != 0 {
		out["cores"] = jsonNumber(cores)
	}
	if memory != 0 {
		out["memory"] = jsNumber(strconv.FormatFloat(memory, 'g', -1, 64))
	}
	return out
}

func number(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	}
	return 0
}

func orZero(v any) any {
	if !jsTruthy(v) {
		return "0"
	}
	return v
}
