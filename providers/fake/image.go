package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"

	"github.com/mochi-dev/mochi/providers"
)

// AddImage makes an image known under info.Ref (and its ID, generated when empty).
func (p *Provider) AddImage(info providers.ImageInfo) *providers.ImageInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addImage(info)
}

func (p *Provider) addImage(info providers.ImageInfo) *providers.ImageInfo {
	if info.ID == "" {
		sum := sha256.Sum256([]byte("fake-image-" + info.Ref + itoa(len(p.images))))
		info.ID = "sha256:" + hex.EncodeToString(sum[:])
	}
	if info.OS == "" {
		info.OS, info.Arch = "linux", "amd64"
	}
	c := cloneImage(&info)
	if info.Ref != "" {
		p.images[info.Ref] = c
	}
	p.images[info.ID] = c
	return cloneImage(c)
}

func cloneImage(i *providers.ImageInfo) *providers.ImageInfo {
	c := *i
	c.Env = slices.Clone(i.Env)
	c.Labels = maps.Clone(i.Labels)
	c.Entrypoint = slices.Clone(i.Entrypoint)
	c.Cmd = slices.Clone(i.Cmd)
	return &c
}

// InspectImage returns a known image by ref or id.
func (p *Provider) InspectImage(_ context.Context, ref string) (*providers.ImageInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	img, ok := p.images[ref]
	if !ok {
		return nil, fmt.Errorf("inspect image %s: %w", ref, providers.ErrNotFound)
	}
	c := cloneImage(img)
	c.Ref = ref
	return c, nil
}

// PullImage calls PullFunc and, when it succeeds and the image is still unknown, adds an
// empty image under ref.
func (p *Provider) PullImage(ctx context.Context, ref string, out io.Writer) error {
	if p.PullFunc == nil {
		return fmt.Errorf("pull image %s: %w: the fake reaches no registry", ref, providers.ErrNotFound)
	}
	if err := p.PullFunc(ctx, ref, out); err != nil {
		return fmt.Errorf("pull image %s: %w", ref, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.images[ref]; !ok {
		p.addImage(providers.ImageInfo{Ref: ref})
	}
	return nil
}

// BuildImage records spec and adds an image tagged with spec.Tags, carrying spec.Labels.
// It reads no Dockerfile: tests that need a particular image config add it with AddImage.
func (p *Provider) BuildImage(_ context.Context, spec providers.BuildSpec) (*providers.ImageInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.builds = append(p.builds, spec)
	keys := slices.Collect(maps.Keys(spec.Args))
	sort.Strings(keys)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", spec.ContextDir, spec.Dockerfile, spec.DockerfileContent, len(p.builds))
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, spec.Args[k])
	}
	info := providers.ImageInfo{ID: "sha256:" + hex.EncodeToString(h.Sum(nil)), Labels: maps.Clone(spec.Labels)}
	if len(spec.Tags) > 0 {
		info.Ref = spec.Tags[0]
	}
	img := p.addImage(info)
	for _, tag := range spec.Tags {
		p.images[tag] = cloneImage(img)
		p.images[tag].Ref = tag
	}
	if spec.Output != nil {
		fmt.Fprintf(spec.Output, "fake build of %s\n", img.ID)
	}
	return img, nil
}

// Builds returns the BuildSpecs BuildImage was called with, oldest first.
func (p *Provider) Builds() []providers.BuildSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.builds)
}

// RemoveImage forgets ref.
func (p *Provider) RemoveImage(_ context.Context, ref string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.images[ref]; !ok {
		return fmt.Errorf("remove image %s: %w", ref, providers.ErrNotFound)
	}
	delete(p.images, ref)
	return nil
}
