package docker

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/mochi-dev/mochi/providers"
)

// InspectImage returns what mochi needs to know about a local image.
func (p *Provider) InspectImage(ctx context.Context, ref string) (*providers.ImageInfo, error) {
	resp, err := p.cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, p.wrap(err, "inspect image %s", ref)
	}
	return toImageInfo(ref, resp), nil
}

func toImageInfo(ref string, r image.InspectResponse) *providers.ImageInfo {
	info := &providers.ImageInfo{ID: r.ID, Ref: ref, OS: r.Os, Arch: r.Architecture}
	if c := r.Config; c != nil {
		info.User = c.User
		info.Env = c.Env
		info.Labels = c.Labels
		info.Entrypoint = c.Entrypoint
		info.Cmd = c.Cmd
		info.WorkingDir = c.WorkingDir
	}
	return info
}

// PullImage pulls ref through the engine, writing progress to out (nil discards it).
// Credentials come from the user's Docker configuration when it has some for the registry.
func (p *Provider) PullImage(ctx context.Context, ref string, out io.Writer) error {
	opts := image.PullOptions{RegistryAuth: p.registryAuth(ref)}
	rc, err := p.cli.ImagePull(ctx, ref, opts)
	if err == nil {
		defer rc.Close()
		err = jsonmessage.DisplayJSONMessagesStream(rc, orDiscard(out), 0, false, nil)
	}
	if err == nil {
		return nil
	}
	err = p.wrap(err, "pull image %s", ref)
	if isRegistryUnreachable(err) {
		return fmt.Errorf("%w (the docker engine cannot reach the registry of %s: build the image locally or load it with docker load)", err, ref)
	}
	return err
}

// registryAuth returns the encoded credentials for ref's registry, or "" when there are none.
func (p *Provider) registryAuth(ref string) string {
	r, err := name.ParseReference(ref)
	if err != nil {
		return ""
	}
	a, err := authn.DefaultKeychain.Resolve(r.Context())
	if err != nil || a == authn.Anonymous {
		return ""
	}
	cfg, err := a.Authorization()
	if err != nil {
		p.log.Debug("registry credentials", "image", ref, "err", err)
		return ""
	}
	enc, err := registry.EncodeAuthConfig(registry.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
		ServerAddress: r.Context().RegistryStr(),
	})
	if err != nil {
		return ""
	}
	return enc
}

// RemoveImage removes the image (untagging ref; layers go when nothing else uses them).
func (p *Provider) RemoveImage(ctx context.Context, ref string) error {
	if _, err := p.cli.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: true}); err != nil {
		return p.wrap(err, "remove image %s", ref)
	}
	return nil
}
