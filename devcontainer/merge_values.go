package devcontainer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Readers for the typed properties of a metadata entry (plain decoded JSON values).

func propError(name, msg string) error {
	return fmt.Errorf("%q %s: %w", name, msg, ErrInvalid)
}

// boolProp reads an optional boolean; null counts as unset.
func boolProp(e map[string]any, name string) (*bool, error) {
	switch v := e[name].(type) {
	case nil:
		return nil, nil
	case bool:
		return &v, nil
	}
	return nil, propError(name, "must be a boolean")
}

// stringProp reads an optional string; null counts as unset.
func stringProp(e map[string]any, name string) (string, error) {
	switch v := e[name].(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", propError(name, "must be a string")
}

// stringsProp reads an optional array of strings; null counts as unset.
func stringsProp(e map[string]any, name string) ([]string, error) {
	switch v := e[name].(type) {
	case nil:
		return nil, nil
	case []string:
		return v, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, propError(fmt.Sprintf("%s[%d]", name, i), "must be a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, propError(name, "must be an array of strings")
}

// jsParseInt is JavaScript's parseInt(s, 10) for the port strings it sees here: leading blanks
// and sign, then decimal digits. It returns nil (NaN, which JSON renders as null) without digits.
func jsParseInt(s string) any {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return nil
	}
	n, err := strconv.Atoi(s[:end])
	if err != nil {
		f, _ := strconv.ParseFloat(s[:end], 64)
		if neg {
			f = -f
		}
		return f
	}
	if neg {
		n = -n
	}
	return n
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
