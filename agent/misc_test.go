package agent

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
)

func TestListeningPortsFixture(t *testing.T) {
	got, err := ListeningPorts("testdata/procnet")
	if err != nil {
		t.Fatal(err)
	}
	want := []Port{
		{Port: 22, Addr: "0.0.0.0", UID: 0},
		{Port: 3000, Addr: "::", IPv6: true, UID: 1000},
		{Port: 8080, Addr: "127.0.0.1", UID: 1000},
		{Port: 8081, Addr: "::1", IPv6: true, UID: 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ports (-want +got):\n%s", d)
	}
}

func TestLookupAccount(t *testing.T) {
	dir := t.TempDir()
	passwd := writeFile(t, dir, "passwd", "# comment\nroot:x:0:0:root:/root:/bin/bash\nbroken line\nvscode:x:1000:1000:,,,:/home/vscode:/bin/zsh\n")
	group := writeFile(t, dir, "group", "root:x:0:\nvscode:x:1000:\ndocker:x:998:vscode\nsudo:x:27:alice,vscode\nnope:x:5:alice\n")
	tests := []struct {
		name string
		want Account
		err  error
	}{
		{name: "vscode", want: Account{Name: "vscode", UID: 1000, GID: 1000, Groups: []uint32{1000, 998, 27}, Home: "/home/vscode", Shell: "/bin/zsh"}},
		{name: "1000", want: Account{Name: "vscode", UID: 1000, GID: 1000, Groups: []uint32{1000, 998, 27}, Home: "/home/vscode", Shell: "/bin/zsh"}},
		{name: "0", want: Account{Name: "root", UID: 0, GID: 0, Groups: []uint32{0}, Home: "/root", Shell: "/bin/bash"}},
		{name: "4321", want: Account{Name: "4321", UID: 4321, GID: 4321, Groups: []uint32{4321}, Home: "/", Shell: "/bin/sh"}},
		{name: "ghost", err: ErrUnknownUser},
	}
	for _, tt := range tests {
		got, err := LookupAccount(tt.name, passwd, group)
		if !errors.Is(err, tt.err) {
			t.Fatalf("%s: error %v, want %v", tt.name, err, tt.err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Fatalf("%s (-want +got):\n%s", tt.name, d)
		}
	}
}

func TestNonPrivateStreamNeedsKey(t *testing.T) {
	c1, _ := socketPair(t)
	if err := Serve(context.Background(), c1, Options{}); !errors.Is(err, ErrNoAuthorizedKeys) {
		t.Fatalf("Serve without keys on a non-private stream: %v", err)
	}
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := ServeListener(context.Background(), l, Options{Private: true}); !errors.Is(err, ErrNoAuthorizedKeys) {
		t.Fatalf("ServeListener without keys: %v", err)
	}
}

func TestServeListenerAuth(t *testing.T) {
	workspaceKey, otherKey := newSigner(t), newSigner(t)
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ServeListener(ctx, l, Options{AuthorizedKeys: []ssh.PublicKey{workspaceKey.PublicKey()}})
	}()
	defer func() { cancel(); <-done }()

	for _, tt := range []struct {
		name   string
		signer ssh.Signer
		ok     bool
	}{
		{"none", nil, false},
		{"other key", otherKey, false},
		{"workspace key", workspaceKey, true},
	} {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		client, err := Dial(ctx, c, ClientOptions{Signer: tt.signer})
		if !tt.ok {
			if err == nil {
				client.Close()
				t.Fatalf("%s: connected, want refusal", tt.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var out strings.Builder
		res, err := client.Run(ctx, Command{Cmd: "echo ok; exit 4", Stdout: &out})
		client.Close()
		if err != nil || res.ExitCode != 4 || out.String() != "ok\n" {
			t.Fatalf("%s: run: %+v %v %q", tt.name, res, err, out.String())
		}
	}
}

func TestClientRunAsUserWithEnv(t *testing.T) {
	c1, c2 := socketPair(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go Serve(ctx, c1, Options{Private: true, Env: []string{"A=options", "B=options"}})
	client, err := Dial(ctx, c2, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	dir := worldDir(t)
	var out strings.Builder
	res, err := client.Run(ctx, Command{Cmd: `echo "$A $B $(pwd)"; cat; kill -HUP $$`, Env: []string{"B=command"}, Dir: dir,
		Stdin: strings.NewReader("from stdin\n"), Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	if want := "options command " + dir + "\nfrom stdin\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
	if res.ExitCode != 255 || res.Signal != "HUP" {
		t.Fatalf("result %+v, want 255/HUP", res)
	}
}
