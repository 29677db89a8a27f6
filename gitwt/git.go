// Package gitwt drives the git command line for mochi's named workspaces: it finds a
// repository's folders, checks branches, adds and removes worktrees and reads or writes
// git configuration. Every function runs `git` with LC_ALL=C and returns git's own message
// in its errors.
package gitwt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Git runs the git binary. The zero value uses "git" from PATH and the process environment.
type Git struct {
	// Path is the git binary (default "git").
	Path string
	// Env is added to the process environment of every git command (k=v).
	Env []string
}

// Run runs git with args in dir and returns its standard output; a non-zero exit is an
// error carrying git's standard error.
func (g Git) Run(ctx context.Context, dir string, args ...string) (string, error) {
	return g.RunInput(ctx, dir, nil, args...)
}

// RunInput is Run with stdin fed from in.
func (g Git) RunInput(ctx context.Context, dir string, in []byte, args ...string) (string, error) {
	bin := g.Path
	if bin == "" {
		bin = "git"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), g.Env...), "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	if in != nil {
		cmd.Stdin = bytes.NewReader(in)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), &Error{Args: args, Code: ee.ExitCode(), Stderr: msg}
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// Error is a git command that exited non-zero.
type Error struct {
	Args   []string
	Code   int
	Stderr string
}

func (e *Error) Error() string {
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), e.Stderr)
}

// Repo is a repository as mochi needs it: its work tree root and its common git folder.
type Repo struct {
	// Root is the top of the work tree holding the folder it was opened from.
	Root string
	// CommonDir is the repository's shared git folder (<main repo>/.git), the same for
	// every worktree of the repository.
	CommonDir string
}

// Open finds the repository holding dir; a folder outside any repository is ErrNotRepo.
func (g Git) Open(ctx context.Context, dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open repository %s: %w", dir, err)
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("open repository %s: %w", abs, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("open repository %s: not a directory", abs)
	}
	out, err := g.Run(ctx, abs, "rev-parse", "--path-format=absolute", "--show-toplevel", "--git-common-dir")
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && strings.Contains(ge.Stderr, "not a git repository") {
			return nil, fmt.Errorf("%s: %w", abs, ErrNotRepo)
		}
		return nil, fmt.Errorf("open repository %s: %w", abs, err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		return nil, fmt.Errorf("open repository %s: %w (bare repository?)", abs, ErrNotRepo)
	}
	return &Repo{Root: filepath.Clean(lines[0]), CommonDir: filepath.Clean(lines[1])}, nil
}

// BranchExists reports whether refs/heads/branch exists in the repository at dir.
func (g Git) BranchExists(ctx context.Context, dir, branch string) (bool, error) {
	if err := g.checkBranchName(ctx, dir, branch); err != nil {
		return false, err
	}
	_, err := g.Run(ctx, dir, "show-ref", "--verify", "--quiet", "refs/heads/"+branch)
	var ge *Error
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &ge) && ge.Code == 1:
		return false, nil
	default:
		return false, fmt.Errorf("look up branch %s: %w", branch, err)
	}
}

// checkBranchName refuses a name git would not accept as a branch.
func (g Git) checkBranchName(ctx context.Context, dir, branch string) error {
	if branch == "" || strings.HasPrefix(branch, "-") {
		return fmt.Errorf("branch name %q: %w", branch, ErrBadBranch)
	}
	if _, err := g.Run(ctx, dir, "check-ref-format", "--branch", branch); err != nil {
		return fmt.Errorf("branch name %q: %w", branch, ErrBadBranch)
	}
	return nil
}

// CurrentBranch returns the branch checked out at dir ("" on a detached HEAD).
func (g Git) CurrentBranch(ctx context.Context, dir string) (string, error) {
	out, err := g.Run(ctx, dir, "symbolic-ref", "--quiet", "--short", "HEAD")
	var ge *Error
	if errors.As(err, &ge) && ge.Code == 1 {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("current branch of %s: %w", dir, err)
	}
	return strings.TrimSpace(out), nil
}

// ConfigGet returns a git config value as git reads it at dir ("" and false when unset).
func (g Git) ConfigGet(ctx context.Context, dir, key string) (string, bool, error) {
	out, err := g.Run(ctx, dir, "config", "--get", key)
	var ge *Error
	if errors.As(err, &ge) && ge.Code == 1 {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read git config %s: %w", key, err)
	}
	return strings.TrimRight(out, "\n"), true, nil
}
