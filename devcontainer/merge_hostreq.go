package devcontainer

import (
	"math"
	"regexp"
	"strconv"
)

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
