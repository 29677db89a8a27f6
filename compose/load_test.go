package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func testdata(t *testing.T, parts ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{"testdata"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadBasic(t *testing.T, env map[string]string) *Project {
	t.Helper()
	ws := testdata(t, "basic")
	p, err := Load(context.Background(), LoadOptions{
		Files:           []string{".devcontainer/docker-compose.yml", ".devcontainer/docker-compose.override.yml"},
		WorkspaceFolder: ws,
		Env:             env,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadBasic(t *testing.T) {
	ws := testdata(t, "basic")
	p := loadBasic(t, map[string]string{"APP_VERSION": "7"})

	if p.Name != "basic_devcontainer" {
		t.Errorf("project name %q, want basic_devcontainer (the reference's .devcontainer rule)", p.Name)
	}
	if want := filepath.Join(ws, ".devcontainer"); p.WorkingDir != want {
		t.Errorf("working dir %q, want %q", p.WorkingDir, want)
	}
	wantFiles := []string{filepath.Join(ws, ".devcontainer/docker-compose.yml"), filepath.Join(ws, ".devcontainer/docker-compose.override.yml")}
	if !slices.Equal(p.ConfigFiles, wantFiles) {
		t.Errorf("config files %q, want %q", p.ConfigFiles, wantFiles)
	}
	// include brings cache, profiles do not hide debug from the model.
	if got, want := p.ServiceNames(), []string{"app", "cache", "db", "debug"}; !slices.Equal(got, want) {
		t.Errorf("services %q, want %q", got, want)
	}
	app, err := p.Service("app")
	if err != nil {
		t.Fatal(err)
	}
	// extends
	if app.User != "vscode" || app.WorkingDir != "/workspace" || !slices.Contains(app.CapAdd, "SYS_PTRACE") {
		t.Errorf("extends not applied: user %q workdir %q cap_add %q", app.User, app.WorkingDir, app.CapAdd)
	}
	// .env in the project folder and the caller's environment are both interpolated.
	if v := app.Environment["GREETING"]; v == nil || *v != "hello from .env" {
		t.Errorf("GREETING = %v, want the .env value", v)
	}
	if v := app.Build.Args["VERSION"]; v == nil || *v != "7" {
		t.Errorf("build arg VERSION = %v, want 7 from the environment", v)
	}
	if app.Build.Context != ws {
		t.Errorf("build context %q, want %q", app.Build.Context, ws)
	}
	db, _ := p.Service("db")
	if db.Image != "example.com/postgres:16" {
		t.Errorf("db image %q", db.Image)
	}
	// the override file is merged
	if v := db.Environment["POSTGRES_PASSWORD"]; v == nil || *v != "secret" {
		t.Errorf("override not merged: %v", db.Environment)
	}
	if got := p.ImageName("app"); got != "basic_devcontainer-app" {
		t.Errorf("built image name %q, want basic_devcontainer-app", got)
	}
	if got := p.Model().Networks["default"].Name; got != "basic_devcontainer_default" {
		t.Errorf("default network %q", got)
	}
	if got := p.Model().Volumes["data"].Name; got != "basic_devcontainer_data" {
		t.Errorf("volume name %q", got)
	}
}

func TestLoadProjectNameFromEnv(t *testing.T) {
	// Compose itself rejects an invalid COMPOSE_PROJECT_NAME before the reference could
	// sanitise it, so only valid names get this far.
	p := loadBasic(t, map[string]string{"COMPOSE_PROJECT_NAME": "other-name"})
	if p.Name != "other-name" {
		t.Errorf("project name %q, want other-name", p.Name)
	}
	if got := p.Model().Networks["default"].Name; got != "other-name_default" {
		t.Errorf("default network %q, want other-name_default", got)
	}
}

func TestLoadEnvOverDotEnv(t *testing.T) {
	// The caller's environment wins over the project folder's .env, as with Compose.
	p := loadBasic(t, map[string]string{"GREETING": "from the environment", "PG_TAG": "17"})
	app, _ := p.Service("app")
	db, _ := p.Service("db")
	if v := app.Environment["GREETING"]; v == nil || *v != "from the environment" {
		t.Errorf("GREETING = %v", v)
	}
	if db.Image != "example.com/postgres:17" {
		t.Errorf("db image %q", db.Image)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		dir      string
		sentinel error
		want     []string
	}{
		{"bad", nil, []string{filepath.Join("testdata", "bad", "docker-compose.yml"), "line 3, column 4"}},
		{"cycle", ErrCycle, []string{"dependency cycle detected", "a -> "}},
		{"named", ErrUnsupported, []string{"services.app.secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			_, err := Load(context.Background(), LoadOptions{Files: []string{testdata(t, tt.dir, "docker-compose.yml")}})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDefaultComposeFiles(t *testing.T) {
	ws := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("docker-compose.yml", "services:\n  app:\n    image: x\n")
	write("docker-compose.override.yml", "services:\n  app:\n    user: me\n")
	files, envFiles, err := composeFiles(LoadOptions{WorkspaceFolder: ws})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(ws, "docker-compose.yml"), filepath.Join(ws, "docker-compose.override.yml")}; !slices.Equal(files, want) || envFiles != nil {
		t.Errorf("files %q env files %q, want %q and none", files, envFiles, want)
	}
	write(".env", "COMPOSE_FILE=a.yml:b.yml\n")
	files, envFiles, _ = composeFiles(LoadOptions{WorkspaceFolder: ws})
	if want := []string{filepath.Join(ws, "a.yml"), filepath.Join(ws, "b.yml")}; !slices.Equal(files, want) || len(envFiles) != 1 {
		t.Errorf("files %q env files %q, want %q and .env", files, envFiles, want)
	}
	files, _, _ = composeFiles(LoadOptions{WorkspaceFolder: ws, Env: map[string]string{"COMPOSE_FILE": "c.yml"}})
	if want := []string{filepath.Join(ws, "c.yml")}; !slices.Equal(files, want) {
		t.Errorf("files %q, want %q from COMPOSE_FILE", files, want)
	}
}

// TestLoadSyntaxErrorNamesFile: with several compose files, a YAML error names the file at
// fault and its line (compose-go's own error names neither file).
func TestLoadSyntaxErrorNamesFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "docker-compose.yml")
	bad := filepath.Join(dir, "docker-compose.override.yml")
	if err := os.WriteFile(good, []byte("services:\n  app:\n    image: example.com/app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("services:\n  app:\n    environment: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(context.Background(), LoadOptions{Files: []string{good, bad}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"parse " + bad + ": ", "line 3"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "parse "+good) {
		t.Errorf("error %q blames the valid file", err)
	}
}
