package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/dockerfile"
	"github.com/mochi-dev/mochi/providers"
)

// preparedImage is the image a container is created from, with the metadata entries it
// carries.
type preparedImage struct {
	ref     string
	info    *providers.ImageInfo
	entries []map[string]any
	built   bool
	// labelled: the image already carries the full devcontainer.metadata label (features
	// builds write it as the reference does), so the container needs none of its own.
	labelled bool
}

// prepareImage finds (or pulls) the config's image, or builds its Dockerfile.
func (e *Engine) prepareImage(ctx context.Context, r *resolved, noCache bool, cacheFrom []string) (*preparedImage, error) {
	var (
		ref  string
		info *providers.ImageInfo
		err  error
	)
	if r.cfg.IsDockerfile() {
		ref, info, err = e.buildDockerfile(ctx, r, noCache, cacheFrom, nil)
	} else {
		ref = r.cfg.Image
		info, err = e.ensureImage(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	entries, err := metadataEntries(info.Labels)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	return &preparedImage{ref: ref, info: info, entries: entries, built: r.cfg.IsDockerfile()}, nil
}

// ensureImage inspects ref, pulling it when it is not present.
func (e *Engine) ensureImage(ctx context.Context, ref string) (*providers.ImageInfo, error) {
	info, err := e.be.InspectImage(ctx, ref)
	if err == nil {
		return info, nil
	}
	if !errors.Is(err, providers.ErrNotFound) {
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	e.log.Info("Pulling image.", "image", ref)
	if err := e.be.PullImage(ctx, ref, e.out); err != nil {
		return nil, fmt.Errorf("image %s is not present and could not be pulled: %w", ref, err)
	}
	info, err = e.be.InspectImage(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return info, nil
}

// buildDockerfile builds the config's Dockerfile, tagged with the reference's image name
// (plus any extra tags), and returns the built image.
func (e *Engine) buildDockerfile(ctx context.Context, r *resolved, noCache bool, cacheFrom []string, labels map[string]string) (string, *providers.ImageInfo, error) {
	path := r.cfg.DockerfilePath()
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("%s: build.dockerfile: read %w", r.configPath, err)
	}
	tag := devcontainer.ImageName(r.folder)
	b := r.cfg.Build
	spec := providers.BuildSpec{
		ContextDir:        r.cfg.ContextPath(),
		Dockerfile:        path,
		DockerfileContent: dockerfile.StripSyntax(data),
		Tags:              []string{tag},
		Args:              b.Args,
		Target:            b.Target,
		NoCache:           noCache,
		Pull:              noCache,
		CacheFrom:         append(append([]string(nil), b.CacheFrom...), cacheFrom...),
		Labels:            labels,
		Options:           b.Options,
		Output:            e.out,
	}
	if noCache {
		spec.CacheFrom = nil
	}
	e.log.Info("Building image.", "dockerfile", path, "tag", tag)
	info, err := e.be.BuildImage(ctx, spec)
	if err != nil {
		return "", nil, fmt.Errorf("build %s: %w", path, err)
	}
	return tag, info, nil
}

// updateUID builds the `-uid` image that gives the remote user the host user's UID/GID
// (Linux only), as the reference does, and returns the image to run.
func (e *Engine) updateUID(ctx context.Context, r *resolved, img *preparedImage, m *devcontainer.Merged, def string) (string, error) {
	if def == "" {
		def = devcontainer.UIDUpdateOn
	}
	imageUser := img.info.User
	if imageUser == "" {
		imageUser = "root"
	}
	user, ok := devcontainer.UIDUpdateUser(m, def, runtime.GOOS, devcontainer.RunArgsUser(r.cfg.RunArgs), imageUser)
	if !ok {
		return img.ref, nil
	}
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 && gid == 0 {
		// The update is a no-op for root (uid 0 is always taken): skip the build.
		e.log.Debug("Host user is root: no UID update needed.")
		return img.ref, nil
	}
	folderImage := devcontainer.ImageName(r.folder)
	name := folderImage + "-uid"
	if strings.HasPrefix(img.ref, folderImage) {
		name = img.ref + "-uid"
	}
	e.log.Info("Updating remote user UID/GID.", "user", user, "uid", uid, "gid", gid)
	_, err := e.be.BuildImage(ctx, providers.BuildSpec{
		DockerfileContent: []byte(devcontainer.UpdateUIDDockerfile(img.ref)),
		Tags:              []string{name},
		Args: map[string]string{
			"BASE_IMAGE":  img.ref,
			"REMOTE_USER": user,
			"NEW_UID":     strconv.Itoa(uid),
			"NEW_GID":     strconv.Itoa(gid),
			"IMAGE_USER":  imageUser,
		},
		Output: e.out,
	})
	if err != nil {
		return "", fmt.Errorf("update remote user %s UID: %w", user, err)
	}
	return name, nil
}
