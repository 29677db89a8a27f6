package features

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// OptionValue is one resolved option: its name and its value (string or bool).
type OptionValue struct {
	Name  string
	Value any
}

// EnvName is the option's environment variable name (SafeID of the name).
func (o OptionValue) EnvName() string { return SafeID(o.Name) }

var (
	nonWordRe      = regexp.MustCompile(`[^A-Za-z0-9_]`)
	leadingDigitRe = regexp.MustCompile(`^[0-9_]+`)
)

// SafeID turns an option name into an environment variable name like the reference CLI:
// every non-word character becomes "_", a leading run of digits and underscores becomes one
// "_", and the result is upper-cased ("install-zsh" -> "INSTALL_ZSH", "1st-flag" -> "_ST_FLAG").
func SafeID(s string) string {
	s = nonWordRe.ReplaceAllString(s, "_")
	s = leadingDigitRe.ReplaceAllString(s, "_")
	return strings.ToUpper(s)
}

// normalizeUserOptions turns the caller's value into the ordered form used here:
// *object, string, bool or nil. json.RawMessage keeps the key order as written.
func normalizeUserOptions(v any) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, *object:
		return t, nil
	case json.RawMessage:
		return decodeOrdered(t)
	case []byte:
		return decodeOrdered(t)
	case map[string]any:
		o := newObject()
		for _, k := range sortedKeys(t) {
			o.set(k, t[k])
		}
		return o, nil
	case map[string]string:
		o := newObject()
		for _, k := range sortedKeys(t) {
			o.set(k, t[k])
		}
		return o, nil
	}
	return nil, mark(ErrInvalidOption, fmt.Errorf("options must be an object, a string or a boolean, got %T", v))
}

// ResolveOptions computes a feature's option values like the reference CLI: every option with
// a default, in declaration order, overridden by the user's values. A string value stands for
// {"version": value} when the feature declares a "version" option (otherwise it is ignored);
// true, false and {} mean the defaults. Unlike the reference, options the feature does not
// declare, values of the wrong type and values outside an enum are errors naming the feature.
func ResolveOptions(userID string, m *Metadata, user any) ([]OptionValue, error) {
	user, err := normalizeUserOptions(user)
	if err != nil {
		return nil, fmt.Errorf("feature %q: %w", userID, err)
	}
	vals := newObject()
	for _, o := range m.Options {
		if o.HasDefault {
			vals.set(o.Name, o.Default)
		}
	}
	switch u := user.(type) {
	case *object:
		for _, k := range u.keys {
			v, err := checkOption(userID, m, k, u.vals[k])
			if err != nil {
				return nil, err
			}
			vals.set(k, v)
		}
	case string, bool:
		// The reference maps a shorthand value to the "version" option when there is one.
		if _, ok := m.Option("version"); ok {
			vals.set("version", jsString(u))
		}
	}
	out := make([]OptionValue, 0, len(vals.keys))
	for _, k := range vals.keys {
		out = append(out, OptionValue{Name: k, Value: vals.vals[k]})
	}
	return out, nil
}

func checkOption(userID string, m *Metadata, name string, v any) (any, error) {
	opt, ok := m.Option(name)
	if !ok {
		declared := make([]string, len(m.Options))
		for i, o := range m.Options {
			declared[i] = o.Name
		}
		hint := "the feature declares no options"
		if len(declared) > 0 {
			hint = "declared options: " + strings.Join(declared, ", ")
		}
		return nil, mark(ErrInvalidOption, fmt.Errorf("feature %q: option %q is not declared by the feature (%s)", userID, name, hint))
	}
	bad := func() error {
		return mark(ErrInvalidOption, fmt.Errorf("feature %q: option %q must be a %s, got %s", userID, name, opt.Type, describe(v)))
	}
	switch opt.Type {
	case "boolean":
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			if t == "true" || t == "false" {
				return t, nil
			}
		}
		return nil, bad()
	default:
		var s string
		switch t := v.(type) {
		case string:
			s = t
		case json.Number, float64, int:
			s = jsString(t)
		default:
			return nil, bad()
		}
		if len(opt.Enum) > 0 && !contains(opt.Enum, s) {
			quoted := make([]string, len(opt.Enum))
			for i, e := range opt.Enum {
				quoted[i] = fmt.Sprintf("%q", e)
			}
			return nil, mark(ErrInvalidOption, fmt.Errorf("feature %q: option %q: %q is not one of %s", userID, name, s, strings.Join(quoted, ", ")))
		}
		return s, nil
	}
}

// EnvFile renders devcontainer-features.env: one NAME="value" line per option, joined by
// newlines without a trailing one, values unescaped, exactly as the reference writes it.
func EnvFile(opts []OptionValue) []byte {
	lines := make([]string, len(opts))
	for i, o := range opts {
		lines[i] = fmt.Sprintf("%s=\"%s\"", o.EnvName(), jsString(o.Value))
	}
	return []byte(strings.Join(lines, "\n"))
}
