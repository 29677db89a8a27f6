package workspace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/gitcred"
	"github.com/mochi-dev/mochi/gitwt"
	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/workspace"
)

var (
	gitImageOnce sync.Once
	gitImageRef  string
	gitImageErr  error
)

// gitTestImage builds (once per test binary) an image with git and the ssh client on top of
// the test image, labelled mochi.test=1; the returned function removes it.
func gitTestImage(t *testing.T) string {
	t.Helper()
	gitImageOnce.Do(func() {
		ref := fmt.Sprintf("mochi-test/git-named:%d", time.Now().UnixNano())
		df := "FROM " + testImage + "\nRUN apt-get update && apt-get install -y --no-install-recommends git openssh-client && rm -rf /var/lib/apt/lists/*\n"
		cmd := exec.Command("docker", "build", "-q", "--label", "mochi.test=1", "-t", ref, "-")
		cmd.Stdin = strings.NewReader(df)
		if out, err := cmd.CombinedOutput(); err != nil {
			gitImageErr = fmt.Errorf("build git image: %v\n%s", err, out)
			return
		}
		gitImageRef = ref
	})
	if gitImageErr != nil {
		t.Fatal(gitImageErr)
	}
	return gitImageRef
}

// removeGitTestImage removes the git image after the tests that use it.
func removeGitTestImage() {
	if gitImageRef != "" {
		_ = exec.Command("docker", "rmi", "-f", gitImageRef).Run()
	}
}

// namedEnv is an engine with a MOCHI_HOME, a host git with its own HOME, and a repository
// whose devcontainer.json uses the git image.
type namedEnv struct {
	t    *testing.T
	be   *docker.Provider
	eng  *workspace.Engine
	home string
	git  gitwt.Git
	repo string
	out  *bytes.Buffer
}

func newNamedEnv(t *testing.T, config string) *namedEnv {
	t.Helper()
	be, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "docker", func() error {
		if _, err := exec.LookPath("git"); err != nil {
			return err
		}
		_, err := be.InspectImage(context.Background(), testImage)
		return err
	})
	img := gitTestImage(t)
	hostHome := t.TempDir()
	gitcfg := "[user]\n\tname = Host Person\n\temail = host@example.com\n[init]\n\tdefaultBranch = main\n"
	if err := os.WriteFile(filepath.Join(hostHome, ".gitconfig"), []byte(gitcfg), 0o600); err != nil {
		t.Fatal(err)
	}
	g := gitwt.Git{Env: []string{"HOME=" + hostHome, "XDG_CONFIG_HOME=" + hostHome, "GIT_CONFIG_NOSYSTEM=1"}}
	repo := t.TempDir()
	if err := os.MkdirAll(filepath.Join(repo, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := strings.ReplaceAll(config, "IMAGE", img)
	if err := os.WriteFile(filepath.Join(repo, ".devcontainer", "devcontainer.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "initial"}} {
		if _, err := g.Run(ctx, repo, args...); err != nil {
			t.Fatal(err)
		}
	}
	out := &bytes.Buffer{}
	home := t.TempDir()
	eng := workspace.New(workspace.Config{
		Backend: be, Compose: be.ComposeEngine(), Output: out, AgentPath: agentBinary, Home: home,
		Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	env := &namedEnv{t: t, be: be, eng: eng, home: home, git: g, repo: repo, out: out}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine output:\n%s", out)
		}
		eng.Close()
		ctx := context.Background()
		insts, _ := be.List(ctx, map[string]string{"dev.mochi.worktree.repo": ""})
		for _, in := range insts {
			if strings.HasPrefix(in.Labels["devcontainer.local_folder"], home) {
				_ = be.Remove(ctx, in.ID, true)
			}
		}
		_, _ = g.Run(ctx, repo, "worktree", "prune")
	})
	return env
}

func (n *namedEnv) create(name string, o workspace.CreateOptions) *workspace.UpResult {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	o.Name, o.Repo = name, n.repo
	o.Git = workspace.GitOptions{Host: n.git, Credentials: true, Config: true}
	_, res, err := n.eng.CreateNamed(ctx, o)
	if err != nil {
		n.t.Fatalf("create %s: %v", name, err)
	}
	return res
}

// exec runs a shell command in the named workspace.
func (n *namedEnv) exec(name, script string) (string, int) {
	n.t.Helper()
	var out bytes.Buffer
	code, err := n.eng.Exec(context.Background(), workspace.ExecOptions{
		Locate: workspace.Locate{WorkspaceFolder: filepath.Join(n.home, "worktrees", name), MountWorkspaceGitRoot: true},
		Args:   []string{"/bin/sh", "-c", script}, Stdout: &out, Stderr: &out,
	})
	if err != nil {
		n.t.Fatalf("exec in %s: %v", name, err)
	}
	return out.String(), code
}

// TestNamedWorktreesDocker: two worktree workspaces of one repository run at once in
// separate containers; git works inside with the host's identity, a commit made inside
// shows in the host's git log; rm refuses a dirty worktree and removes everything with
// --force.
func TestNamedWorktreesDocker(t *testing.T) {
	defer removeGitTestImage()
	n := newNamedEnv(t, `{"image": "IMAGE"}`)
	ctx := context.Background()
	a := n.create("alpha", workspace.CreateOptions{NewBranch: "alpha"})
	b := n.create("beta", workspace.CreateOptions{NewBranch: "beta"})
	if a.ContainerID == b.ContainerID || a.Workspace != "alpha" || b.Workspace != "beta" {
		t.Fatalf("up results: %+v %+v, want two workspaces in two containers", a, b)
	}
	if a.RemoteWorkspaceFolder != "/workspaces/alpha" || b.RemoteWorkspaceFolder != "/workspaces/beta" {
		t.Errorf("workspace folders %s %s", a.RemoteWorkspaceFolder, b.RemoteWorkspaceFolder)
	}

	out, code := n.exec("alpha", `git rev-parse --abbrev-ref HEAD && git config user.name && git config user.email && git config --system credential.helper && git status --porcelain | wc -l`)
	want := "alpha\nHost Person\nhost@example.com\n" + gitcred.HelperCommand + "\n0\n"
	if code != 0 || out != want {
		t.Errorf("git inside alpha = %q (exit %d), want %q", out, code, want)
	}
	if out, code := n.exec("alpha", `echo hi > inside.txt && git add inside.txt && git commit -q -m "made inside alpha" && git log --format=%s -1`); code != 0 || out != "made inside alpha\n" {
		t.Fatalf("commit inside alpha: %q (exit %d)", out, code)
	}
	if log, err := n.git.Run(ctx, n.repo, "log", "--format=%s", "-1", "alpha"); err != nil || log != "made inside alpha\n" {
		t.Errorf("host git log alpha = %q, %v; want the commit made inside", log, err)
	}
	if out, _ := n.exec("beta", `git rev-parse --abbrev-ref HEAD; git log --format=%s`); out != "beta\ninitial\n" {
		t.Errorf("beta sees %q, want its own branch without alpha's commit", out)
	}

	list, err := n.eng.ListNamed(ctx, n.git)
	if err != nil || len(list) != 2 {
		t.Fatalf("ListNamed = %+v, %v", list, err)
	}
	for i, w := range []string{"alpha", "beta"} {
		if list[i].Name != w || list[i].Branch != w || list[i].State != "running" || !list[i].Worktree || list[i].Provider != "docker" {
			t.Errorf("list[%d] = %+v", i, list[i])
		}
	}

	// Stop and up again keep the container and git set up.
	if _, err := n.eng.StopNamed(ctx, "beta", false); err != nil {
		t.Fatal(err)
	}
	if list, _ := n.eng.ListNamed(ctx, n.git); list[1].State != "stopped" {
		t.Errorf("beta after stop: %+v", list[1])
	}
	again, err := n.eng.UpNamed(ctx, "beta", workspace.UpOptions{}, workspace.GitOptions{Host: n.git, Credentials: true, Config: true})
	if err != nil || again.ContainerID != b.ContainerID {
		t.Fatalf("up beta again = %+v, %v; want the same container", again, err)
	}

	// rm safety: an untracked file in beta's worktree stops rm unless --force.
	betaWT := filepath.Join(n.home, "worktrees", "beta")
	if err := os.WriteFile(filepath.Join(betaWT, "wip.txt"), []byte("unsaved"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.eng.RemoveNamed(ctx, "beta", false, n.git); !errors.Is(err, gitwt.ErrDirty) {
		t.Fatalf("rm of a dirty worktree = %v, want ErrDirty", err)
	}
	if _, err := os.Stat(filepath.Join(betaWT, "wip.txt")); err != nil {
		t.Fatalf("refused rm lost the work: %v", err)
	}
	if inst, err := n.be.Inspect(ctx, b.ContainerID); err != nil || !inst.Running() {
		t.Fatalf("refused rm touched the container: %v", err)
	}
	if err := n.eng.RemoveNamed(ctx, "beta", true, n.git); err != nil {
		t.Fatalf("rm --force: %v", err)
	}
	if _, err := os.Stat(betaWT); !os.IsNotExist(err) {
		t.Errorf("rm --force left the worktree: %v", err)
	}
	if _, err := n.be.Inspect(ctx, b.ContainerID); err == nil {
		t.Error("rm --force left the container")
	}
	// alpha is clean after its commit: a plain rm works; the branch and its commit stay.
	if err := n.eng.RemoveNamed(ctx, "alpha", false, n.git); err != nil {
		t.Fatalf("rm alpha: %v", err)
	}
	if list, _ := n.eng.ListNamed(ctx, n.git); len(list) != 0 {
		t.Errorf("after rm: %+v", list)
	}
	if wts, _ := n.git.Worktrees(ctx, n.repo); len(wts) != 1 {
		t.Errorf("worktrees after rm: %v", wts)
	}
	if log, _ := n.git.Run(ctx, n.repo, "log", "--format=%s", "-1", "alpha"); log != "made inside alpha\n" {
		t.Errorf("branch alpha after rm: %q", log)
	}
}
