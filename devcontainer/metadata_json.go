package devcontainer

import (
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
)

// NewMetadataEntry makes an entry from plain values. Go maps do not remember key order, so
// keys get a canonical order: "id" first, then the properties in the reference's pick order
// (Feature order for entries with an id, devcontainer.json order otherwise), then any other
// keys; nested objects in JavaScript's order for sorted keys (array-index keys ascending, then
// the rest sorted). Encoded, it equals the reference's bytes whenever the source wrote its
// nested objects in that order.
func NewMetadataEntry(e map[string]any) MetadataEntry {
	if len(e) == 0 {
		return MetadataEntry{}
	}
	return MetadataEntry{tree: entryNode(e)}
}

// entryNode converts one entry with keys in NewMetadataEntry's canonical order.
func entryNode(e map[string]any) *node {
	order := configProperties
	if _, ok := e["id"]; ok {
		order = featureProperties
	}
	keys := make([]string, 0, len(e))
	seen := map[string]bool{}
	for _, group := range [][]string{{"id"}, order, configProperties, featureProperties} {
		for _, k := range group {
			if _, ok := e[k]; ok && !seen[k] {
				keys = append(keys, k)
				seen[k] = true
			}
		}
	}
	var rest []string
	for k := range e {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	n := &node{kind: '{', vals: map[string]*node{}}
	for _, k := range append(keys, jsSorted(rest)...) {
		n.set(k, valueNode(e[k]))
	}
	return n
}

// jsSorted sorts keys and then puts array-index keys first, ascending, as a JavaScript object
// built from sorted keys enumerates them.
func jsSorted(keys []string) []string {
	sort.Strings(keys)
	n := &node{kind: '{', keys: keys}
	return n.jsKeys()
}

// valueNode converts a decoded JSON value (or typed Go values from callers) to a node; object
// keys are sorted since Go maps have no order.
func valueNode(v any) *node {
	switch t := v.(type) {
	case nil:
		return &node{kind: 'n'}
	case *node:
		return t.clone()
	case string:
		return &node{kind: '"', str: t}
	case bool:
		if t {
			return &node{kind: 't'}
		}
		return &node{kind: 'f'}
	case float64:
		return &node{kind: '0', str: strconv.FormatFloat(t, 'g', -1, 64)}
	case float32:
		return &node{kind: '0', str: strconv.FormatFloat(float64(t), 'g', -1, 32)}
	case json.Number:
		return &node{kind: '0', str: string(t)}
	case map[string]any:
		n := &node{kind: '{', vals: make(map[string]*node, len(t))}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.set(k, valueNode(t[k]))
		}
		return n
	case []any:
		n := &node{kind: '['}
		for _, e := range t {
			n.elem = append(n.elem, valueNode(e))
		}
		return n
	case json.Marshaler:
		return marshalerNode(t)
	}
	return reflectNode(reflect.ValueOf(v))
}

// reflectNode handles the typed values callers may put in entries: integers, typed slices and
// maps (map[string]string, []string, map[string]*string, …).
func reflectNode(rv reflect.Value) *node {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &node{kind: '0', str: strconv.FormatInt(rv.Int(), 10)}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &node{kind: '0', str: strconv.FormatUint(rv.Uint(), 10)}
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return &node{kind: 'n'}
		}
		return valueNode(rv.Elem().Interface())
	case reflect.Slice, reflect.Array:
		n := &node{kind: '['}
		for i := 0; i < rv.Len(); i++ {
			n.elem = append(n.elem, valueNode(rv.Index(i).Interface()))
		}
		return n
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return valueNode(m)
	case reflect.String:
		return &node{kind: '"', str: rv.String()}
	case reflect.Bool:
		return valueNode(rv.Bool())
	case reflect.Float32, reflect.Float64:
		return valueNode(rv.Float())
	}
	if rv.IsValid() && rv.CanInterface() {
		if b, err := json.Marshal(rv.Interface()); err == nil {
			var v any
			if json.Unmarshal(b, &v) == nil {
				return valueNode(v)
			}
		}
	}
	return &node{kind: 'n'}
}

func marshalerNode(m json.Marshaler) *node {
	b, err := m.MarshalJSON()
	if err != nil {
		return &node{kind: 'n'}
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return &node{kind: 'n'}
	}
	return valueNode(v)
}
