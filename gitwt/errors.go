package gitwt

import "errors"

// Sentinel errors of git operations.
var (
	// ErrNotRepo: the folder is not inside a git work tree.
	ErrNotRepo = errors.New("not a git repository")
	// ErrNoBranch: the branch does not exist (and was not asked to be created).
	ErrNoBranch = errors.New("branch does not exist")
	// ErrBranchExists: a new branch was asked for under a name already taken.
	ErrBranchExists = errors.New("branch already exists")
	// ErrBadBranch: the branch name is not valid for git.
	ErrBadBranch = errors.New("not a valid branch name")
	// ErrPathExists: the worktree folder already exists.
	ErrPathExists = errors.New("worktree folder already exists")
	// ErrDirty: the worktree has uncommitted changes or untracked files.
	ErrDirty = errors.New("worktree has uncommitted changes")
)
