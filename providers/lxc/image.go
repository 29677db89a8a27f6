package lxc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/mochi-dev/mochi/image"
	"github.com/mochi-dev/mochi/providers"
)

// InspectImage resolves ref without the network: a docker-archive: or oci: reference, the
// local Docker engine, or an image pulled before. The error wraps providers.ErrNotFound when
// none has it.
func (p *Provider) InspectImage(ctx context.Context, ref string) (*providers.ImageInfo, error) {
	img, err := p.images.Lookup(ctx, ref)
	if err != nil {
		return nil, translateImageErr(err, "inspect image %s", ref)
	}
	c := img.Config
	return &providers.ImageInfo{
		ID: img.ID, Ref: ref, User: c.Config.User, Env: c.Config.Env, Labels: c.Config.Labels,
		Entrypoint: c.Config.Entrypoint, Cmd: c.Config.Cmd, WorkingDir: c.Config.WorkingDir,
		OS: c.OS, Arch: c.Architecture,
	}, nil
}

// PullImage fetches ref from its registry (credentials as Docker's) and extracts it into the
// image cache.
func (p *Provider) PullImage(ctx context.Context, ref string, out io.Writer) error {
	if out != nil {
		fmt.Fprintf(out, "pulling %s for lxc\n", ref)
	}
	img, err := p.images.Pull(ctx, ref)
	if err != nil {
		return translateImageErr(err, "pull image %s", ref)
	}
	if out != nil {
		fmt.Fprintf(out, "pulled %s (%s)\n", ref, img.ID)
	}
	return nil
}

// BuildImage builds through the configured builder (the Docker provider); the containers
// created from the result take it from that engine. Without a builder it is unsupported.
func (p *Provider) BuildImage(ctx context.Context, spec providers.BuildSpec) (*providers.ImageInfo, error) {
	if p.builder == nil {
		return nil, fmt.Errorf("build image: %w: the lxc provider builds Dockerfiles and Features with a local Docker engine and none is configured (install and start docker, or use a prebuilt image)", providers.ErrUnsupported)
	}
	return p.builder.BuildImage(ctx, spec)
}

// RemoveImage forgets a pulled reference. Images of the Docker engine are left alone.
func (p *Provider) RemoveImage(ctx context.Context, ref string) error {
	if err := p.images.Forget(ctx, ref); err != nil {
		return translateImageErr(err, "remove image %s", ref)
	}
	return nil
}

func translateImageErr(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if errors.Is(err, image.ErrNotFound) {
		return fmt.Errorf("%s: %w: %w", msg, providers.ErrNotFound, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
