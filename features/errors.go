package features

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these where it applies, so
// callers can map them with errors.Is.
var (
	// ErrInvalidRef marks a feature reference that cannot be parsed.
	ErrInvalidRef = errors.New("invalid feature reference")
	// ErrInvalidMetadata marks a devcontainer-feature.json that is not valid.
	ErrInvalidMetadata = errors.New("invalid devcontainer-feature.json")
	// ErrInvalidOption marks a user option the feature does not declare or of the wrong type.
	ErrInvalidOption = errors.New("invalid feature option")
	// ErrFetch marks a feature that could not be fetched.
	ErrFetch = errors.New("feature fetch")
	// ErrUnsafeArchive marks a feature archive with an entry that escapes its folder.
	ErrUnsafeArchive = errors.New("unsafe feature archive")
	// ErrCycle marks a circular dependency between features.
	ErrCycle = errors.New("circular feature dependency")
	// ErrOffline marks something that needs the network while the resolver is offline.
	ErrOffline = errors.New("not available offline")
	// ErrDigestMismatch marks content whose digest differs from the pinned one.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrLockfileMissing is returned in frozen mode when devcontainer-lock.json does not exist.
	ErrLockfileMissing = errors.New("lockfile does not exist")
	// ErrLockfileMismatch is returned in frozen mode when devcontainer-lock.json would change.
	ErrLockfileMismatch = errors.New("lockfile does not match")
)

// marked is an error that matches a sentinel with errors.Is without the sentinel's text in
// its message.
type marked struct {
	sentinel error
	err      error
}

func (m marked) Error() string        { return m.err.Error() }
func (m marked) Is(target error) bool { return target == m.sentinel }
func (m marked) Unwrap() error        { return m.err }

// mark makes err match sentinel.
func mark(sentinel, err error) error { return marked{sentinel, err} }
