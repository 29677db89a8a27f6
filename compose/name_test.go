package compose

import (
	"os"
	"path/filepath"
	"testing"
)

func TestProjectName(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "My Repo")
	dc := filepath.Join(ws, ".devcontainer")
	other := filepath.Join(ws, "deploy")
	for _, d := range []string{dc, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) string {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write(filepath.Join(dc, "plain.yml"), "services:\n  app:\n    image: x\n")
	named := write(filepath.Join(dc, "named.yml"), "name: devcontainer\nservices: {}\n")
	deploy := write(filepath.Join(other, "compose.yml"), "services: {}\n")

	tests := []struct {
		name string
		in   NameInput
		want string
	}{
		{"env wins", NameInput{Env: map[string]string{"COMPOSE_PROJECT_NAME": "From.Env"}, WorkspaceFolder: ws, Files: []string{plain}, ConfigName: "x"}, "fromenv"},
		{"config name", NameInput{WorkspaceFolder: ws, Files: []string{plain}, ConfigName: "Web_App-2"}, "web_app-2"},
		{"implicit devcontainer name", NameInput{WorkspaceFolder: ws, Files: []string{plain}, ConfigName: "devcontainer"}, "myrepo_devcontainer"},
		{"explicit devcontainer name", NameInput{WorkspaceFolder: ws, Files: []string{plain, named}, ConfigName: "devcontainer"}, "devcontainer"},
		{"other folder", NameInput{WorkspaceFolder: ws, Files: []string{deploy}}, "deploy"},
		{".devcontainer without config name", NameInput{WorkspaceFolder: ws, Files: []string{plain}}, "myrepo_devcontainer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProjectName(tt.in); got != tt.want {
				t.Errorf("ProjectName = %q, want %q", got, tt.want)
			}
		})
	}

	// COMPOSE_PROJECT_NAME in the workspace's .env comes after the environment.
	write(filepath.Join(ws, ".env"), "A=1\nCOMPOSE_PROJECT_NAME= Dot.Env \n")
	if got := ProjectName(NameInput{WorkspaceFolder: ws, Files: []string{plain}, ConfigName: "x"}); got != "dotenv" {
		t.Errorf("with .env: %q, want dotenv", got)
	}
	if got := ProjectName(NameInput{Env: map[string]string{"COMPOSE_PROJECT_NAME": "e"}, WorkspaceFolder: ws, Files: []string{plain}}); got != "e" {
		t.Errorf("env over .env: %q, want e", got)
	}
}

func TestNames(t *testing.T) {
	if got := ContainerName("proj", "db", 1); got != "proj-db-1" {
		t.Errorf("ContainerName = %q", got)
	}
	if got := DefaultImageName("proj", "app"); got != "proj-app" {
		t.Errorf("DefaultImageName = %q", got)
	}
	if got := envName("my-db.1"); got != "MY_DB_1" {
		t.Errorf("envName = %q", got)
	}
}
