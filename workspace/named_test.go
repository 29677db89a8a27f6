package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/gitwt"
	"github.com/mochi-dev/mochi/providers/fake"
)

// testGit is a host git isolated from the user's configuration.
func testGit(t *testing.T) gitwt.Git {
	t.Helper()
	return gitwt.Git{Env: []string{"HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com"}}
}

// gitRepo makes a repository whose main branch has a devcontainer.json for image.
func gitRepo(t *testing.T, g gitwt.Git, image string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".devcontainer"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"image": "` + image + `"}`
	if err := os.WriteFile(filepath.Join(dir, ".devcontainer", "devcontainer.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "."}, {"commit", "-q", "-m", "first"}, {"branch", "existing"}} {
		if _, err := g.Run(ctx, dir, args...); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCreateNamedBadInput: each bad input is a clear error and leaves no worktree, branch
// or record behind.
func TestCreateNamedBadInput(t *testing.T) {
	g := testGit(t)
	repo := gitRepo(t, g, "example.com/none:1")
	home := t.TempDir()
	e := New(Config{Backend: fake.New(), Home: home})
	st, err := e.Records()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(&Record{Name: "taken", Folder: "/elsewhere"}); err != nil {
		t.Fatal(err)
	}
	existing := t.TempDir()
	ctx := context.Background()
	git := GitOptions{Host: g}
	for _, tc := range []struct {
		name string
		o    CreateOptions
		want string
		is   error
	}{
		{"bad name", CreateOptions{Name: "Bad_Name", Repo: repo, NewBranch: "x"}, `workspace name "Bad_Name"`, nil},
		{"name used", CreateOptions{Name: "taken", Repo: repo, NewBranch: "x"}, "workspace name taken is already used", nil},
		{"not a repo", CreateOptions{Name: "one", Repo: t.TempDir(), NewBranch: "x"}, "", gitwt.ErrNotRepo},
		{"missing branch", CreateOptions{Name: "one", Repo: repo, Branch: "nope"}, "branch nope", gitwt.ErrNoBranch},
		{"new branch exists", CreateOptions{Name: "one", Repo: repo, NewBranch: "existing"}, "", gitwt.ErrBranchExists},
		{"path exists", CreateOptions{Name: "one", Repo: repo, Branch: "existing", Path: existing}, existing, gitwt.ErrPathExists},
		{"other provider", CreateOptions{Name: "one", Repo: repo, Branch: "existing", Provider: "lxc"}, `--provider "lxc"`, nil},
		// The fake reaches no registry: up fails after the worktree and branch were made.
		{"up fails", CreateOptions{Name: "one", Repo: repo, NewBranch: "fresh"}, "example.com/none:1", nil},
	} {
		tc.o.Git = git
		_, _, err := e.CreateNamed(ctx, tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: err = %v, want one containing %q (is %v)", tc.name, err, tc.want, tc.is)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "worktrees", "one")); !os.IsNotExist(err) {
		t.Errorf("a failed create left the worktree folder (%v)", err)
	}
	if list, _ := g.Worktrees(ctx, repo); len(list) != 1 {
		t.Errorf("worktrees after failed creates = %v, want only the main one", list)
	}
	if ok, _ := g.BranchExists(ctx, repo, "fresh"); ok {
		t.Error("a failed create left the branch it made")
	}
	if ok, _ := g.BranchExists(ctx, repo, "existing"); !ok {
		t.Error("a failed create deleted a branch it did not make")
	}
	ns, _ := e.Named()
	if list, _ := ns.List(); len(list) != 0 {
		t.Errorf("named records after failed creates: %+v", list[0])
	}
	if _, err := os.Stat(existing); err != nil {
		t.Errorf("the existing path was touched: %v", err)
	}
}

func TestNamedStoreReserve(t *testing.T) {
	ns, err := OpenNamedStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n := &Named{Name: "alpha", Branch: "b1"}
	if err := ns.put(n, true); err != nil {
		t.Fatal(err)
	}
	if err := ns.put(&Named{Name: "alpha", Branch: "b2"}, true); !errors.Is(err, os.ErrExist) {
		t.Errorf("second reserve = %v, want ErrExist", err)
	}
	n.Worktree = "/w"
	if err := ns.put(n, false); err != nil {
		t.Fatal(err)
	}
	got, err := ns.Get("alpha")
	if err != nil || got.Branch != "b1" || got.Worktree != "/w" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	if _, err := ns.Get("../x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Get(bad name) = %v", err)
	}
	if err := ns.Delete("alpha"); err != nil {
		t.Fatal(err)
	}
	if list, _ := ns.List(); len(list) != 0 {
		t.Errorf("List after Delete = %d records", len(list))
	}
}

func TestBindMount(t *testing.T) {
	got, err := bindMount("/a/b/.git", "/a/b/.git")
	if err != nil || got != "type=bind,source=/a/b/.git,target=/a/b/.git" {
		t.Errorf("bindMount = %s, %v", got, err)
	}
	if _, err := devcontainer.ParseMountFlag(got); err != nil {
		t.Errorf("up would refuse %s: %v", got, err)
	}
	if got, err := bindMount("/a,b", "/t"); err == nil {
		t.Errorf("bindMount with a comma = %s, want an error", got)
	}
}
