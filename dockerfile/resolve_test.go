package dockerfile

import (
	"errors"
	"testing"
)

// Cases ported from the reference CLI's dockerfileUtils tests (findBaseImage,
// findUserStatement, getImageBuildInfo) plus the parsing cases the reference gets right only by
// accident (continuations, comments, here-documents).

func TestBaseImage(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		target     string
		build      map[string]string
		want       string
	}{
		{name: "simple FROM", dockerfile: "FROM image1\nUSER user1\n", want: "image1"},
		{name: "arg FROM", dockerfile: "ARG BASE_IMAGE=\"image2\"\nFROM ${BASE_IMAGE}\nARG IMAGE_USER=user2\nUSER $IMAGE_USER\n", want: "image2"},
		{name: "arg FROM overwritten", dockerfile: "ARG BASE_IMAGE=\"image2\"\nFROM ${BASE_IMAGE}\n", build: map[string]string{"BASE_IMAGE": "image3"}, want: "image3"},
		{name: "multistage", dockerfile: "\nFROM image1 as stage1\nFROM stage3 as stage2\nFROM image3 as stage3\nFROM image4 as stage4\n", target: "stage2", want: "image3"},
		{name: "last stage by default", dockerfile: "FROM image1 as stage1\nFROM stage1\n", want: "image1"},
		{name: "stage names are case-insensitive", dockerfile: "FROM image1 AS Base\nFROM base\n", want: "image1"},
		{name: "quoted", dockerfile: "\nARG BASE_IMAGE=\"ubuntu:latest\"\n\nFROM \"${BASE_IMAGE}\"\n", want: "ubuntu:latest"},
		{name: "positive expression set", dockerfile: "ARG cloud\nFROM ${cloud:+registry.example.com/}azure-cli:latest\n", build: map[string]string{"cloud": "true"}, want: "registry.example.com/azure-cli:latest"},
		{name: "positive expression unset", dockerfile: "ARG cloud\nFROM ${cloud:+registry.example.com/}azure-cli:latest\n", want: "azure-cli:latest"},
		{name: "negative expression set", dockerfile: "ARG cloud\nFROM ${cloud:-registry.example.com/}azure-cli:latest\n", build: map[string]string{"cloud": "other.example.com/"}, want: "other.example.com/azure-cli:latest"},
		{name: "negative expression unset", dockerfile: "ARG cloud\nFROM ${cloud:-registry.example.com/}azure-cli:latest\n", want: "registry.example.com/azure-cli:latest"},
		{name: "quoted positive set, stray quote", dockerfile: "ARG cloud\nFROM ${cloud:+\"registry.example.com/\"}azure-cli:latest\"\n", build: map[string]string{"cloud": "true"}, want: "registry.example.com/azure-cli:latest"},
		{name: "quoted positive unset", dockerfile: "ARG cloud\nFROM \"${cloud:+\"registry.example.com/\"}azure-cli:latest\"\n", want: "azure-cli:latest"},
		{name: "quoted negative set", dockerfile: "ARG cloud\nFROM \"${cloud:-\"registry.example.com/\"}azure-cli:latest\"\n", build: map[string]string{"cloud": "other.example.com/"}, want: "other.example.com/azure-cli:latest"},
		{name: "quoted negative unset with label", dockerfile: "ARG cloud\nFROM ${cloud:-\"registry.example.com/\"}azure-cli:latest as label\n", want: "registry.example.com/azure-cli:latest"},
		{name: "empty value counts as unset for :-", dockerfile: "ARG cloud=\nFROM ${cloud:-img}\n", want: "img"},
		{name: "empty value counts as set for -", dockerfile: "ARG cloud=\nFROM x${cloud-img}\n", want: "x"},
		{name: "platform", dockerfile: "FROM --platform=$BUILDPLATFORM img AS b\n", want: "img"},
		{name: "stage chosen by platform arg", dockerfile: "FROM a AS base-amd64\nFROM b AS base-arm64\nFROM base-${TARGETARCH}\n", want: "b"},
		{name: "continuation", dockerfile: "ARG V=1\nFROM \\\n  img:$V \\\n  AS final\n", want: "img:1"},
		{name: "comment inside continuation", dockerfile: "FROM \\\n# a comment\n  img\n", want: "img"},
		{name: "lowercase keyword", dockerfile: "from E\n", want: "E"},
		{name: "CRLF", dockerfile: "ARG B=img\r\nFROM $B\r\n", want: "img"},
		{name: "BOM", dockerfile: "\xEF\xBB\xBFFROM img\n", want: "img"},
		{name: "escape directive", dockerfile: "# escape=`\nARG B=img\nFROM `\n $B\n", want: "img"},
		{name: "global arg chain", dockerfile: "ARG REG=reg.example.com\nARG IMG=${REG}/base\nFROM $IMG:1\n", want: "reg.example.com/base:1"},
		{name: "build arg not declared is ignored", dockerfile: "FROM img$X\n", build: map[string]string{"X": "1"}, want: "img"},
		{name: "stage ARG is not visible to FROM", dockerfile: "FROM a AS one\nARG X=zzz\nFROM img$X\n", want: "img"},
		{name: "single quotes are literal", dockerfile: "ARG X=1\nFROM 'img$X'\n", want: "img$X"},
		{name: "escaped dollar", dockerfile: "ARG X=1\nFROM img\\$X\n", want: "img$X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.dockerfile))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			args := Args{Build: tt.build, Platform: PlatformArgs(Platform{OS: "linux", Arch: "amd64"}, Platform{OS: "linux", Arch: "arm64"})}
			got, err := f.BaseImage(tt.target, args)
			if err != nil {
				t.Fatalf("BaseImage: %v", err)
			}
			if got != tt.want {
				t.Errorf("BaseImage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBaseImageErrors(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		target     string
		want       error
	}{
		{name: "no FROM", dockerfile: "RUN some command\n", want: ErrNoStage},
		{name: "unknown target", dockerfile: "FROM a AS one\n", target: "two", want: ErrUnknownStage},
		{name: "cycle", dockerfile: "FROM two AS one\nFROM one AS two\n", want: ErrStageCycle},
		{name: "empty image", dockerfile: "ARG X\nFROM $X\n", want: ErrMissingImage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.dockerfile))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = f.BaseImage(tt.target, Args{})
			if !errors.Is(err, tt.want) {
				t.Errorf("BaseImage error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestUser(t *testing.T) {
	tests := []struct {
		name       string
		dockerfile string
		target     string
		build      map[string]string
		env        map[string]string
		want       string
		found      bool
	}{
		{name: "simple USER", dockerfile: "FROM debian\nUSER user1\n", want: "user1", found: true},
		{name: "last USER wins", dockerfile: "FROM ubuntu:latest as base\nUSER dockerfileUserA\nUSER dockerfileUserB\n", want: "dockerfileUserB", found: true},
		{name: "no USER", dockerfile: "FROM debian:latest as base\nFROM ubuntu:latest as dev\n"},
		{name: "arg USER", dockerfile: "FROM debian\nARG IMAGE_USER=user2\nUSER $IMAGE_USER\n", want: "user2", found: true},
		{name: "arg USER overwritten", dockerfile: "FROM debian\nARG IMAGE_USER=user2\nUSER $IMAGE_USER\n", build: map[string]string{"IMAGE_USER": "user3"}, want: "user3", found: true},
		{name: "multistage", dockerfile: "\nFROM image1 as stage1\nUSER user1\nFROM stage3 as stage2\nFROM image3 as stage3\nUSER user3_1\nUSER user3_2\nFROM image4 as stage4\nUSER user4\n", target: "stage2", want: "user3_2", found: true},
		{name: "ARG after ENV", dockerfile: "FROM debian\nENV USERNAME=user1\nARG USERNAME=user2\nUSER ${USERNAME}\n", want: "user2", found: true},
		{name: "ARG after ENV in preceding stage", dockerfile: "FROM debian as one\nENV USERNAME=user1\nARG USERNAME=user2\n\nFROM one as two\nUSER ${USERNAME}\n", want: "user1", found: true},
		{name: "ARG in preamble", dockerfile: "ARG USERNAME=user1\nFROM debian\nUSER ${USERNAME}\n", want: "user1", found: true},
		{name: "unbound ARG after ENV", dockerfile: "FROM debian\nENV USERNAME=user1\nARG USERNAME\nUSER ${USERNAME}\n", want: "user1", found: true},
		{name: "unbound", dockerfile: "FROM debian\nUSER ${USERNAME}\n"},
		{name: "ENV after ARG", dockerfile: "FROM debian\nARG USERNAME=user1\nENV USERNAME=user2\nUSER ${USERNAME}\n", want: "user2", found: true},
		{name: "ENV set from ARG", dockerfile: "FROM debian\nARG USERNAME1=user1\nENV USERNAME2=${USERNAME1}\nUSER ${USERNAME2}\n", want: "user1", found: true},
		{name: "multiple variables", dockerfile: "FROM debian\nARG USERNAME1=user1\nENV USERNAME2=user2\nUSER A${USERNAME1}A${USERNAME2}A\n", want: "Auser1Auser2A", found: true},
		{name: "ENV in base image", dockerfile: "FROM mybase\nUSER ${USERNAME}\n", env: map[string]string{"USERNAME": "user1"}, want: "user1", found: true},
		{name: "multiarch", dockerfile: "\nFROM ubuntu:latest as base-amd64\nUSER amd64_user\n\nFROM ubuntu:latest as base-arm64\nUSER arm64_user\n\nFROM base-${TARGETARCH}\n", want: "arm64_user", found: true},
		{name: "USER inherited from parent stage", dockerfile: "FROM img AS a\nUSER u1\nFROM a\nRUN true\n", want: "u1", found: true},
		{name: "user:group kept", dockerfile: "FROM img\nUSER 1000:1000\n", want: "1000:1000", found: true},
		{name: "ENV legacy form", dockerfile: "FROM img\nENV NAME vscode\nUSER $NAME\n", want: "vscode", found: true},
		{name: "ENV several pairs", dockerfile: "FROM img\nENV A=1 NAME=\"dev\"\nUSER $NAME\n", want: "dev", found: true},
		{name: "ENV sees old value in same instruction", dockerfile: "FROM img\nENV N=a\nENV N=b M=$N\nUSER $M\n", want: "a", found: true},
		{name: "ARG several pairs", dockerfile: "FROM img\nARG A=1 NAME=dev\nUSER $NAME\n", want: "dev", found: true},
		{name: "USER in RUN here-document ignored", dockerfile: "FROM img\nUSER real\nRUN <<EOF\nUSER fake\nEOF\n", want: "real", found: true},
		{name: "USER in RUN <<- here-document ignored", dockerfile: "FROM img\nUSER real\nRUN <<-EOT cat\n\tUSER fake\n\tEOT\n", want: "real", found: true},
		{name: "USER in continued RUN ignored", dockerfile: "FROM img\nUSER real\nRUN echo \\\nUSER fake\n", want: "real", found: true},
		{name: "commented USER ignored", dockerfile: "FROM img\nUSER real\n# USER fake\n", want: "real", found: true},
		{name: "target stage only", dockerfile: "FROM img AS a\nUSER u1\nFROM img AS b\nUSER u2\n", target: "a", want: "u1", found: true},
		{name: "unknown target", dockerfile: "FROM img AS a\nUSER u1\n", target: "zz"},
		{name: "self-referencing stages terminate", dockerfile: "FROM b AS a\nENV X=${Y}\nFROM a AS b\nENV Y=${X}\nUSER $X\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.dockerfile))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			args := Args{Build: tt.build, BaseEnv: tt.env, Platform: PlatformArgs(Platform{OS: "linux", Arch: "amd64"}, Platform{OS: "linux", Arch: "arm64"})}
			got, found := f.User(tt.target, args)
			if got != tt.want || found != tt.found {
				t.Errorf("User = %q, %v, want %q, %v", got, found, tt.want, tt.found)
			}
		})
	}
}

func TestPlatformArgs(t *testing.T) {
	got := PlatformArgs(Platform{OS: "linux", Arch: "amd64"}, Platform{OS: "linux", Arch: "arm", Variant: "v7"})
	want := map[string]string{
		"BUILDPLATFORM": "linux/amd64", "BUILDOS": "linux", "BUILDARCH": "amd64", "BUILDVARIANT": "",
		"TARGETPLATFORM": "linux/arm/v7", "TARGETOS": "linux", "TARGETARCH": "arm", "TARGETVARIANT": "v7",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d args, want %d", len(got), len(want))
	}
}
