package providers

import "errors"

// Errors providers translate their engine's errors into, at their edge.
var (
	// ErrNotFound: the instance or image does not exist.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the engine cannot be reached (not installed, not running, no permission).
	ErrUnavailable = errors.New("engine unavailable")
	// ErrUnsupported: the request uses something this provider cannot do.
	ErrUnsupported = errors.New("unsupported")
)
