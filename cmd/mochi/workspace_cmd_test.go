package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
)

// TestWorkspaceSSHAgentPush: a worktree workspace pushes over ssh to a bare remote (an sshd
// container on a test network, holding a host folder) with the host's ssh-agent, once
// forwarded by `ssh -A` through the gateway and once bind-mounted by --forward-ssh-agent;
// without an agent the push is refused. The pushed commits are in the host's bare
// repository.
func TestWorkspaceSSHAgentPush(t *testing.T) {
	testenv.RequireEngine(t, "docker", func() error {
		for _, tool := range []string{"ssh", "ssh-agent", "ssh-add", "ssh-keygen", "git", "docker"} {
			if _, err := exec.LookPath(tool); err != nil {
				return err
			}
		}
		return exec.Command("docker", "image", "inspect", "mochi-test/debian:bookworm").Run()
	})
	bin := buildMochi(t)
	tag := fmt.Sprint(time.Now().UnixNano())
	run := func(env []string, name string, args ...string) (string, string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return out.String(), errb.String(), code
	}
	must := func(env []string, name string, args ...string) string {
		t.Helper()
		out, errOut, code := run(env, name, args...)
		if code != 0 {
			t.Fatalf("%s %v: exit %d\n%s%s", name, args, code, out, errOut)
		}
		return out
	}
	base := os.Environ()

	img := "mochi-test/git-ssh:" + tag
	build := exec.Command("docker", "build", "-q", "--label", "mochi.test=1", "-t", img, "-")
	build.Stdin = strings.NewReader("FROM mochi-test/debian:bookworm\nRUN apt-get update && apt-get install -y --no-install-recommends git openssh-client openssh-server && rm -rf /var/lib/apt/lists/*\n")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build image: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", img).Run() })

	// The host's ssh-agent holds the key the remote accepts.
	tmp, err := os.MkdirTemp("", "mochi-push")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	key, sock := filepath.Join(tmp, "key"), filepath.Join(tmp, "agent.sock")
	must(base, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "push-test", "-f", key)
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(append(base, "SSH_AUTH_SOCK="+sock), "ssh-add", "-q", key)

	// The remote: sshd on a test network, its bare repository a host folder.
	net := "mochi-test-push-" + tag
	must(base, "docker", "network", "create", "--label", "mochi.test=1", net)
	t.Cleanup(func() { _ = exec.Command("docker", "network", "rm", net).Run() })
	bare := filepath.Join(tmp, "remote.git")
	must(base, "git", "init", "-q", "--bare", bare)
	remote := strings.TrimSpace(must(base, "docker", "run", "-d", "--label", "mochi.test=1", "--network", net, "--network-alias", "gitremote",
		"-v", bare+":/srv/remote.git", "-v", key+".pub:/root/.ssh/authorized_keys:ro",
		img, "sh", "-c", "mkdir -p /run/sshd && ssh-keygen -A && exec /usr/sbin/sshd -D -e"))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", remote).Run() })

	// The project: its dev container joins the test network.
	home, mochiHome := t.TempDir(), filepath.Join(t.TempDir(), "m")
	if err := os.MkdirAll(mochiHome, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = Pusher\n\temail = pusher@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mochiHome, "server.addr"), []byte(freePort(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(base, "HOME="+home, "MOCHI_HOME="+mochiHome, "MOCHI_NO_SERVER=", "SSH_AUTH_SOCK="+sock, "GIT_CONFIG_NOSYSTEM=1")
	repo := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(filepath.Join(repo, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`{"image": %q, "runArgs": ["--network", %q, "--label", "mochi.test=1"]}`, img, net)
	if err := os.WriteFile(filepath.Join(repo, ".devcontainer", "devcontainer.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	must(env, "git", "-C", repo, "init", "-q")
	must(env, "git", "-C", repo, "add", ".")
	must(env, "git", "-C", repo, "commit", "-q", "-m", "initial")
	t.Cleanup(func() {
		run(env, bin, "workspace", "rm", "--force", "viagw")
		run(env, bin, "workspace", "rm", "--force", "viamount")
		run(env, bin, "server", "stop")
	})

	var res struct {
		Outcome, Workspace, Branch, Worktree, SSHHost string
	}
	out := must(env, bin, "workspace", "create", "viagw", "--repo", repo)
	if json.Unmarshal([]byte(out), &res) != nil || res.Outcome != "success" || res.Branch != "viagw" || res.SSHHost != "viagw.mochi" {
		t.Fatalf("workspace create = %q", out)
	}
	sshConfig := filepath.Join(mochiHome, "ssh_config")
	push := `set -e; echo "$1" > pushed.txt; git add pushed.txt; git commit -q -m "$1"
GIT_SSH_COMMAND="ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes" git push -q ssh://root@gitremote/srv/remote.git "HEAD:refs/heads/$1"`
	// Without an agent the remote refuses the push.
	if _, errOut, code := run(env, "ssh", "-F", sshConfig, "viagw.mochi", "sh", "-c", quoteSh(push), "push", "refused"); code == 0 {
		t.Fatalf("a push without an agent succeeded")
	} else if !strings.Contains(errOut, "Permission denied") {
		t.Errorf("push without an agent: %s", errOut)
	}
	if out, errOut, code := run(env, "ssh", "-A", "-F", sshConfig, "viagw.mochi", "sh", "-c", quoteSh(push), "push", "viagw"); code != 0 {
		t.Fatalf("push with ssh -A: exit %d\n%s%s", code, out, errOut)
	}
	if got := must(env, "git", "--git-dir", bare, "log", "--format=%s %an", "-1", "viagw"); got != "viagw Pusher\n" {
		t.Errorf("remote branch viagw = %q, want the commit made inside with the host's identity", got)
	}

	out = must(env, bin, "workspace", "create", "viamount", "--repo", repo, "--forward-ssh-agent")
	if json.Unmarshal([]byte(out), &res) != nil || res.Outcome != "success" {
		t.Fatalf("workspace create --forward-ssh-agent = %q", out)
	}
	if out, errOut, code := run(env, "ssh", "-F", sshConfig, "viamount.mochi", "sh", "-c", quoteSh(push), "push", "viamount"); code != 0 {
		t.Fatalf("push with the bind-mounted agent: exit %d\n%s%s", code, out, errOut)
	}
	if got := must(env, "git", "--git-dir", bare, "log", "--format=%s", "-1", "viamount"); got != "viamount\n" {
		t.Errorf("remote branch viamount = %q", got)
	}

	out = must(env, bin, "workspace", "list")
	for _, want := range []string{"viagw", "viamount", "running", "viagw.mochi"} {
		if !strings.Contains(out, want) {
			t.Errorf("workspace list lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"viagw", "viamount"} {
		must(env, bin, "workspace", "rm", "--force", name)
	}
	if data, _ := os.ReadFile(sshConfig); strings.Contains(string(data), "viagw.mochi") {
		t.Errorf("rm left the ssh config entry:\n%s", data)
	}
}

// quoteSh quotes s for a POSIX shell (ssh joins its arguments into one command line).
func quoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestWorkspaceCmdBadInput: flag mistakes are refused before anything is made.
func TestWorkspaceCmdBadInput(t *testing.T) {
	mochiHome := filepath.Join(t.TempDir(), "m")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"workspace", "create", "x", "--branch", "a", "--new-branch", "b"}, "give --branch or --new-branch, not both"},
		{[]string{"workspace", "create", "x", "--forward-ssh-agent"}, "--forward-ssh-agent: SSH_AUTH_SOCK is not set"},
		{[]string{"workspace", "create"}, "accepts 1 arg"},
		{[]string{"workspace", "rm", "nothing-here"}, "nothing-here"},
	} {
		var out, errb bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errb, LookupEnv: func(k string) (string, bool) {
			if k == "MOCHI_HOME" {
				return mochiHome, true
			}
			return "", false
		}}
		if code := Main(tc.args, ios); code == 0 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("mochi %v: exit %d, stderr %q; want an error with %q", tc.args, code, errb.String(), tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(mochiHome, "worktrees")); !os.IsNotExist(err) {
		t.Errorf("a refused create made the worktrees folder")
	}
}

func TestForwardedPorts(t *testing.T) {
	home := t.TempDir()
	if got := forwardedPorts(home, "none"); got != nil {
		t.Errorf("no ports file: %v", got)
	}
	if err := os.MkdirAll(filepath.Join(home, "ports"), 0o700); err != nil {
		t.Fatal(err)
	}
	state := `{"workspace":"w","forwards":[{"host":"localhost","port":3000,"origin":"forwardPorts","localAddr":"127.0.0.1:3000"},
		{"host":"localhost","port":8080,"origin":"detected","localAddr":"127.0.0.1:40123"},
		{"host":"localhost","port":22,"origin":"forwardPorts","error":"taken"}]}`
	if err := os.WriteFile(filepath.Join(home, "ports", "w.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	got := forwardedPorts(home, "w")
	if strings.Join(got, " ") != "3000->127.0.0.1:3000 8080->127.0.0.1:40123" {
		t.Errorf("forwardedPorts = %v", got)
	}
}
