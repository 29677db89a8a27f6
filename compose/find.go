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

// ServiceImage makes a service's image available as Up would (building a service with a
// build section when its image is missing, or always with rebuild; pulling otherwise) and
// returns its reference and id. The workspace engine uses it to get the base image it builds
// Features on, then passes the result to Up in MainOverrides.Image.
func (o *Orchestrator) ServiceImage(ctx context.Context, p *Project, service string, rebuild, noCache bool, out io.Writer) (ref, id string, err error) {
	s, ok := p.model.Services[service]
	if !ok {
		return "", "", fmt.Errorf("service image: %w", p.notFound(service))
	}
	ref, img, err := o.ensureImage(ctx, p, s, UpOptions{Build: rebuild, NoCache: noCache, Output: out})
	if err != nil {
		return "", "", err
	}
	return ref, img.ID, nil
}
