package sshgate

import "errors"

// Errors a Linker returns (wrapped) so that clients get a clear message.
var (
	// ErrWorkspaceNotFound: no workspace has that name.
	ErrWorkspaceNotFound = errors.New("workspace not found")
	// ErrWorkspaceStopped: the workspace exists but is not running.
	ErrWorkspaceStopped = errors.New("workspace not running")
)

// ErrBadWorkspaceName: a workspace name the key store cannot hold.
var ErrBadWorkspaceName = errors.New("bad workspace name")
