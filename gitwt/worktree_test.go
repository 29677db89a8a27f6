package gitwt

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// newRepo makes a repository with one commit on main in a temp folder.
func newRepo(t *testing.T) (Git, string) {
	t.Helper()
	g := Git{Env: []string{"HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com"}}
	dir := t.TempDir()
	ctx := context.Background()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"commit", "-q", "--allow-empty", "-m", "first"}, {"branch", "feature"}} {
		if _, err := g.Run(ctx, dir, args...); err != nil {
			t.Fatal(err)
		}
	}
	return g, dir
}

func TestOpen(t *testing.T) {
	g, dir := newRepo(t)
	ctx := context.Background()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := g.Open(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if r.Root != real || r.CommonDir != filepath.Join(real, ".git") {
		t.Errorf("Open = %+v, want root %s and common dir %s/.git", r, real, real)
	}
	if _, err := g.Open(ctx, t.TempDir()); !errors.Is(err, ErrNotRepo) {
		t.Errorf("Open(not a repo) = %v, want ErrNotRepo", err)
	}
}

func TestAddAndRemoveWorktree(t *testing.T) {
	g, dir := newRepo(t)
	ctx := context.Background()
	wt := filepath.Join(t.TempDir(), "wt", "one")

	if _, err := g.AddWorktree(ctx, dir, wt, AddOptions{Branch: "nope"}); !errors.Is(err, ErrNoBranch) {
		t.Errorf("missing branch: %v, want ErrNoBranch", err)
	}
	if _, err := g.AddWorktree(ctx, dir, wt, AddOptions{NewBranch: "feature"}); !errors.Is(err, ErrBranchExists) {
		t.Errorf("new branch that exists: %v, want ErrBranchExists", err)
	}
	if _, err := g.AddWorktree(ctx, dir, wt, AddOptions{Branch: "bad..name"}); !errors.Is(err, ErrBadBranch) {
		t.Errorf("bad branch name: %v, want ErrBadBranch", err)
	}
	if _, err := os.Stat(wt); !os.IsNotExist(err) {
		t.Fatalf("a refused add left %s behind", wt)
	}

	b, err := g.AddWorktree(ctx, dir, wt, AddOptions{Branch: "feature", LockReason: "mochi workspace one"})
	if err != nil || b != "feature" {
		t.Fatalf("AddWorktree = %q, %v", b, err)
	}
	if out, _ := g.Run(ctx, dir, "worktree", "list", "--porcelain"); !strings.Contains(out, "locked mochi workspace one") {
		t.Errorf("worktree not locked:\n%s", out)
	}
	if cur, _ := g.CurrentBranch(ctx, wt); cur != "feature" {
		t.Errorf("worktree branch = %q, want feature", cur)
	}
	r, err := g.Open(ctx, wt)
	if err != nil {
		t.Fatal(err)
	}
	real, _ := filepath.EvalSymlinks(dir)
	if r.CommonDir != filepath.Join(real, ".git") {
		t.Errorf("worktree common dir = %s, want the main repository's .git", r.CommonDir)
	}
	if _, err := g.AddWorktree(ctx, dir, wt, AddOptions{NewBranch: "other"}); !errors.Is(err, ErrPathExists) {
		t.Errorf("existing path: %v, want ErrPathExists", err)
	}

	wt2 := filepath.Join(t.TempDir(), "two")
	if b, err := g.AddWorktree(ctx, dir, wt2, AddOptions{NewBranch: "topic"}); err != nil || b != "topic" {
		t.Fatalf("AddWorktree new branch = %q, %v", b, err)
	}
	if ok, _ := g.BranchExists(ctx, dir, "topic"); !ok {
		t.Error("new branch topic was not created")
	}
	list, err := g.Worktrees(ctx, dir)
	if err != nil || len(list) != 3 {
		t.Fatalf("Worktrees = %v, %v", list, err)
	}

	wt3 := filepath.Join(t.TempDir(), "three")
	if _, err := g.AddWorktree(ctx, dir, wt3, AddOptions{NewBranch: "third", LockReason: "locked"}); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveWorktree(ctx, dir, wt3, false); err != nil {
		t.Errorf("remove of a clean locked worktree: %v", err)
	}
	if err := os.WriteFile(filepath.Join(wt, "new.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveWorktree(ctx, dir, wt, false); !errors.Is(err, ErrDirty) {
		t.Errorf("remove dirty worktree: %v, want ErrDirty", err)
	}
	if _, err := os.Stat(filepath.Join(wt, "new.txt")); err != nil {
		t.Errorf("refused remove lost the file: %v", err)
	}
	if err := g.RemoveWorktree(ctx, dir, wt, true); err != nil {
		t.Fatalf("forced remove: %v", err)
	}
	if _, err := os.Stat(wt); !os.IsNotExist(err) {
		t.Errorf("forced remove left %s", wt)
	}
	if err := os.RemoveAll(wt2); err != nil {
		t.Fatal(err)
	}
	if err := g.RemoveWorktree(ctx, dir, wt2, false); err != nil {
		t.Errorf("remove of a vanished worktree: %v", err)
	}
	if list, _ := g.Worktrees(ctx, dir); len(list) != 1 || slices.Contains(list, wt2) {
		t.Errorf("after removals Worktrees = %v, want only the main one", list)
	}
}

func TestConfigGet(t *testing.T) {
	g, dir := newRepo(t)
	ctx := context.Background()
	if _, ok, err := g.ConfigGet(ctx, dir, "user.name"); err != nil || ok {
		t.Errorf("unset user.name: ok=%v err=%v", ok, err)
	}
	if _, err := g.Run(ctx, dir, "config", "user.name", "A Person"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := g.ConfigGet(ctx, dir, "user.name"); err != nil || !ok || v != "A Person" {
		t.Errorf("user.name = %q %v %v", v, ok, err)
	}
}
