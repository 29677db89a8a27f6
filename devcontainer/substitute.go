package devcontainer

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// SubstContext carries what the substitution phases need. Zero values leave the
// corresponding variables untouched, so one context can run any subset of the reference's
// three phases: local (localEnv/env, local and container workspace folders), id
// (devcontainerId) and container (containerEnv).
type SubstContext struct {
	// LocalWorkspaceFolder is the host workspace folder ("" leaves ${localWorkspaceFolder}
	// and ${localWorkspaceFolderBasename}).
	LocalWorkspaceFolder string
	// ContainerWorkspaceFolder is the effective container workspace folder; it is itself
	// substituted first ("" leaves ${containerWorkspaceFolder}).
	ContainerWorkspaceFolder string
	// LookupEnv looks up host variables for ${localEnv:X} and ${env:X}; nil leaves those
	// variables untouched (use os.LookupEnv for the process environment).
	LookupEnv func(string) (string, bool)
	// DevcontainerID replaces ${devcontainerId}; "" leaves it.
	DevcontainerID string
	// ContainerEnv replaces ${containerEnv:X}; nil leaves it.
	ContainerEnv map[string]string
	// ConfigFile names the configuration in errors ("" for none).
	ConfigFile string
}

// HostEnv is the process environment, for SubstContext.LookupEnv.
var HostEnv = os.LookupEnv

// variable is the reference's pattern: non-greedy, never across a newline.
var variable = regexp.MustCompile(`\$\{([^\n\r\x{2028}\x{2029}]*?)\}`)

// Substitute returns v with variables replaced in every string of maps and arrays (keys are
// not substituted). v may be a string, []any, []string, map[string]any,
// map[string]string or map[string]*string; other values are returned as they are.
// Variables that cannot be resolved (${localEnv} without a name) are left in place; use
// SubstituteString or Config.Substitute to get the error.
func Substitute(v any, sc SubstContext) any {
	r := sc.replacer()
	var walk func(any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case string:
			s, _ := r.replace(t)
			return s
		case []any:
			out := make([]any, len(t))
			for i, e := range t {
				out[i] = walk(e)
			}
			return out
		case []string:
			out := make([]string, len(t))
			for i, e := range t {
				out[i], _ = r.replace(e)
			}
			return out
		case map[string]any:
			out := make(map[string]any, len(t))
			for k, e := range t {
				out[k] = walk(e)
			}
			return out
		case map[string]string:
			out := make(map[string]string, len(t))
			for k, e := range t {
				out[k], _ = r.replace(e)
			}
			return out
		case map[string]*string:
			out := make(map[string]*string, len(t))
			for k, e := range t {
				if e != nil {
					s, _ := r.replace(*e)
					e = &s
				}
				out[k] = e
			}
			return out
		}
		return v
	}
	return walk(v)
}

// SubstituteString replaces the variables of one string.
func SubstituteString(s string, sc SubstContext) (string, error) {
	return sc.replacer().replace(s)
}

// replacer is a SubstContext ready to use: containerWorkspaceFolder already substituted.
type replacer struct {
	sc SubstContext
}

func (sc SubstContext) replacer() *replacer {
	r := &replacer{sc: sc}
	if sc.ContainerWorkspaceFolder != "" {
		// The reference substitutes the container folder itself with the full context
		// (including the unsubstituted folder) before using it.
		r.sc.ContainerWorkspaceFolder, _ = r.replace(sc.ContainerWorkspaceFolder)
	}
	return r
}

// replace substitutes every ${...} of s; the first unresolvable one is returned as error
// and left in place.
func (r *replacer) replace(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var firstErr error
	out := variable.ReplaceAllStringFunc(s, func(match string) string {
		v, err := r.one(match)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return match
		}
		return v
	})
	return out, firstErr
}

// one evaluates a single ${name[:args...]} match.
func (r *replacer) one(match string) (string, error) {
	inner := match[2 : len(match)-1]
	parts := strings.Split(inner, ":")
	name, args := parts[0], parts[1:]
	sc := r.sc
	switch name {
	case "env", "localEnv":
		if sc.LookupEnv == nil {
			return match, nil
		}
		return r.lookup(sc.LookupEnv, match, args)
	case "localWorkspaceFolder":
		if sc.LocalWorkspaceFolder == "" {
			return match, nil
		}
		return sc.LocalWorkspaceFolder, nil
	case "localWorkspaceFolderBasename":
		if sc.LocalWorkspaceFolder == "" {
			return match, nil
		}
		return posixBase(filepath.ToSlash(sc.LocalWorkspaceFolder)), nil
	case "containerWorkspaceFolder":
		if sc.ContainerWorkspaceFolder == "" {
			return match, nil
		}
		return sc.ContainerWorkspaceFolder, nil
	case "containerWorkspaceFolderBasename":
		if sc.ContainerWorkspaceFolder == "" {
			return match, nil
		}
		return posixBase(sc.ContainerWorkspaceFolder), nil
	case "devcontainerId":
		if sc.DevcontainerID == "" {
			return match, nil
		}
		return sc.DevcontainerID, nil
	case "containerEnv":
		if sc.ContainerEnv == nil {
			return match, nil
		}
		return r.lookup(func(k string) (string, bool) {
			v, ok := sc.ContainerEnv[k]
			return v, ok
		}, match, args)
	}
	return match, nil
}

// lookup resolves ${x:NAME[:default]}: the value when set, else the default (only the
// segment after the second colon), else "". No name is an error.
func (r *replacer) lookup(get func(string) (string, bool), match string, args []string) (string, error) {
	if len(args) == 0 {
		in := ""
		if r.sc.ConfigFile != "" {
			in = " in " + posixBase(filepath.ToSlash(r.sc.ConfigFile))
		}
		return "", &substError{msg: fmt.Sprintf("'%s'%s can not be resolved because no environment variable name is given.", match, in)}
	}
	if v, ok := get(args[0]); ok {
		return v, nil
	}
	if len(args) > 1 {
		return args[1], nil
	}
	return "", nil
}

// posixBase is path.posix.basename: the last element, ignoring trailing slashes.
func posixBase(p string) string {
	p = strings.TrimRight(p, "/")
	if p == "" {
		return ""
	}
	return path.Base(p)
}

// substError is an unresolvable variable, with the reference's message.
type substError struct{ msg string }

func (e *substError) Error() string { return e.msg }

// Is makes errors.Is(err, ErrSubstitute) true.
func (e *substError) Is(target error) bool { return target == ErrSubstitute }

// Substitute returns a copy of c with the variables sc enables replaced in every string
// value, decoded again. Raw stays unsubstituted (the metadata label stores raw values). An
// unresolvable variable is an *Error at its position whose Msg is the reference's text.
func (c *Config) Substitute(sc SubstContext) (*Config, error) {
	if sc.ConfigFile == "" {
		sc.ConfigFile = c.File
	}
	r := sc.replacer()
	var firstErr error
	tree := c.tree.clone()
	tree.walkStrings(func(n *node) {
		s, err := r.replace(n.str)
		if err != nil && firstErr == nil {
			line, col := lineCol(c.src, n.off)
			firstErr = &Error{File: c.name, Line: line, Col: col, Msg: err.Error(), kind: ErrSubstitute, err: err}
		}
		n.str = s
	})
	if firstErr != nil {
		return nil, firstErr
	}
	out := &Config{File: c.File, Raw: c.Raw, src: c.src, name: c.name, tree: tree}
	d := &decoder{file: c.name, src: c.src}
	d.config(out, tree)
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}
