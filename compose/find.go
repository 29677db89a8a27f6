package compose

import (
	"context"
	"fmt"
	"io"
)

// Find returns the container of a project's service (the reference CLI finds the main
// container by these labels), or nil when there is none.
func (o *Orchestrator) Find(ctx context.Context, project, service string) (*Container, error) {
	r := &upRun{o: o, p: &Project{Name: project}}
	return r.current(ctx, service)
}

// ImageOptions say how ServiceImage makes a service's image available.
type ImageOptions struct {
	// Rebuild builds a service with a build section even when its image exists; NoCache
	// builds without the layer cache.
	Rebuild, NoCache bool
	// Base asks for the image Features are built on. A service with a build section is then
	// built every time (the layer cache makes an unchanged build quick) and its image left
	// untagged: the service's image name belongs to the image with the Features, as the
	// reference (one Dockerfile of the service's stages and the Features) names it.
	Base bool
	// CacheFrom are more images the build may take layers from.
	CacheFrom []string
	// Output receives build and pull progress; nil discards it.
	Output io.Writer
}

// ServiceImage makes a service's image available as Up would (building a service with a
// build section when its image is missing, or always with Rebuild; pulling otherwise) and
// returns its reference and id: with Base, for a service with a build section, the id twice.
// The workspace engine uses it to get the base image it builds Features on, then passes the
// result to Up in MainOverrides.Image.
func (o *Orchestrator) ServiceImage(ctx context.Context, p *Project, service string, opts ImageOptions) (ref, id string, err error) {
	s, ok := p.model.Services[service]
	if !ok {
		return "", "", fmt.Errorf("service image: %w", p.notFound(service))
	}
	up := UpOptions{Build: opts.Rebuild || opts.Base, NoCache: opts.NoCache, Output: opts.Output, cacheFrom: opts.CacheFrom}
	ref, img, err := o.ensureImage(ctx, p, s, up, opts.Base)
	if err != nil {
		return "", "", err
	}
	return ref, img.ID, nil
}
