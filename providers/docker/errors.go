package docker

import (
	"errors"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/mochi-dev/mochi/providers"
)

// wrap translates an engine error into the providers sentinels, saying what was being done.
func (p *Provider) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	switch {
	case client.IsErrConnectionFailed(err):
		return fmt.Errorf("%s: %w: docker engine at %s is not reachable (start dockerd, or install Docker Engine: Debian package docker.io): %v",
			what, providers.ErrUnavailable, p.cli.DaemonHost(), err)
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w: %s", what, providers.ErrNotFound, msg)
	case cerrdefs.IsNotImplemented(err):
		return fmt.Errorf("%s: %w: %s", what, providers.ErrUnsupported, msg)
	case errors.Is(err, providers.ErrNotFound), errors.Is(err, providers.ErrUnavailable), errors.Is(err, providers.ErrUnsupported):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, engineError{err})
}

// engineError is an engine error without the client's "Error response from daemon" prefix.
type engineError struct{ err error }

func (e engineError) Error() string {
	return strings.TrimPrefix(e.err.Error(), "Error response from daemon: ")
}

func (e engineError) Unwrap() error { return e.err }

// isRegistryUnreachable reports whether a pull failed for want of a network path to the
// registry, the common case on machines that reach none.
func isRegistryUnreachable(err error) bool {
	msg := err.Error()
	for _, s := range []string{"dial tcp", "no such host", "connection refused", "i/o timeout", "TLS handshake timeout", "network is unreachable"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func isNotFound(err error) bool { return errors.Is(err, providers.ErrNotFound) }
