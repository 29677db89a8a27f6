package devcontainer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mochi-dev/mochi/dockerfile"
	"github.com/mochi-dev/mochi/internal/testenv"
)

func TestContainerUsers(t *testing.T) {
	tests := []struct {
		name                   string
		merged                 Merged
		service, image         string
		wantContainer, wantRem string
	}{
		{"image user only", Merged{}, "", "node", "node", "node"},
		{"compose service user before image user", Merged{}, "svc", "node", "svc", "svc"},
		{"containerUser wins", Merged{ContainerUser: "cu"}, "svc", "node", "cu", "cu"},
		{"remoteUser separate", Merged{ContainerUser: "cu", RemoteUser: "ru"}, "", "node", "cu", "ru"},
		{"remoteUser alone", Merged{RemoteUser: "ru"}, "", "root", "root", "ru"},
	}
	for _, tt := range tests {
		c, r := ContainerUsers(&tt.merged, tt.service, tt.image)
		if c != tt.wantContainer || r != tt.wantRem {
			t.Errorf("%s: got %q, %q; want %q, %q", tt.name, c, r, tt.wantContainer, tt.wantRem)
		}
	}
}

func TestExecUser(t *testing.T) {
	tests := []struct{ remote, config, user, group string }{
		{"", "", "root", ""},
		{"", "node", "node", ""},
		{"dev", "node", "dev", ""},
		{"0", "", "root", ""},
		{"", "0:0", "root", "0"},
		{"dev:staff", "", "dev", "staff"},
		{"1000:1000", "", "1000", "1000"},
		{"a:b:c", "", "a", "b:c"},
	}
	for _, tt := range tests {
		u, g := ExecUser(tt.remote, tt.config)
		if u != tt.user || g != tt.group {
			t.Errorf("ExecUser(%q, %q) = %q, %q; want %q, %q", tt.remote, tt.config, u, g, tt.user, tt.group)
		}
	}
}

func TestRunArgsUser(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--cap-add", "X"}, ""},
		{[]string{"-u", "a"}, "a"},
		{[]string{"--user", "a", "-u=b"}, "b"},
		{[]string{"--user=c", "--cap-add", "X"}, "c"},
		{[]string{"-u"}, ""},
		{[]string{"-u", "a", "--user"}, "a"},
	}
	for _, tt := range tests {
		if got := RunArgsUser(tt.args); got != tt.want {
			t.Errorf("RunArgsUser(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestUIDUpdateUser(t *testing.T) {
	tests := []struct {
		name               string
		merged             Merged
		mode, os, run, img string
		want               string
		ok                 bool
	}{
		{"default on, image user", Merged{}, "on", "linux", "", "vscode", "vscode", true},
		{"remoteUser first", Merged{RemoteUser: "dev"}, "on", "linux", "cu", "vscode", "dev", true},
		{"then runArgs/container user", Merged{}, "on", "linux", "cu", "vscode", "cu", true},
		{"root skipped", Merged{RemoteUser: "root"}, "on", "linux", "", "", "", false},
		{"no user at all is root", Merged{}, "on", "linux", "", "", "", false},
		{"numeric skipped", Merged{RemoteUser: "1000"}, "on", "linux", "", "", "", false},
		{"not linux", Merged{RemoteUser: "dev"}, "on", "darwin", "", "", "", false},
		{"mode off", Merged{RemoteUser: "dev"}, "off", "linux", "", "", "", false},
		{"mode off, property true", Merged{RemoteUser: "dev", UpdateRemoteUserUID: ptr(true)}, "off", "linux", "", "", "dev", true},
		{"mode on, property false", Merged{RemoteUser: "dev", UpdateRemoteUserUID: ptr(false)}, "on", "linux", "", "", "", false},
		{"mode never beats property", Merged{RemoteUser: "dev", UpdateRemoteUserUID: ptr(true)}, "never", "linux", "", "", "", false},
	}
	for _, tt := range tests {
		got, ok := UIDUpdateUser(&tt.merged, tt.mode, tt.os, tt.run, tt.img)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

const testPasswd = `root:x:0:0:root:/root:/bin/bash
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

vscode:x:1000:1000::/home/vscode:/bin/zsh
short:x:1001
1002:x:1003:1003::/home/numeric:/bin/sh
`

func TestPasswd(t *testing.T) {
	e, ok := ParsePasswdLine("vscode:x:1000:1000:VS Code:/home/vscode:/bin/zsh\n")
	want := PasswdEntry{Name: "vscode", UID: "1000", GID: "1000", Home: "/home/vscode", Shell: "/bin/zsh"}
	if !ok || e != want {
		t.Errorf("ParsePasswdLine = %+v, %v", e, ok)
	}
	if e, ok := ParsePasswdLine("short:x:5"); !ok || e != (PasswdEntry{Name: "short", UID: "5"}) {
		t.Errorf("short line = %+v, %v", e, ok)
	}
	if _, ok := ParsePasswdLine("  \n"); ok {
		t.Error("blank line parsed")
	}
	lookups := []struct {
		q    string
		want string
	}{
		{"root", "root"}, {"0", "root"}, {"vscode", "vscode"}, {"1000", "vscode"}, {"short", "short"},
		{"1002", "1002"}, // a name that looks like a uid: the name matches first
		{"1003", "1002"}, {"nobody", ""}, {"x", ""},
	}
	for _, l := range lookups {
		e, ok := LookupPasswd(testPasswd, l.q)
		if e.Name != l.want || ok != (l.want != "") {
			t.Errorf("LookupPasswd(%q) = %q, %v; want %q", l.q, e.Name, ok, l.want)
		}
	}
}

// TestPasswdLookupCommand runs the lookup command with sh, once with getent and once with a
// PATH that has no getent (as on busybox images), against this machine's passwd database.
func TestPasswdLookupCommand(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		t.Skip("no /etc/passwd")
	}
	bare := t.TempDir()
	for _, tool := range []string{"awk", "mawk", "gawk", "busybox"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(bare, filepath.Base(tool))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(bare, "awk")); err != nil {
		t.Skip("no awk")
	}
	for _, path := range []string{os.Getenv("PATH"), bare} {
		for _, q := range []string{"root", "0", "no-such-user-here", "it's"} {
			cmd := exec.Command(sh, "-c", PasswdLookupCommand(q))
			cmd.Env = []string{"PATH=" + path}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("PATH=%s %q: %v", path, q, err)
			}
			want, ok := LookupPasswd(string(passwd), q)
			got, gotOK := ParsePasswdLine(string(out))
			if gotOK != ok || got != want {
				t.Errorf("PATH=%s lookup %q: got %q, want %+v", path, q, out, want)
			}
		}
	}
}

func TestHomeFolder(t *testing.T) {
	pw := &PasswdEntry{Name: "dev", UID: "1000", Home: "/home/dev"}
	rootPW := &PasswdEntry{Name: "root", UID: "0", Home: "/root"}
	never := func(string) bool { t.Error("usable called"); return false }
	yes := func(string) bool { return true }
	no := func(string) bool { return false }
	tests := []struct {
		name   string
		env    map[string]string
		pw     *PasswdEntry
		usable func(string) bool
		want   string
	}{
		{"HOME equals passwd home", map[string]string{"HOME": "/home/dev"}, pw, never, "/home/dev"},
		{"uid 0 keeps HOME", map[string]string{"HOME": "/data"}, rootPW, never, "/data"},
		{"other HOME usable", map[string]string{"HOME": "/work"}, pw, yes, "/work"},
		{"other HOME not writable", map[string]string{"HOME": "/work"}, pw, no, "/home/dev"},
		{"no HOME", map[string]string{}, pw, never, "/home/dev"},
		{"no passwd entry, HOME usable", map[string]string{"HOME": "/h"}, nil, yes, "/h"},
		{"nothing", nil, nil, no, "/root"},
	}
	for _, tt := range tests {
		if got := HomeFolder(tt.env, tt.pw, tt.usable); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		home string
		ok   bool
	}{{dir, true}, {filepath.Join(dir, "missing"), true}, {"/proc/1", false}, {"it's", true}} {
		err := exec.Command("sh", "-c", HomeUsableCommand(tc.home)).Run()
		if (err == nil) != tc.ok {
			t.Errorf("HomeUsableCommand(%q): err %v, want ok=%v", tc.home, err, tc.ok)
		}
	}
}

func TestUserShellAndDataFolder(t *testing.T) {
	pw := &PasswdEntry{Shell: "/bin/zsh"}
	if got := UserShell(map[string]string{"SHELL": "/bin/fish"}, pw); got != "/bin/fish" {
		t.Error(got)
	}
	if got := UserShell(nil, pw); got != "/bin/zsh" {
		t.Error(got)
	}
	if got := UserShell(nil, nil); got != "/bin/sh" {
		t.Error(got)
	}
	for _, tc := range [][3]string{
		{"/home/dev", "", "/home/dev/.devcontainer"},
		{"/home/dev", ".state", "/home/dev/.state"},
		{"/home/dev", "/var/state/", "/var/state"},
		{"/root/", "../x", "/x"},
	} {
		if got := UserDataFolder(tc[0], tc[1]); got != tc[2] {
			t.Errorf("UserDataFolder(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// uidBase is a busybox image with a passwd database: dev (1000:1000, home /home/dev with a
// file), other (2000) and a group taken (3000).
const uidBase = `FROM mochi-test/busybox:latest
RUN mkdir -p /home/dev /home/other && \
	printf 'root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\nother:x:2000:2000::/home/other:/bin/sh\n' > /etc/passwd && \
	printf 'root:x:0:\ndev:x:1000:\nother:x:2000:\ntaken:x:3000:\n' > /etc/group && \
	touch /home/dev/file && chown -R 1000:1000 /home/dev
USER dev
`

// TestUpdateUIDDockerfile checks the UID-update layer on a small image: one real build for the
// Dockerfile's plumbing (build args, user restored), then the RUN script of each case of the
// algorithm run directly in a container, next to the RUN script of the reference CLI's own
// updateUID.Dockerfile when it is installed.
func TestUpdateUIDDockerfile(t *testing.T) {
	testenv.RequireEngine(t, "docker", func() error { return exec.Command("docker", "version").Run() })
	tag := fmt.Sprintf("mochi-test-uid-%d", os.Getpid())
	base := tag + "-base"
	dockerBuild(t, base, uidBase, nil)

	dockerBuild(t, tag, UpdateUIDDockerfile(base), UpdateUIDBuildArgs("dev", "1234", "1235", "dev"))
	if got, want := uidState(t, tag, "", nil), "dev:x:1234:1235::/home/dev:/bin/sh|dev:x:1235:|1234:1235|dev"; got != want {
		t.Errorf("built image: %s, want %s", got, want)
	}

	script := runScript(t, UpdateUIDDockerfile(base))
	var refScript string
	if ref, err := os.ReadFile("/opt/refcli/node_modules/@devcontainers/cli/scripts/updateUID.Dockerfile"); err == nil {
		refScript = runScript(t, string(ref))
	}
	cases := []struct {
		name           string
		user, uid, gid string
		want           string // dev's passwd line | group line of dev's GID | owner of a file in its home
	}{
		{"change both", "dev", "1234", "1235", "dev:x:1234:1235::/home/dev:/bin/sh|dev:x:1235:|1234:1235"},
		{"same ids", "dev", "1000", "1000", "dev:x:1000:1000::/home/dev:/bin/sh|dev:x:1000:|1000:1000"},
		{"uid taken", "dev", "2000", "1234", "dev:x:1000:1000::/home/dev:/bin/sh|dev:x:1000:|1000:1000"},
		{"gid taken keeps gid", "dev", "1500", "3000", "dev:x:1500:1000::/home/dev:/bin/sh|dev:x:1000:|1500:1000"},
		{"only gid differs", "dev", "1000", "1600", "dev:x:1000:1600::/home/dev:/bin/sh|dev:x:1600:|1000:1600"},
		{"unknown user", "ghost", "1234", "1234", "dev:x:1000:1000::/home/dev:/bin/sh|dev:x:1000:|1000:1000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"REMOTE_USER": tc.user, "NEW_UID": tc.uid, "NEW_GID": tc.gid}
			got := uidState(t, base, script, env)
			if got != tc.want+"|dev" {
				t.Errorf("mochi: %s, want %s", got, tc.want)
			}
			if refScript == "" {
				return
			}
			if ref := uidState(t, base, refScript, env); ref != got {
				t.Errorf("reference: %s, mochi: %s", ref, got)
			}
		})
	}
}

// runScript returns the shell text of the (only) RUN instruction of a Dockerfile.
func runScript(t *testing.T, text string) string {
	t.Helper()
	f, err := dockerfile.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Stage("")
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for _, in := range st.Instructions {
		if in.Keyword == "RUN" {
			runs = append(runs, in.Args)
		}
	}
	if len(runs) != 1 {
		t.Fatalf("%d RUN instructions", len(runs))
	}
	return runs[0]
}

func dockerBuild(t *testing.T, tag, dockerfile string, args map[string]string) {
	t.Helper()
	ctx := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	cmdArgs := []string{"build", "-q", "-t", tag, "--label", "mochi.test=1"}
	for k, v := range args {
		cmdArgs = append(cmdArgs, "--build-arg", k+"="+v)
	}
	cmd := exec.Command("docker", append(cmdArgs, ctx)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, stderr.String())
	}
	t.Cleanup(func() { _ = exec.Command("docker", "rmi", "-f", tag).Run() })
}

// uidState runs script (if any) as root in a container of img with env, then reports dev's
// passwd line, the group line holding dev's GID, the owner of /home/dev/file and the image
// user.
func uidState(t *testing.T, img, script string, env map[string]string) string {
	t.Helper()
	report := `u=$(grep '^dev:' /etc/passwd); gid=$(echo "$u" | cut -d: -f4); ` +
		`g=$(awk -F: -v id="$gid" '$3 == id' /etc/group); echo "$u|$g|$(stat -c %u:%g /home/dev/file)"`
	if script != "" {
		report = "(" + script + ") >/dev/null; " + report
	}
	args := []string{"run", "--rm", "--label", "mochi.test=1", "-u", "0"}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	out, err := exec.Command("docker", append(args, img, "sh", "-c", report)...).CombinedOutput()
	if err != nil {
		t.Fatalf("inspect %s: %v\n%s", img, err, out)
	}
	user, err := exec.Command("docker", "inspect", "-f", "{{.Config.User}}", img).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out)) + "|" + strings.TrimSpace(string(user))
}

func TestUpdateUIDDockerfileText(t *testing.T) {
	df := UpdateUIDDockerfile("registry.example.com/img:1")
	if !strings.HasPrefix(df, "FROM registry.example.com/img:1\nUSER root\n") || strings.Contains(df, "# syntax") {
		t.Errorf("unexpected head:\n%s", df)
	}
	for _, arg := range []string{"REMOTE_USER", "NEW_UID", "NEW_GID", "IMAGE_USER"} {
		if !strings.Contains(df, "ARG "+arg+"\n") {
			t.Errorf("no ARG %s", arg)
		}
	}
	if !strings.HasSuffix(df, "USER $IMAGE_USER\n") {
		t.Errorf("image user not restored last:\n%s", df)
	}
	want := map[string]string{"REMOTE_USER": "u", "NEW_UID": "1", "NEW_GID": "2", "IMAGE_USER": "i"}
	if diff := cmp.Diff(want, UpdateUIDBuildArgs("u", "1", "2", "i")); diff != "" {
		t.Error(diff)
	}
}
