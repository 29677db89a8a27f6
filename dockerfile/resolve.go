package dockerfile

import "fmt"

// Args are the values a static resolution sees besides the Dockerfile's own ARG and ENV
// instructions.
type Args struct {
	// Build holds --build-arg values (build.args of devcontainer.json). They replace the default
	// of a matching ARG instruction; an undeclared name has no effect.
	Build map[string]string
	// Platform holds BuildKit's automatic platform ARGs (see PlatformArgs). They are the last
	// resort when a name is found nowhere else.
	Platform map[string]string
	// BaseEnv is the environment of the base image (from its config). Only User consults it:
	// a FROM line cannot see image environment.
	BaseEnv map[string]string
}

// Platform names an OS/architecture pair such as linux/arm64/v8.
type Platform struct {
	OS, Arch, Variant string
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Arch
	if p.OS == "" || p.Arch == "" {
		s = p.OS + p.Arch
	}
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// PlatformArgs returns BuildKit's automatic platform ARGs for a build running on build and
// producing target: BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT and the TARGET* set.
func PlatformArgs(build, target Platform) map[string]string {
	return map[string]string{
		"BUILDPLATFORM":  build.String(),
		"BUILDOS":        build.OS,
		"BUILDARCH":      build.Arch,
		"BUILDVARIANT":   build.Variant,
		"TARGETPLATFORM": target.String(),
		"TARGETOS":       target.OS,
		"TARGETARCH":     target.Arch,
		"TARGETVARIANT":  target.Variant,
	}
}

// BaseImage returns the image the target stage ("" = last stage) is ultimately built on: the
// target's FROM argument with variables expanded, followed through FROM <stage> references.
func (f *File) BaseImage(target string, args Args) (string, error) {
	st, err := f.Stage(target)
	if err != nil {
		return "", err
	}
	r := resolver{f: f, args: args, noEnv: true}
	seen := map[*Stage]bool{}
	for {
		if seen[st] {
			return "", fmt.Errorf("stage %q at line %d: %w", st.Name, st.Line, ErrStageCycle)
		}
		seen[st] = true
		image, err := r.fromImage(st)
		if err != nil {
			return "", fmt.Errorf("line %d: FROM: %w", st.Line, err)
		}
		next := f.stageNamed(image)
		if next == nil {
			if image == "" {
				return "", fmt.Errorf("line %d: FROM %s: %w", st.Line, st.Image, ErrMissingImage)
			}
			return image, nil
		}
		st = next
	}
}

// User returns the user the target stage ("" = last stage) runs as: its last USER instruction,
// else the last USER of the stage it is built FROM, and so on. found is false when no stage in
// the chain sets a non-empty USER (the caller then uses the base image's user, else root).
func (f *File) User(target string, args Args) (user string, found bool) {
	st, err := f.Stage(target)
	if err != nil {
		return "", false
	}
	r := resolver{f: f, args: args}
	seen := map[*Stage]bool{}
	for st != nil && !seen[st] {
		seen[st] = true
		for i := len(st.Instructions) - 1; i >= 0; i-- {
			if st.Instructions[i].Keyword != "USER" {
				continue
			}
			u, err := r.expandAt(firstWord(st.Instructions[i].Args, f.Escape), st, i)
			if err != nil || u == "" {
				return "", false
			}
			return u, true
		}
		image, err := r.fromImage(st)
		if err != nil {
			return "", false
		}
		st = f.stageNamed(image)
	}
	return "", false
}

// firstWord is the USER argument as the reference reads it: the first blank-separated word.
func firstWord(s string, escape rune) string {
	if w := splitWords(s, escape); len(w) > 0 {
		return w[0]
	}
	return ""
}

// resolver evaluates variables the way the reference CLI does: looking backwards from an
// instruction through the stage's ENV and ARG instructions (an ARG counts only if it has a value
// or a build arg), then through the ENV of the stages it is built FROM, then the global ARGs,
// then the base image environment and the platform ARGs.
type resolver struct {
	f     *File
	args  Args
	noEnv bool // ignore Args.BaseEnv (FROM lines)
	depth int
}

const maxDepth = 64

func (r *resolver) fromImage(st *Stage) (string, error) {
	return r.expandAt(st.Image, nil, len(r.f.Global))
}

// expandAt expands word as seen just before instruction index before of st (nil = global scope).
func (r *resolver) expandAt(word string, st *Stage, before int) (string, error) {
	if r.depth > maxDepth {
		return "", ErrTooDeep
	}
	r.depth++
	defer func() { r.depth-- }()
	var lookupErr error
	out, err := expand(word, r.f.Escape, func(name string) (string, bool) {
		v, ok, err := r.value(name, st, before)
		if err != nil && lookupErr == nil {
			lookupErr = err
		}
		return v, ok
	})
	if lookupErr != nil {
		return "", lookupErr
	}
	return out, err
}

func (r *resolver) instructions(st *Stage) []Instruction {
	if st == nil {
		return r.f.Global
	}
	return st.Instructions
}

// value finds name as seen before instruction index before of st (nil = global scope).
func (r *resolver) value(name string, st *Stage, before int) (string, bool, error) {
	considerArg := true
	seen := map[*Stage]bool{}
	for {
		insts := r.instructions(st)
		for i := min(before, len(insts)) - 1; i >= 0; i-- {
			inst := insts[i]
			if inst.Keyword != "ENV" && (inst.Keyword != "ARG" || !considerArg) {
				continue
			}
			for j := len(inst.Vars) - 1; j >= 0; j-- {
				v := inst.Vars[j]
				if v.Name != name {
					continue
				}
				if inst.Keyword == "ENV" {
					s, err := r.expandAt(v.Value, st, i)
					return s, true, err
				}
				if b, ok := r.args.Build[name]; ok {
					s, err := r.expandAt(b, st, i)
					return s, true, err
				}
				if v.HasValue {
					s, err := r.expandAt(v.Value, st, i)
					return s, true, err
				}
			}
		}
		if st == nil {
			if v, ok := r.args.BaseEnv[name]; ok && !r.noEnv {
				return v, true, nil
			}
			v, ok := r.args.Platform[name]
			return v, ok, nil
		}
		if seen[st] {
			return "", false, nil
		}
		seen[st] = true
		image, err := r.fromImage(st)
		if err != nil {
			return "", false, err
		}
		st = r.f.stageNamed(image)
		before = len(r.instructions(st))
		considerArg = st == nil
	}
}
