package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/mochi-dev/mochi/providers"
)

// BuildImage builds spec with the engine's classic builder (BuildKit would need a session
// and may pull a frontend), streaming the context from the host and writing the build log
// as text to spec.Output.
func (p *Provider) BuildImage(ctx context.Context, spec providers.BuildSpec) (*providers.ImageInfo, error) {
	bc, dockerfile, err := prepareContext(spec)
	if err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}
	opts := build.ImageBuildOptions{
		Tags:        spec.Tags,
		Dockerfile:  dockerfile,
		NoCache:     spec.NoCache,
		PullParent:  spec.Pull,
		CacheFrom:   spec.CacheFrom,
		Target:      spec.Target,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
		BuildArgs:   map[string]*string{},
		Labels:      map[string]string{},
	}
	for k, v := range spec.Args {
		opts.BuildArgs[k] = &v
	}
	for k, v := range spec.Labels {
		opts.Labels[k] = v
	}
	if err := parseBuildOptions(&opts, spec.Options, p.log); err != nil {
		return nil, fmt.Errorf("build image: %w", err)
	}

	pr, pw := io.Pipe()
	tarErr := make(chan error, 1)
	go func() {
		err := bc.write(pw)
		tarErr <- err
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	resp, err := p.cli.ImageBuild(ctx, pr, opts)
	if err != nil {
		pr.CloseWithError(err)
		if terr := <-tarErr; terr != nil {
			return nil, fmt.Errorf("build image: %w", terr)
		}
		return nil, p.wrap(err, "build image")
	}
	defer resp.Body.Close()

	out := &stepTracker{w: orDiscard(spec.Output)}
	var imageID string
	aux := func(m jsonmessage.JSONMessage) {
		var id struct{ ID string }
		if m.Aux != nil && jsonUnmarshal(*m.Aux, &id) == nil && id.ID != "" {
			imageID = id.ID
		}
	}
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, out, 0, false, aux); err != nil {
		if out.step != "" {
			return nil, fmt.Errorf("build image: %s: %w", out.step, err)
		}
		return nil, p.wrap(err, "build image")
	}
	ref := imageID
	if len(spec.Tags) > 0 {
		ref = spec.Tags[0]
	}
	if ref == "" {
		return nil, errors.New("build image: the engine reported no image id")
	}
	return p.InspectImage(ctx, ref)
}

// prepareContext decides where the Dockerfile sits in the context: in place when it is a file
// inside ContextDir, otherwise (given as content, or outside the context) at a generated name.
func prepareContext(spec providers.BuildSpec) (*buildContext, string, error) {
	bc := &buildContext{dir: spec.ContextDir, extraFiles: map[string][]byte{}, extraDirs: spec.ExtraDirs}
	for k, v := range spec.ExtraFiles {
		bc.extraFiles[k] = v
	}
	content := spec.DockerfileContent
	dockerfile := spec.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if content == nil {
		abs := dockerfile
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(spec.ContextDir, abs)
		}
		if rel, err := filepath.Rel(spec.ContextDir, abs); spec.ContextDir != "" && err == nil && filepath.IsLocal(rel) {
			if _, err := os.Stat(abs); err != nil {
				return nil, "", fmt.Errorf("dockerfile: %w", err)
			}
			rel = filepath.ToSlash(rel)
			bc.keep = []string{rel}
			return bc, rel, nil
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return nil, "", fmt.Errorf("dockerfile: %w", err)
		}
		content = data
	}
	sum := sha256.Sum256(content)
	name := ".mochi/Dockerfile-" + hex.EncodeToString(sum[:6])
	bc.extraFiles[name] = content
	bc.keep = []string{name}
	return bc, name, nil
}

// stepTracker passes the build log through and remembers the step being run, so that a
// failure can say which instruction failed.
type stepTracker struct {
	w    io.Writer
	line []byte
	step string
}

func (s *stepTracker) Write(b []byte) (int, error) {
	s.line = append(s.line, b...)
	for {
		i := bytes.IndexByte(s.line, '\n')
		if i < 0 {
			break
		}
		if l := strings.TrimSpace(string(s.line[:i])); strings.HasPrefix(l, "Step ") {
			s.step = l
		}
		s.line = s.line[i+1:]
	}
	return s.w.Write(b)
}
