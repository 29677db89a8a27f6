package workspace

import (
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
	"os"
	"path/filepath"
	"testing"
)

func TestStoreNames(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n1, err := s.NameFor("/src/My Project", "/src/My Project/.devcontainer/devcontainer.json")
	if err != nil || n1 != "my-project" {
		t.Fatalf("NameFor = %q, %v; want my-project", n1, err)
	}
	if err := s.Put(&Record{Name: n1, Folder: "/src/My Project", ConfigFile: "/src/My Project/.devcontainer/devcontainer.json"}); err != nil {
		t.Fatal(err)
	}
	again, _ := s.NameFor("/src/My Project", "/src/My Project/.devcontainer/devcontainer.json")
	if again != n1 {
		t.Errorf("same folder got a new name %q, want %q", again, n1)
	}
	other, _ := s.NameFor("/elsewhere/my-project", "/elsewhere/my-project/.devcontainer.json")
	if other == n1 || len(other) <= len(n1) || other[:len(n1)+1] != n1+"-" {
		t.Errorf("a second folder with the same basename got %q, want %s-<hash>", other, n1)
	}
	got, err := s.Get(n1)
	if err != nil || got.Folder != "/src/My Project" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if err := s.Delete(n1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(n1); !os.IsNotExist(err) && err == nil {
		t.Errorf("Get after Delete = nil error")
	}
}

func TestStoreOwnerOnly(t *testing.T) {
	home := t.TempDir()
	if _, err := OpenStore(home); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(home, "workspaces"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("records folder mode %v, want 0700", st.Mode().Perm())
	}
}

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Hello_World": "hello-world", "---": "workspace", "a.b.c": "a-b-c",
		"x234567890123456789012345678901234567890123456789": "x234567890123456789012345678901234567890",
	} {
		if got := sanitizeName(in); got != want {
			t.Errorf("sanitizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeepAliveScript(t *testing.T) {
	got := keepAlive([]string{"/usr/local/share/a.sh"})
	if got, want := keepAlive(nil), "echo Container started\ntrap \"exit 0\" 15\n\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done"; got != want {
		t.Errorf("keepAlive(nil) = %q, want the reference's %q", got, want)
	}
	want := "echo Container started\ntrap \"exit 0\" 15\n/usr/local/share/a.sh\nexec \"$@\"\nwhile sleep 1 & wait $!; do :; done"
	if got != want {
		t.Errorf("keepAlive = %q, want %q", got, want)
	}
}

func TestCheckPublish(t *testing.T) {
	for in, ok := range map[string]bool{
		"127.0.0.1:3000:3000": true, "3000": true, "8080:80/udp": true, "3000-3005:3000-3005": true,
		"-1": false, "70000": false, "127.0.0.1:0:3000": false, "80/xyz": false, "a:b": false,
	} {
		if err := checkPublish(in); (err == nil) != ok {
			t.Errorf("checkPublish(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestHostRequirements(t *testing.T) {
	if err := checkHostRequirements(&devcontainer.HostRequirements{CPUs: 1, Memory: "1mb", Storage: "1kb"}); err != nil {
		t.Errorf("modest requirements refused: %v", err)
	}
	for _, h := range []*devcontainer.HostRequirements{{CPUs: 4096}, {Memory: "1000tb"}, {Storage: "100000tb"}, {Memory: "lots"}} {
		if err := checkHostRequirements(h); err == nil || !strings.HasPrefix(err.Error(), "hostRequirements.") {
			t.Errorf("checkHostRequirements(%+v) = %v, want an error naming the property", h, err)
		}
	}
}
