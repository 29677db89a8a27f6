package compose

import "errors"

// Errors the compose package returns, wrapped with what was being done.
var (
	// ErrServiceNotFound: a service named by the caller is not in the compose files.
	ErrServiceNotFound = errors.New("service not found")
	// ErrCycle: the services' depends_on form a cycle.
	ErrCycle = errors.New("dependency cycle")
	// ErrDependency: a dependency did not reach the condition its dependant waits for
	// (healthy, completed successfully, running).
	ErrDependency = errors.New("dependency not satisfied")
	// ErrUnsupported: the compose files use a feature mochi's orchestrator does not implement.
	ErrUnsupported = errors.New("unsupported compose feature")
	// ErrImageNotFound: a service's image is neither present locally nor buildable.
	ErrImageNotFound = errors.New("image not found")
	// ErrPortInUse: a published port is already taken on the host.
	ErrPortInUse = errors.New("port already in use")
)

// markedError is an error that also matches a sentinel with errors.Is, keeping its text.
type markedError struct {
	err    error
	target error
}

func (e markedError) Error() string        { return e.err.Error() }
func (e markedError) Unwrap() error        { return e.err }
func (e markedError) Is(target error) bool { return target == e.target }
