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
	"testing"
	"time"

	"github.com/mochi-dev/mochi/gitcred"
	"github.com/mochi-dev/mochi/gitwt"
	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/workspace"
)

// buildGitTestImage builds an image with git and the ssh client on top of the test image,
// labelled mochi.test=1 and removed when t ends.
func buildGitTestImage(t *testing.T) string {
	t.Helper()
	ref := fmt.Sprintf("mochi-test/git-named:%d", time.Now().UnixNano())
	df := "FROM " + testImage + "\nRUN apt-get update && apt-get install -y --no-install-recommends git openssh-client openssh-server && rm -rf /var/lib/apt/lists/*\n"
	cmd := exec.Command("docker", "build", "-q", "--label", "mochi.test=1", "-t", ref, "-")
	cmd.Stdin = strings.NewReader(df)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build git image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", ref).Run() })
	return ref
}

// TestNamedDocker runs the worktree workspace tests on Docker with one git image.
func TestNamedDocker(t *testing.T) {
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
	img := buildGitTestImage(t)
	t.Run("Worktrees", func(t *testing.T) { testNamedWorktrees(t, img) })
	t.Run("GitCredentials", func(t *testing.T) { testNamedGitCredentials(t, img) })
	t.Run("Dotfiles", func(t *testing.T) { testDotfiles(t, img) })
	t.Run("PlainUp", func(t *testing.T) { testNamedPlainUp(t, img) })
	t.Run("Compose", func(t *testing.T) { testNamedCompose(t, img) })
}

// testNamedCompose: two worktree workspaces of a compose project get their own compose
// projects (named after their worktree folders), and git works in both.
func testNamedCompose(t *testing.T, img string) {
	n := newNamedEnv(t, img, `{"dockerComposeFile": "docker-compose.yml", "service": "app", "workspaceFolder": "/workspace"}`,
		".devcontainer/docker-compose.yml", `services:
  app:
    image: IMAGE
    command: sleep infinity
    labels:
      mochi.test: "1"
    volumes:
      - ..:/workspace
`)
	ctx := context.Background()
	one := n.create("c-one", workspace.CreateOptions{NewBranch: "c-one"})
	two := n.create("c-two", workspace.CreateOptions{NewBranch: "c-two"})
	t.Cleanup(func() {
		for _, name := range []string{"c-one", "c-two"} {
			_ = n.eng.RemoveNamed(context.Background(), name, true, n.git)
		}
	})
	if one.ComposeProjectName == "" || one.ComposeProjectName == two.ComposeProjectName || one.ContainerID == two.ContainerID {
		t.Fatalf("compose projects %q and %q, containers %s %s: want two of each", one.ComposeProjectName, two.ComposeProjectName, one.ContainerID, two.ContainerID)
	}
	for _, name := range []string{"c-one", "c-two"} {
		if out, code := n.exec(name, `cd /workspace && git rev-parse --abbrev-ref HEAD`); code != 0 || out != name+"\n" {
			t.Errorf("git in %s: %q (exit %d)", name, out, code)
		}
	}
	for _, name := range []string{"c-one", "c-two"} {
		if err := n.eng.RemoveNamed(ctx, name, false, n.git); err != nil {
			t.Errorf("rm %s: %v", name, err)
		}
	}
	for _, p := range []string{one.ComposeProjectName, two.ComposeProjectName} {
		if insts, _ := n.be.List(ctx, map[string]string{"com.docker.compose.project": p}); len(insts) != 0 {
			t.Errorf("rm left %d containers of project %s", len(insts), p)
		}
	}
}

// testNamedPlainUp: the workspace commands also drive a workspace made by a plain up (no
// worktree): list shows it with its branch, up finds it again, rm removes the container
// and keeps the folder.
func testNamedPlainUp(t *testing.T, img string) {
	n := newNamedEnv(t, img, `{"image": "IMAGE"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := n.eng.Up(ctx, workspace.UpOptions{Locate: workspace.Locate{WorkspaceFolder: n.repo, MountWorkspaceGitRoot: true},
		ExtraLabels: map[string]string{"mochi.test": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := n.eng.ListNamed(ctx, n.git)
	if err != nil || len(list) != 1 || list[0].Name != res.Workspace || list[0].Worktree || list[0].State != "running" || list[0].Branch != "master" && list[0].Branch != "main" {
		t.Fatalf("ListNamed = %+v, %v", list, err)
	}
	again, err := n.eng.UpNamed(ctx, res.Workspace, workspace.UpOptions{}, workspace.GitOptions{})
	if err != nil || again.ContainerID != res.ContainerID {
		t.Fatalf("UpNamed = %+v, %v; want the same container", again, err)
	}
	if err := n.eng.RemoveNamed(ctx, res.Workspace, false, n.git); err != nil {
		t.Fatal(err)
	}
	if _, err := n.be.Inspect(ctx, res.ContainerID); err == nil {
		t.Error("rm left the container")
	}
	if _, err := os.Stat(filepath.Join(n.repo, ".devcontainer")); err != nil {
		t.Errorf("rm of a plain workspace touched its folder: %v", err)
	}
	if err := n.eng.RemoveNamed(ctx, "no-such", false, n.git); err == nil || err.Error() != "no workspace named no-such" {
		t.Errorf("rm of an unknown name = %v", err)
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

func newNamedEnv(t *testing.T, img, config string, more ...string) *namedEnv {
	t.Helper()
	be, err := docker.New(docker.Options{})
	if err != nil {
		t.Fatal(err)
	}
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
	for i := 0; i+1 < len(more); i += 2 {
		data := strings.ReplaceAll(more[i+1], "IMAGE", img)
		if err := os.WriteFile(filepath.Join(repo, more[i]), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
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
		insts, _ := be.List(ctx, map[string]string{"mochi.test": "1"})
		for _, in := range insts {
			if f := in.Labels["devcontainer.local_folder"]; strings.HasPrefix(f, home) || f == repo {
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
	o.Up.ExtraLabels = map[string]string{"mochi.test": "1"}
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

// testNamedWorktrees: two worktree workspaces of one repository run at once in
// separate containers; git works inside with the host's identity, a commit made inside
// shows in the host's git log; rm refuses a dirty worktree and removes everything with
// --force.
func testNamedWorktrees(t *testing.T, img string) {
	n := newNamedEnv(t, img, `{"image": "IMAGE"}`)
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
	// Inside a container the worktree folders are elsewhere: the locks keep a prune there
	// from dropping the host's worktrees.
	if out, code := n.exec("alpha", `git worktree prune && git status --porcelain | wc -l`); code != 0 || out != "0\n" {
		t.Errorf("git worktree prune inside alpha: %q (exit %d)", out, code)
	}
	if wts, _ := n.git.Worktrees(ctx, n.repo); len(wts) != 3 {
		t.Errorf("host worktrees after a prune inside: %v", wts)
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

// testNamedGitCredentials: git inside asks the host's git for credentials through
// ServeGitCredentials on the workspace's run folder; the opt-outs leave git alone.
func testNamedGitCredentials(t *testing.T, img string) {
	n := newNamedEnv(t, img, `{"image": "IMAGE"}`)
	ctx := context.Background()
	store := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(store, []byte("https://dora:t0ken@git.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := n.git.Run(ctx, n.repo, "config", "--global", "credential.helper", "store --file "+store); err != nil {
		t.Fatal(err)
	}
	res := n.create("cred", workspace.CreateOptions{NewBranch: "cred"})
	inst, err := n.be.Inspect(ctx, res.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Dir(inst.Labels["dev.mochi.agent.socket"])
	if !strings.HasPrefix(runDir, filepath.Join(n.home, "run")) {
		t.Fatalf("run folder %q not under MOCHI_HOME", runDir)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- (gitcred.Server{Git: n.git}).Serve(sctx, filepath.Join(runDir, gitcred.SocketName)) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(filepath.Join(runDir, gitcred.SocketName)); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, code := n.exec("cred", `printf 'protocol=https\nhost=git.example.com\n\n' | git credential fill`)
	if code != 0 || !strings.Contains(out, "username=dora\n") || !strings.Contains(out, "password=t0ken\n") {
		t.Errorf("git credential fill inside = %q (exit %d), want the host's credential", out, code)
	}
	// git approve from inside reaches the host's store.
	if _, code := n.exec("cred", `printf 'protocol=https\nhost=new.example.com\nusername=eve\npassword=pw2\n\n' | git credential approve`); code != 0 {
		t.Errorf("git credential approve inside exited %d", code)
	}
	if data, _ := os.ReadFile(store); !strings.Contains(string(data), "https://eve:pw2@new.example.com") {
		t.Errorf("host store after approve inside: %q", data)
	}

	ctx2, cancel2 := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel2()
	_, _, err = n.eng.CreateNamed(ctx2, workspace.CreateOptions{Name: "plain", Repo: n.repo, NewBranch: "plain", Git: workspace.GitOptions{Host: n.git},
		Up: workspace.UpOptions{ExtraLabels: map[string]string{"mochi.test": "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := n.exec("plain", `git config --system credential.helper; git config --global user.name; echo end`); out != "end\n" {
		t.Errorf("with --no-git-credentials --no-git-config git has %q", out)
	}
	// The status of a workspace folder owned by another user still works (safe.directory).
	if out, code := n.exec("plain", `git status --porcelain && echo ok`); code != 0 || out != "ok\n" {
		t.Errorf("git status in plain = %q (exit %d)", out, code)
	}
	for _, name := range []string{"cred", "plain"} {
		if err := n.eng.RemoveNamed(ctx, name, true, n.git); err != nil {
			t.Error(err)
		}
	}
}

// testDotfiles: a dotfiles repository (a local bare repository by file URL) is installed
// once per container; a failing install script is reported, and up still succeeds.
func testDotfiles(t *testing.T, img string) {
	n := newNamedEnv(t, img, `{"image": "IMAGE"}`)
	ctx := context.Background()
	bare := func(name, script string) string {
		src := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, "install.sh"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "dots"}} {
			if _, err := n.git.Run(ctx, src, args...); err != nil {
				t.Fatal(err)
			}
		}
		dst := src + ".git"
		if _, err := n.git.Run(ctx, "", "clone", "-q", "--bare", src, dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	good := bare("good", "#!/bin/sh\necho \"ran in $PWD\" >> \"$HOME/dotfiles-ran\"\n")
	bad := bare("bad", "#!/bin/sh\necho installing; exit 7\n")
	up := func(repo string, remove bool) *workspace.UpResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		res, err := n.eng.Up(ctx, workspace.UpOptions{
			Locate:         workspace.Locate{WorkspaceFolder: n.repo, MountWorkspaceGitRoot: true},
			HookOptions:    workspace.HookOptions{Dotfiles: workspace.Dotfiles{Repository: "file://" + repo}},
			Mounts:         []string{"type=bind,source=" + repo + ",target=" + repo},
			RemoveExisting: remove,
			ExtraLabels:    map[string]string{"mochi.test": "1"},
		})
		if err != nil {
			t.Fatalf("up with dotfiles %s: %v", repo, err)
		}
		return res
	}
	exec := func(script string) string {
		var out bytes.Buffer
		if _, err := n.eng.Exec(ctx, workspace.ExecOptions{Locate: workspace.Locate{WorkspaceFolder: n.repo, MountWorkspaceGitRoot: true},
			Args: []string{"/bin/sh", "-c", script}, Stdout: &out, Stderr: &out}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := up(good, false)
	t.Cleanup(func() {
		_, _ = n.eng.Stop(context.Background(), workspace.StopOptions{Locate: workspace.Locate{WorkspaceFolder: n.repo}, Remove: true})
	})
	if got := exec(`cat "$HOME/dotfiles-ran"`); got != "ran in /root/dotfiles\n" {
		t.Fatalf("after the first up the install script left %q", got)
	}
	if again := up(good, false); again.ContainerID != first.ContainerID {
		t.Fatalf("second up made a new container")
	}
	if got := exec(`cat "$HOME/dotfiles-ran"`); got != "ran in /root/dotfiles\n" {
		t.Errorf("after a second up of the same container: %q, want the script run once", got)
	}
	if fresh := up(good, true); fresh.ContainerID == first.ContainerID {
		t.Fatal("--remove-existing-container kept the container")
	}
	if got := exec(`cat "$HOME/dotfiles-ran"`); got != "ran in /root/dotfiles\n" {
		t.Errorf("a new container: %q, want the script run once in it", got)
	}

	n.out.Reset()
	up(bad, true)
	if !strings.Contains(n.out.String(), "Installing dotfiles failed") || !strings.Contains(n.out.String(), "exit=7") {
		t.Errorf("a failing install script was not reported:\n%s", n.out)
	}
	if got := exec(`test -e "$HOME/dotfiles-ran" && echo ran || echo none`); got != "none\n" {
		t.Errorf("the failing repository's container has %q", got)
	}
}
