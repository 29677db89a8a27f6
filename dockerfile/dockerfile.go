// Package dockerfile reads a Dockerfile's text far enough to answer, without Docker, the questions
// a dev container tool asks before a build: which stages exist, which image the target stage is
// built on (following FROM <stage> chains), which USER the target stage ends with, and which parser
// directives the file carries. Values of ARG and ENV are resolved statically the way the reference
// CLI does it (dockerfileUtils.ts), including --build-arg values, BuildKit's automatic platform
// ARGs and the ${VAR:-word} / ${VAR:+word} forms.
//
// The package never runs anything and never prints. It also edits Dockerfile text where a
// generated build needs it: StripSyntax removes a "# syntax=" directive so that BuildKit never
// pulls a frontend image, and NameFinalStage names the last stage.
package dockerfile

import (
	"fmt"
	"strings"
)

// File is a parsed Dockerfile.
type File struct {
	// Directives are the parser directives at the top of the file, in order.
	Directives []Directive
	// Global holds the instructions before the first FROM (normally only ARG).
	Global []Instruction
	// Stages are the build stages in file order.
	Stages []*Stage
	// Escape is the escape character in effect ('\\' unless an escape directive changed it).
	Escape rune
}

// Directive is one parser directive such as "# syntax=…" or "# escape=`".
type Directive struct {
	Name  string // lower case: syntax, escape or check
	Value string
	Line  int // 1-based
}

// Stage is one FROM instruction and the instructions that follow it.
type Stage struct {
	Index int
	// Name is the stage name given with AS, as written (stage names compare case-insensitively).
	Name string
	// Image is the FROM argument as written, before variable expansion.
	Image string
	// Platform is the value of a --platform flag, as written.
	Platform string
	// Line is the 1-based line of the FROM instruction.
	Line int
	// Instructions follow the FROM instruction, up to the next FROM.
	Instructions []Instruction

	start int // byte offset of the FROM line in the parsed data
}

// Instruction is one logical Dockerfile instruction (continuation lines joined).
type Instruction struct {
	// Keyword is the instruction name in upper case (FROM, ARG, ENV, USER, RUN, …).
	Keyword string
	// Args is the text after the keyword with continuations removed and outer space trimmed.
	Args string
	// Line is the 1-based line the instruction starts on.
	Line int
	// Vars are the name/value pairs of an ARG or ENV instruction, values still unexpanded.
	Vars []Var

	start int // byte offset of the instruction's first line in the parsed data
}

// Var is one name[=value] item of an ARG or ENV instruction.
type Var struct {
	Name string
	// Value is the value as written (quotes kept) and HasValue reports whether there was one:
	// "ARG A" declares A without a default.
	Value    string
	HasValue bool
}

// Parse parses a Dockerfile. It fails only on text no builder would accept in a way that matters
// here (an invalid escape directive, FROM without an image); everything else is kept as written.
func Parse(data []byte) (*File, error) {
	f := &File{Escape: '\\'}
	lines := splitLines(data)
	start, dirs, err := parseDirectives(lines)
	if err != nil {
		return nil, err
	}
	f.Directives = dirs
	for _, d := range dirs {
		if d.Name == "escape" {
			f.Escape = rune(d.Value[0])
		}
	}
	for _, li := range logicalLines(lines[start:], start, f.Escape) {
		inst := parseInstruction(li, f.Escape)
		if inst.Keyword == "FROM" {
			st, err := parseFrom(inst, f.Escape)
			if err != nil {
				return nil, err
			}
			st.Index = len(f.Stages)
			f.Stages = append(f.Stages, st)
			continue
		}
		if n := len(f.Stages); n > 0 {
			f.Stages[n-1].Instructions = append(f.Stages[n-1].Instructions, inst)
		} else {
			f.Global = append(f.Global, inst)
		}
	}
	return f, nil
}

// Directive returns the value of the named parser directive (case-insensitive) and whether the
// file has it.
func (f *File) Directive(name string) (string, bool) {
	for _, d := range f.Directives {
		if strings.EqualFold(d.Name, name) {
			return d.Value, true
		}
	}
	return "", false
}

// Stage returns the stage with the given name (case-insensitive), or for "" the last stage.
func (f *File) Stage(name string) (*Stage, error) {
	if len(f.Stages) == 0 {
		return nil, ErrNoStage
	}
	if name == "" {
		return f.Stages[len(f.Stages)-1], nil
	}
	if st := f.stageNamed(name); st != nil {
		return st, nil
	}
	return nil, fmt.Errorf("target stage %q: %w", name, ErrUnknownStage)
}

func (f *File) stageNamed(name string) *Stage {
	for _, st := range f.Stages {
		if st.Name != "" && strings.EqualFold(st.Name, name) {
			return st
		}
	}
	return nil
}

func parseInstruction(li logicalLine, escape rune) Instruction {
	text := strings.TrimSpace(li.text)
	kw, rest := text, ""
	if i := strings.IndexAny(text, " \t"); i >= 0 {
		kw, rest = text[:i], text[i+1:]
	}
	inst := Instruction{Keyword: strings.ToUpper(kw), Args: strings.TrimSpace(rest), Line: li.line, start: li.start}
	switch inst.Keyword {
	case "ARG":
		for _, w := range splitWords(inst.Args, escape) {
			name, value, ok := strings.Cut(w, "=")
			inst.Vars = append(inst.Vars, Var{Name: name, Value: value, HasValue: ok})
		}
	case "ENV":
		inst.Vars = parseEnv(inst.Args, escape)
	}
	return inst
}

// parseEnv reads "ENV k=v k2=v2" and the legacy "ENV k value with spaces".
func parseEnv(args string, escape rune) []Var {
	words := splitWords(args, escape)
	if len(words) == 0 {
		return nil
	}
	if !strings.Contains(words[0], "=") {
		name := words[0]
		rest := strings.TrimSpace(strings.TrimPrefix(args, name))
		return []Var{{Name: name, Value: rest, HasValue: true}}
	}
	var vars []Var
	for _, w := range words {
		name, value, ok := strings.Cut(w, "=")
		if !ok {
			continue // not valid Docker; ignore as the builder would reject it anyway
		}
		vars = append(vars, Var{Name: name, Value: value, HasValue: true})
	}
	return vars
}

func parseFrom(inst Instruction, escape rune) (*Stage, error) {
	st := &Stage{Line: inst.Line, start: inst.start}
	words := splitWords(inst.Args, escape)
	for len(words) > 0 && strings.HasPrefix(words[0], "--") {
		if v, ok := strings.CutPrefix(words[0], "--platform="); ok {
			st.Platform = v
		}
		words = words[1:]
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("line %d: FROM: %w", inst.Line, ErrMissingImage)
	}
	st.Image = words[0]
	if len(words) >= 3 && strings.EqualFold(words[1], "AS") {
		st.Name = words[2]
	}
	return st, nil
}
