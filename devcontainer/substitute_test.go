package devcontainer

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// Cases follow the reference's variableSubstitution.ts and its unit tests.
func TestSubstituteString(t *testing.T) {
	local := SubstContext{
		LocalWorkspaceFolder:     "/home/u/proj",
		ContainerWorkspaceFolder: "/workspaces/proj",
		LookupEnv:                envOf(map[string]string{"HOME": "/home/u", "EMPTY": "", "P": "a:b"}),
	}
	tests := []struct {
		name string
		sc   SubstContext
		in   string
		want string
	}{
		{"localEnv", local, "${localEnv:HOME}/x", "/home/u/x"},
		{"env alias", local, "${env:HOME}", "/home/u"},
		{"missing is empty", local, "[${localEnv:NOPE}]", "[]"},
		{"default", local, "${localEnv:NOPE:dflt}", "dflt"},
		{"set empty beats default", local, "${localEnv:EMPTY:dflt}", ""},
		{"default stops at colon", local, "${localEnv:NOPE:a:b}", "a"},
		{"value may contain colons", local, "${localEnv:P}", "a:b"},
		{"empty name is empty", local, "${localEnv:}", ""},
		{"several", local, "${localEnv:HOME}-${localWorkspaceFolderBasename}-${containerWorkspaceFolderBasename}", "/home/u-proj-proj"},
		{"local folder", local, "${localWorkspaceFolder}", "/home/u/proj"},
		{"container folder", local, "${containerWorkspaceFolder}/src", "/workspaces/proj/src"},
		{"unknown untouched", local, "${templateOption:x} ${remoteEnv:Y} ${foo}", "${templateOption:x} ${remoteEnv:Y} ${foo}"},
		{"id left in phase 1", local, "${devcontainerId}", "${devcontainerId}"},
		{"containerEnv left in phase 1", local, "${containerEnv:PATH}", "${containerEnv:PATH}"},
		{"non-greedy", local, "${localEnv:HOME}}", "/home/u}"},
		{"no newline inside", local, "${local\nEnv:HOME}", "${local\nEnv:HOME}"},
		{"unclosed", local, "${localEnv:HOME", "${localEnv:HOME"},
		{"no workspace leaves folders", SubstContext{}, "${localWorkspaceFolder} ${containerWorkspaceFolder}", "${localWorkspaceFolder} ${containerWorkspaceFolder}"},
		{"no env leaves localEnv", SubstContext{}, "${localEnv:HOME}", "${localEnv:HOME}"},
		{"basename of root", SubstContext{LocalWorkspaceFolder: "/"}, "[${localWorkspaceFolderBasename}]", "[]"},
		{"devcontainerId", SubstContext{DevcontainerID: "abc"}, "vol-${devcontainerId}", "vol-abc"},
		{"containerEnv", SubstContext{ContainerEnv: map[string]string{"PATH": "/bin"}}, "${containerEnv:PATH}:${containerEnv:NOPE:/x}:${containerEnv:NOPE}", "/bin:/x:"},
		{"container folder substituted first", SubstContext{LocalWorkspaceFolder: "/h/p", ContainerWorkspaceFolder: "/w/${localWorkspaceFolderBasename}"}, "${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}", "/w/p|p"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SubstituteString(tt.in, tt.sc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("SubstituteString(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSubstituteNoName(t *testing.T) {
	for _, in := range []string{"${localEnv}", "${env}", "${containerEnv}"} {
		sc := SubstContext{LookupEnv: envOf(nil), ContainerEnv: map[string]string{}, ConfigFile: "/w/.devcontainer/devcontainer.json"}
		_, err := SubstituteString("x "+in, sc)
		want := "'" + in + "' in devcontainer.json can not be resolved because no environment variable name is given."
		if !errors.Is(err, ErrSubstitute) || err.Error() != want {
			t.Errorf("%s: error %v, want %s", in, err, want)
		}
	}
}

func TestSubstituteWalksValuesNotKeys(t *testing.T) {
	sc := SubstContext{LookupEnv: envOf(map[string]string{"A": "1"})}
	in := map[string]any{
		"${localEnv:A}": "${localEnv:A}",
		"list":          []any{"${localEnv:A}", 2.0, true, nil, map[string]any{"k": "${env:A}"}},
		"strs":          []string{"${localEnv:A}"},
		"env":           map[string]string{"K": "${localEnv:A}"},
		"remote":        map[string]*string{"N": nil, "S": strPtr("${localEnv:A}")},
	}
	want := map[string]any{
		"${localEnv:A}": "1",
		"list":          []any{"1", 2.0, true, nil, map[string]any{"k": "1"}},
		"strs":          []string{"1"},
		"env":           map[string]string{"K": "1"},
		"remote":        map[string]*string{"N": nil, "S": strPtr("1")},
	}
	if diff := cmp.Diff(want, Substitute(in, sc)); diff != "" {
		t.Errorf("Substitute (-want +got):\n%s", diff)
	}
	if in["list"].([]any)[0] != "${localEnv:A}" {
		t.Error("Substitute modified its input")
	}
}

func TestConfigSubstitute(t *testing.T) {
	src := `{
	"image": "registry.example.com/${localEnv:TAG:latest}",
	"workspaceFolder": "/src/${localWorkspaceFolderBasename}",
	"mounts": ["source=${localEnv:HOME}/.cache,target=/cache-${devcontainerId},type=bind"],
	"remoteEnv": {"P": "${containerEnv:PATH}:/extra", "N": null},
	"postCreateCommand": ["echo", "${containerWorkspaceFolder}"]
}`
	c, err := Parse("/h/proj/.devcontainer/devcontainer.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sc := SubstContext{
		LocalWorkspaceFolder:     "/h/proj",
		ContainerWorkspaceFolder: "/src/proj",
		LookupEnv:                envOf(map[string]string{"HOME": "/h"}),
		DevcontainerID:           "id1",
		ContainerEnv:             map[string]string{"PATH": "/usr/bin"},
	}
	s, err := c.Substitute(sc)
	if err != nil {
		t.Fatal(err)
	}
	if s.Image != "registry.example.com/latest" || s.WorkspaceFolder != "/src/proj" {
		t.Errorf("image %q folder %q", s.Image, s.WorkspaceFolder)
	}
	if m := s.Mounts[0]; m.Source != "/h/.cache" || m.Target != "/cache-id1" || m.String() != "source=/h/.cache,target=/cache-id1,type=bind" {
		t.Errorf("mount %+v", m)
	}
	if p := s.RemoteEnv["P"]; p == nil || *p != "/usr/bin:/extra" || s.RemoteEnv["N"] != nil {
		t.Errorf("remoteEnv %v", s.RemoteEnv)
	}
	if got := s.PostCreateCommand.Args; !cmp.Equal(got, []string{"echo", "/src/proj"}) {
		t.Errorf("postCreateCommand %q", got)
	}
	if c.Image != "registry.example.com/${localEnv:TAG:latest}" || s.Raw["image"] != c.Raw["image"] {
		t.Errorf("original or Raw changed: %q %v", c.Image, s.Raw["image"])
	}

	bad, err := Parse("/h/.devcontainer/devcontainer.json", []byte("{\n  \"image\": \"x\",\n  \"remoteEnv\": {\"A\": \"${localEnv}\"}\n}"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Substitute(SubstContext{LookupEnv: envOf(nil)})
	var perr *Error
	if !errors.As(err, &perr) || !errors.Is(err, ErrSubstitute) {
		t.Fatalf("error %v, want *Error matching ErrSubstitute", err)
	}
	want := "'${localEnv}' in devcontainer.json can not be resolved because no environment variable name is given."
	if perr.Msg != want || perr.Line != 3 || perr.Col != 22 {
		t.Errorf("error %q at %d:%d, want %q at 3:22", perr.Msg, perr.Line, perr.Col, want)
	}
}
