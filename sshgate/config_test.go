package sshgate

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestHostKeyStable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrCreateHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadOrCreateHostKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(k1.PublicKey().Marshal()) != string(k2.PublicKey().Marshal()) {
		t.Fatal("host key changed between loads")
	}
	if k1.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Fatalf("host key type %s", k1.PublicKey().Type())
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, hostKeyFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Fatalf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
}

func TestKeyStore(t *testing.T) {
	dir := t.TempDir()
	ks := OpenKeyStore(dir)
	a, b := newSigner(t).PublicKey(), newSigner(t).PublicKey()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ks.Add("web", a, "alice@laptop"))
	must(ks.Add("web", a, "again")) // idempotent
	must(ks.Add(AllWorkspaces, b, "bob"))
	if err := ks.Add("bad name", a, ""); !errors.Is(err, ErrBadWorkspaceName) {
		t.Fatalf("bad name: %v", err)
	}
	check := func(ws string, k ssh.PublicKey, want bool) {
		t.Helper()
		got, err := ks.Authorized(ws, k)
		if err != nil || got != want {
			t.Fatalf("Authorized(%s, %s) = %v, %v; want %v", ws, ssh.FingerprintSHA256(k), got, err, want)
		}
	}
	check("web", a, true)
	check("api", a, false)
	check("api", b, true)
	grants, err := ks.List()
	if err != nil || len(grants) != 2 || grants[0].Comment != "alice@laptop" {
		t.Fatalf("list: %+v %v", grants, err)
	}
	removed, err := ks.Remove("web", a)
	if err != nil || !removed {
		t.Fatalf("remove: %v %v", removed, err)
	}
	check("web", a, false)
	if fi, err := os.Stat(ks.Path()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store mode: %v %v", fi.Mode().Perm(), err)
	}
	os.WriteFile(ks.Path(), []byte("web ssh-ed25519 AAAA-garbage\n"), 0o600)
	if _, err := ks.List(); err == nil || !strings.Contains(err.Error(), "authorized_keys:1:") {
		t.Fatalf("corrupt store: %v", err)
	}
}

// fixedKey is a constant public key so the golden files are stable.
const fixedKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"

func TestWriteSSHConfigGolden(t *testing.T) {
	defer func(v bool) { aesHardware = v }(aesHardware)
	aesHardware = true // the golden file has the Ciphers line of a machine with AES instructions
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(fixedKey))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "mochi")
	cfgPath, err := WriteSSHConfig(dir, key, []Host{
		{Workspace: "web", HostName: "127.0.0.1", Port: 2222, IdentityFile: "/home/me/.ssh/mochi/id_ed25519"},
		{Workspace: "api", HostName: "127.0.0.1", Port: 2222, IdentityFile: "/home/me/My Keys/id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config", "known_hosts"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		got = []byte(strings.ReplaceAll(string(got), dir, "DIR"))
		golden := filepath.Join("testdata", "ssh_"+name+".golden")
		if *update {
			os.WriteFile(golden, got, 0o644)
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update)", err)
		}
		if string(got) != string(want) {
			t.Fatalf("%s:\n%s\nwant:\n%s", name, got, want)
		}
	}
	if cfgPath != filepath.Join(dir, "config") {
		t.Fatalf("config path %s", cfgPath)
	}
}

// Without AES instructions the client's own cipher order stands.
func TestWriteSSHConfigNoAES(t *testing.T) {
	defer func(v bool) { aesHardware = v }(aesHardware)
	aesHardware = false
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(fixedKey))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath, err := WriteSSHConfig(t.TempDir(), key, []Host{{Workspace: "web", HostName: "127.0.0.1", Port: 2222}})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(cfgPath); strings.Contains(string(b), "Ciphers") {
		t.Errorf("a Ciphers line without AES instructions:\n%s", b)
	}
}

func TestEnsureInclude(t *testing.T) {
	home := t.TempDir()
	inc := filepath.Join(home, ".ssh", "mochi", "config")
	// No ~/.ssh at all.
	changed, err := EnsureInclude(home, inc)
	if err != nil || !changed {
		t.Fatalf("first: %v %v", changed, err)
	}
	cfg := filepath.Join(home, ".ssh", "config")
	b, _ := os.ReadFile(cfg)
	if string(b) != "Include "+inc+"\n" {
		t.Fatalf("new config %q", b)
	}
	// An existing config keeps every byte, after the include line.
	user := "Host *\n  ServerAliveInterval 10\n# no newline at end"
	os.WriteFile(cfg, []byte(user), 0o640)
	os.Chmod(cfg, 0o640)
	for i := 0; i < 2; i++ {
		changed, err = EnsureInclude(home, inc)
		if err != nil || changed != (i == 0) {
			t.Fatalf("round %d: %v %v", i, changed, err)
		}
	}
	b, _ = os.ReadFile(cfg)
	if string(b) != "Include "+inc+"\n"+user {
		t.Fatalf("config %q", b)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode changed to %v", fi.Mode().Perm())
	}
}

func TestGenerateUserKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ssh", "id_ed25519")
	s1, err := GenerateUserKey(path, "me@mochi")
	if err != nil {
		t.Fatal(err)
	}
	s2, err := GenerateUserKey(path, "ignored")
	if err != nil || string(s1.PublicKey().Marshal()) != string(s2.PublicKey().Marshal()) {
		t.Fatalf("second load differs: %v", err)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil || !strings.HasSuffix(string(pub), " me@mochi\n") {
		t.Fatalf("pub %q %v", pub, err)
	}
	k, _, _, _, err := ssh.ParseAuthorizedKey(pub)
	if err != nil || string(k.Marshal()) != string(s1.PublicKey().Marshal()) {
		t.Fatalf("pub file does not match: %v", err)
	}
}
