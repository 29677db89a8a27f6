package reliability

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestReliabilityDataFolderPermissions checks that mochi refuses a MOCHI_HOME that group or
// other users can open, and that after an up with the gateway everything it wrote under
// MOCHI_HOME is owner-only where it matters: the folder itself, private keys, records.
func TestReliabilityDataFolderPermissions(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	for _, mode := range []os.FileMode{0o750, 0o705, 0o777, 0o710} {
		if err := os.Chmod(e.mochi, mode); err != nil {
			t.Fatal(err)
		}
		r := e.run("list", "--json")
		if r.code == 0 || !strings.Contains(r.stderr+r.stdout, "open to other users") {
			t.Errorf("MOCHI_HOME mode %o: exit %d, stdout %q stderr %q; want a refusal", mode, r.code, r.stdout, tail(r.stderr, 300))
		}
	}
	if err := os.Chmod(e.mochi, 0o700); err != nil {
		t.Fatal(err)
	}
	// A MOCHI_HOME mochi creates itself is 0700.
	fresh := filepath.Join(e.root, "fresh-home")
	cmd := e.command(context.Background(), "list", "--json")
	cmd.Env = append(cmd.Env, "MOCHI_HOME="+fresh)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("mochi list with a new MOCHI_HOME: %v %s", err, out)
	} else if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("new MOCHI_HOME: %v, mode %v; want 0700", err, st.Mode().Perm())
	}

	g := withGateway(t, e)
	ws := e.workspace(cli, "perms", `{"image": "`+workspaceImage+`"}`)
	g.up(t, ws)
	var bad []string
	filepath.WalkDir(e.mochi, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		perm := info.Mode().Perm()
		rel, _ := filepath.Rel(e.mochi, p)
		switch {
		case d.Type()&fs.ModeSocket != 0:
			// Sockets are guarded by their folder.
		case p == e.mochi && perm&0o077 != 0:
			bad = append(bad, fmt.Sprintf("MOCHI_HOME mode %o", perm))
		case perm&0o022 != 0:
			bad = append(bad, fmt.Sprintf("file %s mode %o is writable by others", rel, perm))
		case !d.IsDir() && perm&0o044 != 0 && isSecretFile(p):
			bad = append(bad, fmt.Sprintf("secret %s mode %o is readable by others", rel, perm))
		}
		return nil
	})
	for _, b := range bad {
		t.Error(b)
	}
}

// isSecretFile reports whether p holds a private key (PEM) or is a workspace record. (The
// mochi binary under bin/ is bind-mounted into workspaces and must stay readable.)
func isSecretFile(p string) bool {
	data, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	return (bytes.HasPrefix(data, []byte("-----BEGIN")) && bytes.Contains(data, []byte("PRIVATE KEY"))) || strings.Contains(p, string(filepath.Separator)+"workspaces"+string(filepath.Separator))
}

// TestReliabilitySecretsNotLeaked passes a secret with --secrets-file and another with
// --remote-env to `mochi up` with debug logging, has a hook use both and print the first
// (mochi masks --secrets-file values in hook output; a hook printing a --remote-env value
// is not masked, as with the reference, so the hook does not print that one), and checks
// that the hook got them but that neither value appears in stderr, stdout, the container's
// labels, environment or command, or the image's labels; under MOCHI_HOME the secrets-file
// value appears nowhere and the remote-env value at most in the owner-only workspace record.
func TestReliabilitySecretsNotLeaked(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	secret := "tok-" + randHex(12)
	remote := "rem-" + randHex(12)
	secrets := filepath.Join(e.root, "secrets.json")
	if err := os.WriteFile(secrets, []byte(`{"API_TOKEN": "`+secret+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ws := e.workspace(cli, "secrets", `{
		"image": "`+workspaceImage+`",
		"postCreateCommand": "printf %s \"$API_TOKEN\" | sha256sum > /workspaces/secrets/token.sha; printf %s \"$REMOTE_SECRET\" | sha256sum > /workspaces/secrets/remote.sha; echo token is $API_TOKEN"
	}`)
	r := e.run("up", "--no-server", "--log-level", "debug", "--workspace-folder", ws, "--secrets-file", secrets, "--remote-env", "REMOTE_SECRET="+remote)
	var res upResult
	if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
		t.Fatalf("up: exit %d %+v\n%s", r.code, res, tail(r.stderr, 2000))
	}
	for name, v := range map[string]string{"token.sha": secret, "remote.sha": remote} {
		got, err := os.ReadFile(filepath.Join(ws, name))
		sum := sha256.Sum256([]byte(v))
		if err != nil || !strings.HasPrefix(string(got), hex.EncodeToString(sum[:])) {
			t.Errorf("the hook did not get the secret behind %s: %q %v", name, got, err)
		}
	}
	if !strings.Contains(r.stderr, "token is ") {
		t.Errorf("the hook's output is not in stderr, so masking cannot be checked:\n%s", tail(r.stderr, 1500))
	}
	leaks := func(where, s string) {
		for _, v := range []string{secret, remote} {
			if i := strings.Index(s, v); i >= 0 {
				t.Errorf("secret %s… appears in %s: …%s…", v[:6], where, s[max(0, i-150):min(len(s), i+40)])
			}
		}
	}
	leaks("stderr", r.stderr)
	leaks("stdout", r.stdout)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cli.ContainerInspect(ctx, res.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for k, v := range c.Config.Labels {
		labels = append(labels, k+"="+v)
	}
	leaks("container labels", strings.Join(labels, "\n"))
	leaks("container env", strings.Join(c.Config.Env, "\n"))
	leaks("container command", strings.Join(append(c.Config.Entrypoint, c.Config.Cmd...), " "))
	if img, err := cli.ImageInspect(ctx, c.Image); err == nil && img.Config != nil {
		var il []string
		for k, v := range img.Config.Labels {
			il = append(il, k+"="+v)
		}
		leaks("image labels", strings.Join(il, "\n"))
	}
	// The --secrets-file value is never written under MOCHI_HOME. A --remote-env value may be
	// kept in the workspace's record (so gateway sessions get the same environment), but only
	// in an owner-only file.
	filepath.WalkDir(e.mochi, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if strings.Contains(string(data), secret) {
			t.Errorf("the --secrets-file value is written to %s", p)
		}
		if strings.Contains(string(data), remote) {
			info, _ := d.Info()
			record := filepath.Dir(p) == filepath.Join(e.mochi, "workspaces")
			if !record || info.Mode().Perm()&0o077 != 0 {
				t.Errorf("the --remote-env value is written to %s (mode %o)", p, info.Mode().Perm())
			} else {
				t.Logf("the --remote-env value is kept in the owner-only record %s", p)
			}
		}
		return nil
	})
}

// TestReliabilityAgentSocketNeedsKey connects to a workspace agent's socket (a stream that
// is not private: anyone who can open the socket file reaches it) and checks that neither no
// authentication nor an unknown key gets in.
func TestReliabilityAgentSocketNeedsKey(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	ws := e.workspace(cli, "agentsock", `{"image": "`+workspaceImage+`"}`)
	res := e.up(ws)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := cli.ContainerInspect(ctx, res.ContainerID)
	if err != nil {
		t.Fatal(err)
	}
	sock := c.Config.Labels["dev.mochi.agent.socket"]
	if sock == "" {
		t.Fatalf("container has no dev.mochi.agent.socket label: %v", c.Config.Labels)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	stranger, _ := ssh.NewSignerFromKey(priv)
	for name, auth := range map[string][]ssh.AuthMethod{
		"no authentication": nil,
		"unknown key":       {ssh.PublicKeys(stranger)},
		"password":          {ssh.Password("root")},
	} {
		conn, err := net.DialTimeout("unix", sock, 10*time.Second)
		if err != nil {
			t.Fatalf("dial agent socket %s: %v", sock, err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		cc, _, _, err := ssh.NewClientConn(conn, "agent", &ssh.ClientConfig{User: "root", Auth: auth, HostKeyCallback: ssh.InsecureIgnoreHostKey()})
		if err == nil {
			cc.Close()
			t.Errorf("%s: the agent socket let an SSH client in", name)
		}
		conn.Close()
	}
}

// TestReliabilityGatewayRefusals checks, against the real `mochi server`, what sshgate's
// in-process TestAuthMatrix and TestUnknownChannelTypeRefused check against the library:
// unknown workspace, unknown key, password, keyboard-interactive and none are refused, and
// an unknown channel type is rejected while the connection keeps working.
func TestReliabilityGatewayRefusals(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	g := withGateway(t, e)
	ws := e.workspace(cli, "refusals", `{"image": "`+workspaceImage+`"}`)
	res := g.up(t, ws)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	stranger, _ := ssh.NewSignerFromKey(priv)
	kbd := ssh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return []string{"x"}, nil })
	for _, tt := range []struct {
		name, user string
		auth       []ssh.AuthMethod
	}{
		{"unknown workspace", "no-such-workspace", []ssh.AuthMethod{ssh.PublicKeys(g.key)}},
		{"path as user", "../" + res.Workspace, []ssh.AuthMethod{ssh.PublicKeys(g.key)}},
		{"unknown key", res.Workspace, []ssh.AuthMethod{ssh.PublicKeys(stranger)}},
		{"password", res.Workspace, []ssh.AuthMethod{ssh.Password("root")}},
		{"keyboard-interactive", res.Workspace, []ssh.AuthMethod{kbd}},
		{"none", res.Workspace, []ssh.AuthMethod{}},
	} {
		auth := tt.auth
		if len(auth) == 0 {
			auth = []ssh.AuthMethod{ssh.PasswordCallback(func() (string, error) { return "", fmt.Errorf("no password") })}
		}
		if c, err := g.dial(tt.user, auth...); err == nil {
			c.Close()
			t.Errorf("%s: let in", tt.name)
		}
	}
	c, err := g.dial(res.Workspace)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.OpenChannel("x-mochi-unknown@example.com", nil); err == nil {
		t.Error("unknown channel type accepted")
	} else if oce, ok := err.(*ssh.OpenChannelError); !ok || oce.Reason != ssh.UnknownChannelType {
		t.Errorf("unknown channel type: %v, want UnknownChannelType", err)
	}
	if out, err := sshRun(c, "echo ok"); err != nil || strings.TrimSpace(out) != "ok" {
		t.Errorf("connection after the refused channel: %q %v", out, err)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
