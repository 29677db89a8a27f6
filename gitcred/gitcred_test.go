package gitcred

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/gitwt"
)

// hostGit is a host git whose only credential helper is a store file in a temp HOME.
func hostGit(t *testing.T) (gitwt.Git, string) {
	t.Helper()
	home := t.TempDir()
	store := filepath.Join(home, "creds")
	cfg := "[credential]\n\thelper = store --file " + store + "\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store, []byte("https://alice:s3cret@git.example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return gitwt.Git{Env: []string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "GIT_CONFIG_NOSYSTEM=1"}}, store
}

func serve(t *testing.T, g gitwt.Git) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, SocketName)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Server{Git: g}.Serve(ctx, sock) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if _, err := os.Lstat(sock); !os.IsNotExist(err) {
			t.Errorf("socket left behind after Serve returned")
		}
	})
	for i := 0; i < 200; i++ {
		if _, err := os.Stat(sock); err == nil {
			return sock
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("socket never appeared")
	return ""
}

func forward(t *testing.T, sock, op, in string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := Forward(ctx, sock, op, strings.NewReader(in), &out); err != nil {
		t.Fatalf("Forward %s: %v", op, err)
	}
	return out.String()
}

func TestGetStoreErase(t *testing.T) {
	g, store := hostGit(t)
	sock := serve(t, g)

	got := forward(t, sock, "get", "protocol=https\nhost=git.example.com\n\n")
	if !strings.Contains(got, "username=alice\n") || !strings.Contains(got, "password=s3cret\n") {
		t.Errorf("get = %q, want the stored credential", got)
	}
	if got := forward(t, sock, "get", "protocol=https\nhost=unknown.example.com\n"); got != "" {
		t.Errorf("get of an unknown host = %q, want nothing", got)
	}

	forward(t, sock, "store", "protocol=https\nhost=new.example.com\nusername=bob\npassword=pw\n")
	data, _ := os.ReadFile(store)
	if !strings.Contains(string(data), "https://bob:pw@new.example.com") {
		t.Errorf("store did not reach the host helper: %q", data)
	}
	forward(t, sock, "erase", "protocol=https\nhost=git.example.com\nusername=alice\npassword=s3cret\n")
	data, _ = os.ReadFile(store)
	if strings.Contains(string(data), "alice") {
		t.Errorf("erase did not reach the host helper: %q", data)
	}
	if got := forward(t, sock, "unknown-op", "host=x\n"); got != "" {
		t.Errorf("unknown operation answered %q", got)
	}
}

func TestForwardWithoutServer(t *testing.T) {
	var out bytes.Buffer
	err := Forward(context.Background(), filepath.Join(t.TempDir(), SocketName), "get", strings.NewReader("host=x\n"), &out)
	if err != nil || out.Len() != 0 {
		t.Errorf("Forward with no server = %q, %v; want no answer and no error", out.String(), err)
	}
}

func TestReadRequest(t *testing.T) {
	for _, tc := range []struct {
		in, op, attrs string
		bad           bool
	}{
		{in: "get\nprotocol=https\nhost=h\n\nignored=1\n", op: "get", attrs: "protocol=https\nhost=h\n"},
		{in: "store\r\nhost=h\r\n", op: "store", attrs: "host=h\n"},
		{in: "fill\nhost=h\n", bad: true},
		{in: "get\nnot an attribute\n", bad: true},
		{in: "get\nhost=a\x00b\n", bad: true},
		{in: "get\n" + strings.Repeat("x=1\n", maxRequest/4+1), bad: true},
	} {
		r, err := readRequest(strings.NewReader(tc.in))
		if tc.bad {
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("readRequest(%.30q) = %v, want ErrBadRequest", tc.in, err)
			}
			continue
		}
		if err != nil || r.op != tc.op || string(r.attrs) != tc.attrs {
			t.Errorf("readRequest(%q) = %+v, %v", tc.in, r, err)
		}
	}
	if got := string(encodeRequest("get", []byte("host=h\n\nx=y\n"))); got != "get\nhost=h\n" {
		t.Errorf("encodeRequest = %q", got)
	}
}
