package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/gitcred"
	"github.com/mochi-dev/mochi/gitwt"
)

// TestGitCredentialCommand: `mochi git-credential get` forwards git's request to the host
// server and prints the host helper's answer; with no server it answers nothing, exit 0.
func TestGitCredentialCommand(t *testing.T) {
	home := t.TempDir()
	store := filepath.Join(home, "creds")
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[credential]\n\thelper = store --file "+store+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store, []byte("https://carol:pw1@git.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gcc")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, gitcred.SocketName)

	run := func(in string, args ...string) (string, int) {
		var out, errb bytes.Buffer
		ios := &IOStreams{In: strings.NewReader(in), Out: &out, ErrOut: &errb, LookupEnv: func(k string) (string, bool) {
			if k == "MOCHI_GIT_CREDENTIAL_SOCKET" {
				return sock, true
			}
			return "", false
		}}
		code := Main(args, ios)
		if errb.Len() > 0 {
			t.Logf("stderr: %s", errb.String())
		}
		return out.String(), code
	}
	if out, code := run("protocol=https\nhost=git.example.com\n", "git-credential", "get"); code != 0 || out != "" {
		t.Errorf("without a server: %q exit %d, want no answer and exit 0", out, code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	srv := gitcred.Server{Git: gitwt.Git{Env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}}}
	go func() { done <- srv.Serve(ctx, sock) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	out, code := run("protocol=https\nhost=git.example.com\n", "git-credential", "get")
	if code != 0 || !strings.Contains(out, "username=carol\n") || !strings.Contains(out, "password=pw1\n") {
		t.Errorf("get = %q exit %d, want the host's credential", out, code)
	}
	if _, code := run("", "git-credential"); code == 0 {
		t.Error("git-credential with no operation exited 0")
	}
}
