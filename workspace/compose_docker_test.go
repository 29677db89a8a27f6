package workspace_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/workspace"
)

var composeFiles = map[string]string{
	".devcontainer/docker-compose.yml": `services:
  app:
    image: mochi-test/debian:bookworm
    command: sleep infinity
    volumes:
      - ..:/workspace:cached
    depends_on:
      db:
        condition: service_healthy
  db:
    image: mochi-test/debian:bookworm
    command: ["sh", "-c", "sleep 1; touch /tmp/ready; exec sleep infinity"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      retries: 30
`,
	".devcontainer/devcontainer.json": `{"dockerComposeFile": "docker-compose.yml", "service": "app",
		"workspaceFolder": "/workspace", "postCreateCommand": "echo created >> /workspace/hooks.log"}`,
}

// TestComposeWorkspace: a health-gated two-service project comes up natively (no compose
// tool), the workspace sees the other service by name, a second up reuses it, down removes it.
func TestComposeWorkspace(t *testing.T) {
	files := maps.Clone(composeFiles)
	project := composeProjectName()
	files[".env"] = "COMPOSE_PROJECT_NAME=" + project + "\n"
	h := newHarness(t, files, true)
	downProject(t, h, project)
	t.Cleanup(func() {
		_, _ = h.eng.Stop(context.Background(), workspace.StopOptions{Locate: workspace.Locate{WorkspaceFolder: h.folder, MountWorkspaceGitRoot: true}, Remove: true, Volumes: true})
	})
	res, err := h.up(workspace.UpOptions{})
	if err != nil {
		t.Fatalf("up: %v\n%s", err, h.out)
	}
	if res.ComposeProjectName == "" || res.RemoteWorkspaceFolder != "/workspace" {
		t.Fatalf("up result = %+v", res)
	}
	out, code := h.exec("sh", "-c", "pwd; getent hosts db >/dev/null && echo db-resolves; echo $MOCHI_SERVICE_DB_HOST")
	if code != 0 || out != "/workspace\ndb-resolves\ndb\n" {
		t.Errorf("inside the app service: %q (exit %d)", out, code)
	}
	entries, err := h.eng.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	health := map[string]string{}
	for _, en := range entries {
		if en.Folder == h.folder {
			for _, sv := range en.Services {
				health[sv.Service] = sv.State + "/" + sv.Health
			}
		}
	}
	if health["db"] != "running/healthy" || health["app"] != "running/" {
		t.Errorf("list shows services %v, want app running and db running/healthy", health)
	}
	res2, err := h.up(workspace.UpOptions{})
	if err != nil || res2.ContainerID != res.ContainerID {
		t.Fatalf("second up = %+v, %v; want the same container", res2, err)
	}
	if got := h.hookLog(); got != "created" {
		t.Errorf("hooks = %q, want postCreate once", got)
	}
	stop, err := h.eng.Stop(context.Background(), workspace.StopOptions{Locate: workspace.Locate{WorkspaceFolder: h.folder, MountWorkspaceGitRoot: true}, Remove: true})
	if err != nil || !stop.Removed {
		t.Fatalf("down = %+v, %v", stop, err)
	}
	insts, _ := h.be.List(context.Background(), map[string]string{"com.docker.compose.project": res.ComposeProjectName})
	if len(insts) != 0 {
		var names []string
		for _, i := range insts {
			names = append(names, i.Name)
		}
		t.Errorf("down left containers: %s", strings.Join(names, ", "))
	}
}

// composeProjectName returns a project name of the test's own: compose tests that run at the
// same time (here or in another package) must not share a project, and the default name
// (<folder basename>_devcontainer) is the same for every t.TempDir().
func composeProjectName() string {
	return "mochi-test-" + strings.ToLower(rand.Text()[:10])
}

// downProject removes every container, network and volume of the project when the test ends.
func downProject(t *testing.T, h *harness, project string) {
	t.Cleanup(func() {
		ce := h.be.(*docker.Provider).ComposeEngine()
		if err := compose.New(ce, nil).Down(context.Background(), project, true); err != nil {
			t.Errorf("down %s: %v", project, err)
		}
	})
}

// TestComposeBadInput: each kind of bad input of issue #4 gives an error naming what is at
// fault, and leaves no service of the project running.
func TestComposeBadInput(t *testing.T) {
	hostPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	const svc = `
  %s:
    image: %s
    command: ["sleep", "600"]
    stop_grace_period: 1s
    labels: {mochi.test: "1"}`
	tests := []struct {
		name string
		// compose is the compose file; PORT is replaced by a port a host process listens on.
		compose  string
		service  string
		sentinel error
		want     []string // in the error text; FILE is the compose file's path
	}{
		{
			name:    "invalid YAML",
			compose: "services:\n  app:\n    image: [unclosed\n",
			service: "app",
			want:    []string{"FILE", "line 3"},
		},
		{
			name:     "service not in the files",
			compose:  "services:" + fmt.Sprintf(svc, "app", testImage) + fmt.Sprintf(svc, "db", testImage),
			service:  "web",
			sentinel: compose.ErrServiceNotFound,
			want:     []string{`"web"`, "FILE", "services: app, db"},
		},
		{
			name: "dependency cycle",
			compose: "services:" + fmt.Sprintf(svc, "app", testImage) + "\n    depends_on: [db]" +
				fmt.Sprintf(svc, "db", testImage) + "\n    depends_on: [cache]" +
				fmt.Sprintf(svc, "cache", testImage) + "\n    depends_on: [db]",
			service:  "app",
			sentinel: compose.ErrCycle,
			want:     []string{"cycle", "db", "cache"},
		},
		{
			// db starts, then web cannot publish its port: db is stopped again and app, which
			// depends on both, is never created.
			name: "port already in use",
			compose: "services:" + fmt.Sprintf(svc, "app", testImage) + "\n    depends_on: [db, web]" +
				fmt.Sprintf(svc, "db", testImage) +
				fmt.Sprintf(svc, "web", "mochi-test/busybox:latest") + "\n    ports: [\"127.0.0.1:PORT:80\"]\n    depends_on: [db]",
			service:  "app",
			sentinel: compose.ErrPortInUse,
			want:     []string{"start service web", "PORT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			project := composeProjectName()
			port := hostPort(t)
			file := strings.ReplaceAll(tt.compose, "PORT", port)
			h := newHarness(t, map[string]string{
				".env":                             "COMPOSE_PROJECT_NAME=" + project + "\n",
				".devcontainer/docker-compose.yml": file,
				".devcontainer/devcontainer.json":  fmt.Sprintf(`{"dockerComposeFile": "docker-compose.yml", "service": %q, "workspaceFolder": "/"}`, tt.service),
			}, false)
			downProject(t, h, project)
			_, err := h.up(workspace.UpOptions{})
			if err == nil {
				t.Fatalf("up succeeded\n%s", h.out)
			}
			t.Logf("up: %v", err)
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not match %v", err, tt.sentinel)
			}
			path := filepath.Join(h.folder, ".devcontainer", "docker-compose.yml")
			for _, w := range tt.want {
				w = strings.NewReplacer("FILE", path, "PORT", port).Replace(w)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			insts, lerr := h.be.List(context.Background(), map[string]string{"com.docker.compose.project": project})
			if lerr != nil {
				t.Fatal(lerr)
			}
			for _, in := range insts {
				if in.Running() {
					t.Errorf("container %s is still running after the failed up", in.Name)
				}
				if in.Labels["com.docker.compose.service"] == "app" {
					t.Errorf("the main service's container %s was created although a dependency failed", in.Name)
				}
			}
		})
	}
}
