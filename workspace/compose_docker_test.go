package workspace_test

import (
	"context"
	"strings"
	"testing"

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
	h := newHarness(t, composeFiles, true)
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
