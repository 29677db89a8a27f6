package gitwt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AddOptions say which branch a new worktree checks out.
type AddOptions struct {
	// Branch is an existing branch to check out.
	Branch string
	// NewBranch creates this branch (from Base, default HEAD) and checks it out.
	NewBranch string
	// Base is the commit NewBranch starts from (default HEAD).
	Base string
	// LockReason, when set, locks the worktree with this reason: git then never prunes it,
	// not even from a place (a container) where its folder is not at the recorded path.
	LockReason string
}

// AddWorktree adds a worktree of the repository at repoDir in path (which must not exist),
// checking out o.Branch or a new branch o.NewBranch. It returns the branch checked out.
func (g Git) AddWorktree(ctx context.Context, repoDir, path string, o AddOptions) (string, error) {
	if (o.Branch == "") == (o.NewBranch == "") {
		return "", errors.New("add worktree: give exactly one of a branch and a new branch")
	}
	if _, err := os.Lstat(path); err == nil {
		return "", fmt.Errorf("%s: %w", path, ErrPathExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("add worktree %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("add worktree %s: %w", path, err)
	}
	branch := o.Branch
	args := []string{"worktree", "add"}
	if o.LockReason != "" {
		args = append(args, "--lock", "--reason", o.LockReason)
	}
	if o.NewBranch != "" {
		branch = o.NewBranch
		ok, err := g.BranchExists(ctx, repoDir, branch)
		if err != nil {
			return "", err
		}
		if ok {
			return "", fmt.Errorf("branch %s: %w (use --branch to check it out)", branch, ErrBranchExists)
		}
		args = append(args, "-b", branch, "--", path)
		if o.Base != "" {
			args = append(args, o.Base)
		}
	} else {
		ok, err := g.BranchExists(ctx, repoDir, branch)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fmt.Errorf("branch %s: %w (create it with --new-branch)", branch, ErrNoBranch)
		}
		args = append(args, "--", path, branch)
	}
	if _, err := g.Run(ctx, repoDir, args...); err != nil {
		return "", fmt.Errorf("add worktree %s: %w", path, err)
	}
	return branch, nil
}

// Status returns `git status --porcelain` lines of the work tree at dir (none when clean).
func (g Git) Status(ctx context.Context, dir string) ([]string, error) {
	out, err := g.Run(ctx, dir, "status", "--porcelain", "--untracked-files=normal")
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", dir, err)
	}
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// RemoveWorktree removes the worktree at path from the repository at repoDir. Without force
// a worktree with uncommitted changes or untracked files is refused with ErrDirty. A
// worktree folder that is already gone is pruned from the repository.
func (g Git) RemoveWorktree(ctx context.Context, repoDir, path string, force bool) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := g.Run(ctx, repoDir, "worktree", "prune"); err != nil {
			return fmt.Errorf("prune worktrees: %w", err)
		}
		return nil
	}
	if !force {
		lines, err := g.Status(ctx, path)
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			return fmt.Errorf("%s: %w (%d paths changed or untracked; commit them or use --force)", path, ErrDirty, len(lines))
		}
	}
	// A worktree mochi locked is unlocked first; a lock error means it was not locked.
	_, _ = g.Run(ctx, repoDir, "worktree", "unlock", "--", path)
	args := []string{"worktree", "remove"}
	if force {
		// Twice: also remove a locked worktree.
		args = append(args, "--force", "--force")
	}
	if _, err := g.Run(ctx, repoDir, append(args, "--", path)...); err != nil {
		return fmt.Errorf("remove worktree %s: %w", path, err)
	}
	return nil
}

// Worktrees lists the work tree folders of the repository at repoDir, the main one first.
func (g Git) Worktrees(ctx context.Context, repoDir string) ([]string, error) {
	out, err := g.Run(ctx, repoDir, "worktree", "list", "--porcelain")
	if err != nil {
		return nil, fmt.Errorf("list worktrees: %w", err)
	}
	var paths []string
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "worktree "); ok {
			paths = append(paths, p)
		}
	}
	return paths, nil
}
