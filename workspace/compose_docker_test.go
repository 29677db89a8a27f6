package workspace_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// TestComposeRemoteUserUID: with a non-root host user, the main service's remoteUser gets the
// host user's UID/GID (the `-uid` image), as the reference does for compose configurations.
// mochi runs as uid 4321 (not in the image) with access to the Docker socket's group.
func TestComposeRemoteUserUID(t *testing.T) {
	const uid = "4321"
	project := composeProjectName()
	h := newHarness(t, map[string]string{
		".env":                             "COMPOSE_PROJECT_NAME=" + project + "\n",
		".devcontainer/Dockerfile":         "FROM " + testImage + "\nLABEL mochi.test=1\nRUN useradd -m erin\n",
		".devcontainer/docker-compose.yml": "services:\n  app:\n    build: .\n    command: [\"sleep\", \"infinity\"]\n    labels: {mochi.test: \"1\"}\n",
		".devcontainer/devcontainer.json":  `{"dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/", "remoteUser": "erin"}`,
	}, false)
	if agentBinary == "" {
		t.Fatal("mochi binary not built")
	}
	var images []string
	t.Cleanup(func() {
		for _, img := range images {
			if out, err := exec.Command("docker", "rmi", img).CombinedOutput(); err != nil {
				t.Errorf("remove image %s: %v: %s", img, err, out)
			}
		}
	})
	downProject(t, h, project)

	// The other user must reach the workspace, a home of its own, the binary and the socket.
	if err := os.Chmod(filepath.Dir(h.folder), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(h.folder, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chmod(p, 0o755)
	}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	bin := filepath.Join(home, "mochi")
	data, err := os.ReadFile(agentBinary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Dir(home), home} {
		if err := os.Chmod(p, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat("/var/run/docker.sock")
	if err != nil {
		t.Fatal(err)
	}
	gid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Gid))
	cmd := exec.Command("setpriv", "--reuid", uid, "--regid", uid, "--groups", gid, "--",
		bin, "up", "--workspace-folder", h.folder)
	cmd.Env = append(os.Environ(), "HOME="+home, "MOCHI_NO_SERVER=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mochi up as uid %s: %v\n%s", uid, err, stderr.String())
	}
	var res struct{ ContainerID string }
	if err := json.Unmarshal(out, &res); err != nil || res.ContainerID == "" {
		t.Fatalf("up result %q: %v", out, err)
	}
	img, err := exec.Command("docker", "inspect", "--format", "{{.Config.Image}}", res.ContainerID).Output()
	if err != nil {
		t.Fatal(err)
	}
	images = append(images, strings.TrimSpace(string(img)))
	if base := compose.DefaultImageName(project, "app"); images[0] != base {
		images = append(images, base)
	}
	if !strings.HasSuffix(images[0], "-uid") {
		t.Errorf("main service runs %s, want the -uid image", images[0])
	}
	ids, err := exec.Command("docker", "exec", res.ContainerID, "id", "-u", "erin").Output()
	if got := strings.TrimSpace(string(ids)); err != nil || got != uid {
		t.Errorf("erin's uid in the container = %q (%v), want the host user's %s", got, err, uid)
	}
}
