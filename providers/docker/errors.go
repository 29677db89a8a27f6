package docker

import (
	"errors"
	"fmt"

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
	switch {
	case client.IsErrConnectionFailed(err):
		return fmt.Errorf("%s: %w: docker engine at %s is not reachable (start dockerd, or install Docker Engine: Debian package docker.io): %v",
			what, providers.ErrUnavailable, p.cli.DaemonHost(), err)
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%s: %w: %v", what, providers.ErrNotFound, err)
	case cerrdefs.IsNotImplemented(err):
		return fmt.Errorf("%s: %w: %v", what, providers.ErrUnsupported, err)
	case errors.Is(err, providers.ErrNotFound), errors.Is(err, providers.ErrUnavailable), errors.Is(err, providers.ErrUnsupported):
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isNotFound(err error) bool { return errors.Is(err, providers.ErrNotFound) }
