package devcontainer

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	c, err := Parse("/cfg/.devcontainer/devcontainer.json", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func gitInit(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
}

func TestComputeLayout(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "mono")
	sub := filepath.Join(repo, "services", "api")
	plain := filepath.Join(base, "plain")
	comma := filepath.Join(base, "a,b")
	for _, d := range []string{sub, plain, comma} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gitInit(t, repo)

	image := `{"image": "x"}`
	tests := []struct {
		name     string
		config   string
		folder   string
		gitRoot  bool
		want     Layout
		wantJSON string
	}{
		{"plain folder", image, plain, true,
			Layout{HostSource: plain, WorkspaceFolder: "/workspaces/plain", WorkspaceMount: "type=bind,source=" + plain + ",target=/workspaces/plain"},
			`{"workspaceFolder":"/workspaces/plain","workspaceMount":"type=bind,source=` + plain + `,target=/workspaces/plain"}`},
		{"git root of a subfolder", image, sub, true,
			Layout{HostSource: repo, WorkspaceFolder: "/workspaces/mono/services/api", WorkspaceMount: "type=bind,source=" + repo + ",target=/workspaces/mono"}, ""},
		{"subfolder without git root", image, sub, false,
			Layout{HostSource: sub, WorkspaceFolder: "/workspaces/api", WorkspaceMount: "type=bind,source=" + sub + ",target=/workspaces/api"}, ""},
		{"repo root itself", image, repo, true,
			Layout{HostSource: repo, WorkspaceFolder: "/workspaces/mono", WorkspaceMount: "type=bind,source=" + repo + ",target=/workspaces/mono"}, ""},
		{"comma quoted", image, comma, true,
			Layout{HostSource: comma, WorkspaceFolder: "/workspaces/a,b", WorkspaceMount: `type=bind,"source=` + comma + `","target=/workspaces/a,b"`}, ""},
		{"workspaceFolder wins", `{"image": "x", "workspaceFolder": "/app"}`, sub, true,
			Layout{HostSource: repo, WorkspaceFolder: "/app", WorkspaceMount: "type=bind,source=" + repo + ",target=/workspaces/mono"}, ""},
		{"workspaceMount wins", `{"image": "x", "workspaceMount": "type=volume,source=v,target=/v"}`, sub, true,
			Layout{HostSource: repo, WorkspaceFolder: "/workspaces/mono/services/api", WorkspaceMount: "type=volume,source=v,target=/v"}, ""},
		{"both from config", `{"image": "x", "workspaceMount": "type=volume,source=v,target=/v", "workspaceFolder": "/v"}`, sub, true,
			Layout{WorkspaceFolder: "/v", WorkspaceMount: "type=volume,source=v,target=/v"}, ""},
		{"empty workspaceMount disables the mount", `{"image": "x", "workspaceMount": ""}`, plain, true,
			Layout{HostSource: plain, WorkspaceFolder: "/workspaces/plain"},
			`{"workspaceFolder":"/workspaces/plain","workspaceMount":""}`},
		{"null workspaceMount", `{"image": "x", "workspaceMount": null}`, plain, true,
			Layout{HostSource: plain, WorkspaceFolder: "/workspaces/plain", mount: mountNull},
			`{"workspaceFolder":"/workspaces/plain","workspaceMount":null}`},
		{"compose default", `{"dockerComposeFile": "c.yml", "service": "s"}`, sub, true,
			Layout{WorkspaceFolder: "/", mount: mountAbsent}, `{"workspaceFolder":"/"}`},
		{"compose folder", `{"dockerComposeFile": [], "service": "s", "workspaceFolder": "/w"}`, sub, true,
			Layout{WorkspaceFolder: "/w", mount: mountAbsent}, `{"workspaceFolder":"/w"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ComputeLayout(mustParse(t, tt.config), tt.folder, tt.gitRoot)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ComputeLayout =\n %+v\nwant\n %+v", got, tt.want)
			}
			if tt.wantJSON != "" && string(got.JSON()) != tt.wantJSON {
				t.Errorf("JSON = %s, want %s", got.JSON(), tt.wantJSON)
			}
		})
	}
}

func TestGitRootKeepsSymlinks(t *testing.T) {
	base := t.TempDir()
	repo := filepath.Join(base, "real")
	if err := os.MkdirAll(filepath.Join(repo, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitInit(t, repo)
	link := filepath.Join(base, "link")
	if err := os.Symlink(repo, link); err != nil {
		t.Skip(err)
	}
	l, err := ComputeLayout(mustParse(t, `{"image": "x"}`), filepath.Join(link, "sub"), true)
	if err != nil {
		t.Fatal(err)
	}
	if l.HostSource != link || l.WorkspaceFolder != "/workspaces/link/sub" {
		t.Errorf("layout %+v, want the symlinked path %s mounted at /workspaces/link", l, link)
	}
}

func TestResolveLocal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := mustParse(t, `{"image": "x", "workspaceFolder": "/src/${localWorkspaceFolderBasename}", "remoteEnv": {"W": "${containerWorkspaceFolder}", "H": "${localEnv:H}"}}`)
	sc, l, err := ResolveLocal(c, dir, true, envOf(map[string]string{"H": "h"}))
	if err != nil {
		t.Fatal(err)
	}
	if l.WorkspaceFolder != "/src/proj" || *sc.RemoteEnv["W"] != "/src/proj" || *sc.RemoteEnv["H"] != "h" {
		t.Errorf("layout %+v remoteEnv W=%s H=%s", l, *sc.RemoteEnv["W"], *sc.RemoteEnv["H"])
	}
}
