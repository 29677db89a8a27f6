package dockerfile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseStages(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\n" +
		"# escape=\\\n" +
		"ARG BASE=debian\n" +
		"FROM --platform=$BUILDPLATFORM ${BASE} AS build\n" +
		"ENV A=B C=\"d e\"\n" +
		"ARG X Y=1\n" +
		"RUN echo hi \\\n" +
		"   && echo there\n" +
		"\n" +
		" \tfrom build\n" +
		"user dev\n"
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	wantDirs := []Directive{{Name: "syntax", Value: "docker/dockerfile:1", Line: 1}, {Name: "escape", Value: "\\", Line: 2}}
	if diff := cmp.Diff(wantDirs, f.Directives); diff != "" {
		t.Errorf("directives (-want +got):\n%s", diff)
	}
	wantGlobal := []Instruction{{Keyword: "ARG", Args: "BASE=debian", Line: 3, Vars: []Var{{Name: "BASE", Value: "debian", HasValue: true}}}}
	opts := cmpopts.IgnoreUnexported(Instruction{}, Stage{})
	if diff := cmp.Diff(wantGlobal, f.Global, opts); diff != "" {
		t.Errorf("global (-want +got):\n%s", diff)
	}
	wantStages := []*Stage{
		{Index: 0, Name: "build", Image: "${BASE}", Platform: "$BUILDPLATFORM", Line: 4, Instructions: []Instruction{
			{Keyword: "ENV", Args: `A=B C="d e"`, Line: 5, Vars: []Var{{Name: "A", Value: "B", HasValue: true}, {Name: "C", Value: `"d e"`, HasValue: true}}},
			{Keyword: "ARG", Args: "X Y=1", Line: 6, Vars: []Var{{Name: "X"}, {Name: "Y", Value: "1", HasValue: true}}},
			{Keyword: "RUN", Args: "echo hi    && echo there", Line: 7},
		}},
		{Index: 1, Image: "build", Line: 10, Instructions: []Instruction{{Keyword: "USER", Args: "dev", Line: 11}}},
	}
	if diff := cmp.Diff(wantStages, f.Stages, opts); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if s, ok := f.Syntax(); !ok || s != "docker/dockerfile:1" {
		t.Errorf("Syntax() = %q, %v", s, ok)
	}
}

// The reference's extractDockerfile cases.
func TestParseEnvForms(t *testing.T) {
	tests := []struct {
		src  string
		want []Var
	}{
		{"FROM debian\nENV A=B", []Var{{Name: "A", Value: "B", HasValue: true}}},
		{"FROM debian\nENV A B", []Var{{Name: "A", Value: "B", HasValue: true}}},
		{"FROM debian\nENV A B C", []Var{{Name: "A", Value: "B C", HasValue: true}}},
		{"FROM debian\nenv A=B", []Var{{Name: "A", Value: "B", HasValue: true}}},
		{"FROM debian\nENV A=\"x y\" B='z'", []Var{{Name: "A", Value: `"x y"`, HasValue: true}, {Name: "B", Value: "'z'", HasValue: true}}},
	}
	for _, tt := range tests {
		f, err := Parse([]byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, f.Stages[0].Instructions[0].Vars); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.src, diff)
		}
	}
}

func TestParseDirectives(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Directive
		err  string
	}{
		{name: "none", src: "FROM a\n"},
		{name: "spaces", src: "#  Syntax = example.com/fe:1 \nFROM a\n", want: []Directive{{Name: "syntax", Value: "example.com/fe:1", Line: 1}}},
		{name: "after blank line is a comment", src: "\n# syntax=x\nFROM a\n"},
		{name: "after a comment is a comment", src: "# hello\n# syntax=x\nFROM a\n"},
		{name: "unknown directive ends block", src: "# foo=bar\n# syntax=x\nFROM a\n"},
		{name: "after shebang", src: "#!/usr/bin/env buildctl\n# syntax=x\nFROM a\n", want: []Directive{{Name: "syntax", Value: "x", Line: 2}}},
		{name: "check", src: "# check=skip=all\n# syntax=x\nFROM a\n", want: []Directive{{Name: "check", Value: "skip=all", Line: 1}, {Name: "syntax", Value: "x", Line: 2}}},
		{name: "duplicate", src: "# syntax=x\n# syntax=y\nFROM a\n", err: "line 2: only one syntax parser directive can be used"},
		{name: "bad escape", src: "# escape=x\nFROM a\n", err: "line 1: invalid escape token \"x\" does not match ` or \\"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Directives); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	_, err := Parse([]byte("FROM a\nRUN x\nFROM --platform=linux/amd64\n"))
	if err == nil || err.Error() != "line 3: FROM: missing image" {
		t.Errorf("error = %v", err)
	}
}

func TestStripSyntax(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"only syntax", "# syntax=docker/dockerfile:1.4\nFROM debian\n", "FROM debian\n"},
		{"keeps escape", "# escape=`\n#syntax = example.com/x\nFROM a `\n  AS b\n", "# escape=`\nFROM a `\n  AS b\n"},
		{"CRLF", "# syntax=x\r\nFROM a\r\n", "FROM a\r\n"},
		{"BOM kept", "\xEF\xBB\xBF# syntax=x\nFROM a\n", "\xEF\xBB\xBFFROM a\n"},
		{"shebang kept", "#!/bin/x\n# syntax=x\nFROM a\n", "#!/bin/x\nFROM a\n"},
		{"not a directive", "FROM a\n# syntax=x\n", "FROM a\n# syntax=x\n"},
		{"no newline", "# syntax=x", ""},
		{"none", "FROM a", "FROM a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(StripSyntax([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("StripSyntax = %q, want %q", got, tt.want)
			}
			if HasSyntax([]byte(got)) {
				t.Errorf("HasSyntax(stripped) = true")
			}
			if HasSyntax([]byte(tt.in)) != (got != tt.in) {
				t.Errorf("HasSyntax(%q) disagrees with StripSyntax", tt.in)
			}
		})
	}
}

// Cases from the reference's ensureDockerfileHasFinalStageName tests.
func TestNameFinalStage(t *testing.T) {
	tests := []struct {
		name, in, wantName, wantOut string
	}{
		{
			name:     "named",
			in:       "\nFROM ubuntu:latest as base\n\nRUN some command\n\nFROM base as final\n\nCOPY src dest\nRUN another command\n",
			wantName: "final",
		},
		{
			name:     "indented, comment",
			in:       "\nFROM ubuntu:latest as base\n\nRUN some command\n\n \tFROM base  as\t  final  #<- deliberately mixing with whitespace and including: as something here\n\nCOPY src dest\n",
			wantName: "final",
		},
		{
			name:     "platform, named",
			in:       "FROM ubuntu:latest as base\n \tFROM  --platform=my-platform \tbase  as\t  final  #<- as something here\n",
			wantName: "final",
		},
		{
			name:     "unnamed",
			in:       "\nFROM ubuntu:latest as base\n\nRUN some command\n\nFROM base\n\nCOPY src dest\nRUN another command\n",
			wantName: "placeholder",
			wantOut:  "\nFROM ubuntu:latest as base\n\nRUN some command\n\nFROM base AS placeholder\n\nCOPY src dest\nRUN another command\n",
		},
		{
			name:     "unnamed trailing",
			in:       "\nFROM ubuntu:latest as base\n\nRUN some command\n\nFROM base",
			wantName: "placeholder",
			wantOut:  "\nFROM ubuntu:latest as base\n\nRUN some command\n\nFROM base AS placeholder",
		},
		{
			name:     "unnamed platform comment",
			in:       "\nFROM ubuntu:latest as base\n\nRUN some command\n\n \tFROM  --platform=my-platform \tbase   #<- deliberately mixing with whitespace and including: as something here\n\nCOPY src dest\nRUN another command\n",
			wantName: "placeholder",
			wantOut:  "\nFROM ubuntu:latest as base\n\nRUN some command\n\n \tFROM  --platform=my-platform \tbase AS placeholder   #<- deliberately mixing with whitespace and including: as something here\n\nCOPY src dest\nRUN another command\n",
		},
		{
			name:     "continued",
			in:       "FROM \\\n  --platform=x \\\n  \"img:1\"\nRUN x\n",
			wantName: "placeholder",
			wantOut:  "FROM \\\n  --platform=x \\\n  \"img:1\" AS placeholder\nRUN x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, out, err := NameFinalStage([]byte(tt.in), "placeholder")
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.wantName {
				t.Errorf("name = %q, want %q", name, tt.wantName)
			}
			want := tt.wantOut
			if want == "" {
				want = tt.in
			}
			if string(out) != want {
				t.Errorf("out:\n%q\nwant:\n%q", out, want)
			}
			f, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if last := f.Stages[len(f.Stages)-1]; !strings.EqualFold(last.Name, tt.wantName) {
				t.Errorf("reparsed last stage name = %q", last.Name)
			}
		})
	}
	if _, _, err := NameFinalStage([]byte("\nRUN some command\n"), "p"); err == nil || !strings.Contains(err.Error(), "no FROM") {
		t.Errorf("no FROM: err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("ARG B=img\nFROM ${B:-x} AS a\nUSER $U\nFROM a\n"))
	f.Add([]byte("# escape=`\nFROM a `\n AS b\nRUN <<EOF\nx\nEOF\n"))
	f.Add([]byte("FROM ${a:+\"x\"}\"\nENV A B\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		df, err := Parse(data)
		if err != nil {
			return
		}
		_, _ = df.BaseImage("", Args{})
		_, _ = df.User("", Args{})
		_ = StripSyntax(data)
		_, _, _ = NameFinalStage(data, "x")
	})
}
