package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/workspace"
)

const testImage = "mochi-test/debian:bookworm"

// agentBinary is a static mochi binary built once for the engine tests ("" when not built).
var agentBinary string

func TestMain(m *testing.M) {
	code := func() int {
		if testenv.Wanted("docker") {
			dir, err := os.MkdirTemp("", "mochi-agent-")
			if err != nil {
				panic(err)
			}
			defer os.RemoveAll(dir)
			bin := filepath.Join(dir, "mochi")
			cmd := exec.Command("go", "build", "-o", bin, "../cmd/mochi")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				os.Stderr.Write(out)
				return 1
			}
			agentBinary = bin
		}
		return m.Run()
	}()
	os.Exit(code)
}

type harness struct {
	t      *testing.T
	be     workspace.Backend
	eng    *workspace.Engine
	folder string
	out    *bytes.Buffer
}

// newHarness writes files into a fresh workspace folder and returns an engine on Docker.
// withAgent selects the agent link (true) or the engine's exec (false).
func newHarness(t *testing.T, files map[string]string, withAgent bool) *harness {
	t.Helper()
	be, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "docker", func() error {
		_, err := be.InspectImage(context.Background(), testImage)
		return err
	})
	return newHarnessOn(t, files, withAgent, be, be.ComposeEngine())
}

// newHarnessOn is newHarness on any provider (compose may be nil).
func newHarnessOn(t *testing.T, files map[string]string, withAgent bool, be workspace.Backend, ce compose.Engine) *harness {
	t.Helper()
	folder := t.TempDir()
	for name, content := range files {
		p := filepath.Join(folder, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := &bytes.Buffer{}
	cfg := workspace.Config{Backend: be, Compose: ce, Output: out, Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if withAgent {
		cfg.AgentPath, cfg.Home = agentBinary, t.TempDir()
	}
	h := &harness{t: t, be: be, eng: workspace.New(cfg), folder: folder, out: out}
	t.Cleanup(func() {
		if t.Failed() && cfg.Home != "" {
			logs, _ := filepath.Glob(filepath.Join(cfg.Home, "run", "*", "agent.log"))
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, data)
			}
		}
		h.eng.Close()
		ctx := context.Background()
		insts, _ := be.List(ctx, map[string]string{"devcontainer.local_folder": folder})
		for _, in := range insts {
			_ = be.Remove(ctx, in.ID, true)
		}
	})
	return h
}

func (h *harness) up(o workspace.UpOptions) (*workspace.UpResult, error) {
	o.WorkspaceFolder = h.folder
	o.MountWorkspaceGitRoot = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return h.eng.Up(ctx, o)
}

func (h *harness) exec(args ...string) (string, int) {
	h.t.Helper()
	var out bytes.Buffer
	code, err := h.eng.Exec(context.Background(), workspace.ExecOptions{
		Locate: workspace.Locate{WorkspaceFolder: h.folder, MountWorkspaceGitRoot: true},
		Args:   args, Stdout: &out, Stderr: &out,
	})
	if err != nil {
		h.t.Fatalf("exec %v: %v\n%s", args, err, h.out)
	}
	return out.String(), code
}

func (h *harness) hookLog() string {
	data, _ := os.ReadFile(filepath.Join(h.folder, "hooks.log"))
	return strings.TrimSpace(string(data))
}

const lifecycleConfig = `{
	// every hook appends its name to a file in the (bind-mounted) workspace folder
	"image": "mochi-test/debian:bookworm",
	"containerEnv": {"CE": "a \"q\" $x"},
	"remoteEnv": {"RE": "${containerWorkspaceFolder}|${localWorkspaceFolderBasename}"},
	"onCreateCommand": "echo onCreate >> hooks.log",
	"updateContentCommand": ["sh", "-c", "echo updateContent >> hooks.log"],
	"postCreateCommand": {"one": "echo postCreate >> hooks.log"},
	"postStartCommand": "echo postStart >> hooks.log",
	"postAttachCommand": "echo postAttach >> hooks.log",
}`

func testLifecycle(t *testing.T, withAgent bool) {
	testLifecycleOn(t, newHarness(t, map[string]string{".devcontainer/devcontainer.json": lifecycleConfig}, withAgent))
}

func testLifecycleOn(t *testing.T, h *harness) {
	res, err := h.up(workspace.UpOptions{})
	if err != nil {
		t.Fatalf("up: %v\n%s", err, h.out)
	}
	base := filepath.Base(h.folder)
	if res.Outcome != "success" || res.RemoteUser != "root" || res.RemoteWorkspaceFolder != "/workspaces/"+base || res.ContainerID == "" {
		t.Fatalf("up result = %+v", res)
	}
	want := "onCreate\nupdateContent\npostCreate\npostStart\npostAttach"
	if got := h.hookLog(); got != want {
		t.Fatalf("hooks after first up:\n%s\nwant:\n%s", got, want)
	}
	if _, err := h.up(workspace.UpOptions{}); err != nil {
		t.Fatalf("%v\n%s", err, h.out)
	}
	if got := h.hookLog(); got != want+"\npostAttach" {
		t.Fatalf("second up must run only postAttach; hooks:\n%s", got)
	}
	if err := h.be.Stop(context.Background(), res.ContainerID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	res2, err := h.up(workspace.UpOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res2.ContainerID != res.ContainerID {
		t.Errorf("up after stop made a new container")
	}
	if got := h.hookLog(); got != want+"\npostAttach\npostStart\npostAttach" {
		t.Fatalf("up after stop must run postStart and postAttach; hooks:\n%s", got)
	}
	out, code := h.exec("sh", "-c", `printf '%s\n' "$CE" "$RE" "$PWD"; exit 7`)
	if code != 7 {
		t.Errorf("exec exit code = %d, want 7", code)
	}
	wantOut := "a \"q\" $x\n/workspaces/" + base + "|" + base + "\n/workspaces/" + base + "\n"
	if out != wantOut {
		t.Errorf("exec output = %q, want %q", out, wantOut)
	}
	stop, err := h.eng.Stop(context.Background(), workspace.StopOptions{Locate: workspace.Locate{WorkspaceFolder: h.folder, MountWorkspaceGitRoot: true}, Remove: true})
	if err != nil || !stop.Removed {
		t.Fatalf("down = %+v, %v", stop, err)
	}
	if insts, _ := h.be.List(context.Background(), map[string]string{"devcontainer.local_folder": h.folder}); len(insts) != 0 {
		t.Errorf("down left %d containers", len(insts))
	}
}

func TestLifecycleWithAgent(t *testing.T)  { testLifecycle(t, true) }
func TestLifecycleEngineExec(t *testing.T) { testLifecycle(t, false) }

func TestNonRootRemoteUser(t *testing.T) {
	h := newHarness(t, map[string]string{
		".devcontainer/Dockerfile": "FROM mochi-test/debian:bookworm\nRUN useradd -m -s /bin/bash dev\n",
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "dev",
			"postCreateCommand": "id -un > /tmp/whoami.txt"}`,
	}, true)
	res, err := h.up(workspace.UpOptions{})
	if err != nil {
		t.Fatalf("up: %v\n%s", err, h.out)
	}
	if res.RemoteUser != "dev" {
		t.Errorf("remoteUser = %q, want dev", res.RemoteUser)
	}
	out, code := h.exec("sh", "-c", "cat /tmp/whoami.txt; id -un; echo $HOME; test -f ~/.devcontainer/.postCreateCommandMarker && echo marker")
	if code != 0 || out != "dev\ndev\n/home/dev\nmarker\n" {
		t.Errorf("exec as remote user = %q (exit %d)", out, code)
	}
}

func TestFailedHookStopsLaterHooks(t *testing.T) {
	h := newHarness(t, map[string]string{".devcontainer.json": `{"image": "mochi-test/debian:bookworm",
		"postCreateCommand": "exit 3", "postStartCommand": "touch started"}`}, true)
	_, err := h.up(workspace.UpOptions{})
	var he *workspace.HookError
	if !errors.As(err, &he) || he.Code != 3 || err.Error() != "postCreateCommand from devcontainer.json failed." {
		t.Fatalf("up error = %v, want the postCreateCommand failure", err)
	}
	if _, err := os.Stat(filepath.Join(h.folder, "started")); err == nil {
		t.Errorf("postStartCommand ran after a failed postCreateCommand")
	}
}

func TestBrokenDockerfileLeavesNothing(t *testing.T) {
	h := newHarness(t, map[string]string{
		".devcontainer/Dockerfile":        "FROM mochi-test/debian:bookworm\nRUN exit 9\n",
		".devcontainer/devcontainer.json": `{"build": {"dockerfile": "Dockerfile"}}`,
	}, true)
	_, err := h.up(workspace.UpOptions{})
	if err == nil || !strings.Contains(err.Error(), "Dockerfile") {
		t.Fatalf("up error = %v, want a build error naming the Dockerfile", err)
	}
	if insts, _ := h.be.List(context.Background(), map[string]string{"devcontainer.local_folder": h.folder}); len(insts) != 0 {
		t.Errorf("a failed build left %d containers", len(insts))
	}
}
