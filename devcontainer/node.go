package devcontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tailscale/hujson"
)

// node is one JSON value of a configuration with its byte offset, keeping object keys in
// insertion order. It is what the configuration is decoded from and re-emitted as.
type node struct {
	kind byte // '{', '[', '"', '0' (number), 't', 'f', 'n'
	off  int  // byte offset of the value in the file
	str  string
	keys []string // insertion order (first occurrence)
	vals map[string]*node
	elem []*node
}

// fromHuJSON converts a parsed HuJSON value. Duplicate keys keep their first position and
// their last value, like JavaScript's JSON.parse.
func fromHuJSON(v *hujson.Value) (*node, error) {
	n := &node{off: v.StartOffset}
	switch t := v.Value.(type) {
	case *hujson.Object:
		n.kind = '{'
		n.vals = make(map[string]*node, len(t.Members))
		for i := range t.Members {
			m := &t.Members[i]
			lit, ok := m.Name.Value.(hujson.Literal)
			if !ok {
				return nil, fmt.Errorf("object key is not a string")
			}
			child, err := fromHuJSON(&m.Value)
			if err != nil {
				return nil, err
			}
			n.set(lit.String(), child)
		}
	case *hujson.Array:
		n.kind = '['
		n.elem = make([]*node, 0, len(t.Elements))
		for i := range t.Elements {
			child, err := fromHuJSON(&t.Elements[i])
			if err != nil {
				return nil, err
			}
			n.elem = append(n.elem, child)
		}
	case hujson.Literal:
		n.kind = byte(t.Kind())
		switch n.kind {
		case '"':
			n.str = t.String()
		case '0':
			n.str = string(t)
		}
	default:
		return nil, fmt.Errorf("unexpected JSON value")
	}
	return n, nil
}

// set adds or replaces the member key of an object node.
func (n *node) set(key string, v *node) {
	if _, ok := n.vals[key]; !ok {
		n.keys = append(n.keys, key)
	}
	n.vals[key] = v
}

// get returns the member key of an object node, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	return n.vals[key]
}

// del removes the member key of an object node.
func (n *node) del(key string) {
	if _, ok := n.vals[key]; !ok {
		return
	}
	delete(n.vals, key)
	for i, k := range n.keys {
		if k == key {
			n.keys = append(n.keys[:i:i], n.keys[i+1:]...)
			break
		}
	}
}

// jsKeys returns the object's keys in JavaScript property order: array-index keys in
// ascending numeric order first, then the others in insertion order.
func (n *node) jsKeys() []string {
	var idx, rest []string
	for _, k := range n.keys {
		if isArrayIndex(k) {
			idx = append(idx, k)
		} else {
			rest = append(rest, k)
		}
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.ParseUint(idx[i], 10, 64)
		b, _ := strconv.ParseUint(idx[j], 10, 64)
		return a < b
	})
	return append(idx, rest...)
}

// isArrayIndex reports whether JavaScript treats k as an integer index property key.
func isArrayIndex(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	v, _ := strconv.ParseUint(k, 10, 64)
	return v < math.MaxUint32
}

// clone returns a deep copy of n.
func (n *node) clone() *node {
	if n == nil {
		return nil
	}
	c := *n
	if n.kind == '{' {
		c.keys = append([]string(nil), n.keys...)
		c.vals = make(map[string]*node, len(n.vals))
		for k, v := range n.vals {
			c.vals[k] = v.clone()
		}
	}
	if n.kind == '[' {
		c.elem = make([]*node, len(n.elem))
		for i, v := range n.elem {
			c.elem[i] = v.clone()
		}
	}
	return &c
}

// walkStrings calls f on every string value under n (not on keys).
func (n *node) walkStrings(f func(*node)) {
	switch n.kind {
	case '"':
		f(n)
	case '{':
		for _, k := range n.keys {
			n.vals[k].walkStrings(f)
		}
	case '[':
		for _, e := range n.elem {
			e.walkStrings(f)
		}
	}
}

// value converts n to plain Go values: map[string]any, []any, string, float64, bool, nil.
func (n *node) value() any {
	switch n.kind {
	case '{':
		m := make(map[string]any, len(n.keys))
		for _, k := range n.keys {
			m[k] = n.vals[k].value()
		}
		return m
	case '[':
		a := make([]any, len(n.elem))
		for i, e := range n.elem {
			a[i] = e.value()
		}
		return a
	case '"':
		return n.str
	case '0':
		f, _ := strconv.ParseFloat(n.str, 64)
		return f
	case 't':
		return true
	case 'f':
		return false
	}
	return nil
}

// fromValue converts plain Go values (as produced by value or encoding/json) to a node.
// Map keys are taken in sorted order since Go maps have none.
func fromValue(v any) *node {
	switch t := v.(type) {
	case *node:
		return t.clone()
	case map[string]any:
		n := &node{kind: '{', vals: make(map[string]*node, len(t))}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			n.set(k, fromValue(t[k]))
		}
		return n
	case []any:
		n := &node{kind: '['}
		for _, e := range t {
			n.elem = append(n.elem, fromValue(e))
		}
		return n
	case []string:
		n := &node{kind: '['}
		for _, e := range t {
			n.elem = append(n.elem, &node{kind: '"', str: e})
		}
		return n
	case string:
		return &node{kind: '"', str: t}
	case float64:
		return &node{kind: '0', str: strconv.FormatFloat(t, 'g', -1, 64)}
	case int:
		return &node{kind: '0', str: strconv.Itoa(t)}
	case json.Number:
		return &node{kind: '0', str: string(t)}
	case bool:
		if t {
			return &node{kind: 't'}
		}
		return &node{kind: 'f'}
	}
	return &node{kind: 'n'}
}

// MarshalJSON renders n the way JavaScript's JSON.stringify does: key order as jsKeys,
// numbers in JavaScript's shortest form, no HTML escaping.
func (n *node) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	n.writeJS(&b)
	return b.Bytes(), nil
}

func (n *node) writeJS(b *bytes.Buffer) {
	switch n.kind {
	case '{':
		b.WriteByte('{')
		for i, k := range n.jsKeys() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSString(b, k)
			b.WriteByte(':')
			n.vals[k].writeJS(b)
		}
		b.WriteByte('}')
	case '[':
		b.WriteByte('[')
		for i, e := range n.elem {
			if i > 0 {
				b.WriteByte(',')
			}
			e.writeJS(b)
		}
		b.WriteByte(']')
	case '"':
		writeJSString(b, n.str)
	case '0':
		b.WriteString(jsNumber(n.str))
	case 't':
		b.WriteString("true")
	case 'f':
		b.WriteString("false")
	default:
		b.WriteString("null")
	}
}

// jsNumber formats a JSON number literal as JavaScript's Number#toString would.
func jsNumber(lit string) string {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return lit
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go writes e+06 / e-07; JavaScript writes e+6 / e-7.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[:1]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// jsString is s as JSON.stringify writes it.
func jsString(s string) []byte {
	var b bytes.Buffer
	writeJSString(&b, s)
	return b.Bytes()
}

// writeJSString writes s as JSON.stringify does: only '"', '\\' and control characters are
// escaped, lone surrogates (invalid UTF-8 here) become \ufffd's escape-free replacement.
func writeJSString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
