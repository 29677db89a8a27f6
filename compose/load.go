// Package compose runs Docker Compose projects for mochi without the compose plugin. It loads
// compose files with compose-go (several files, .env and environment interpolation, profiles,
// extends, include), names the project as the Dev Container reference CLI does, applies the
// devcontainer changes to the main service in memory, and brings the services up in
// dependency order through a small Engine interface, creating networks, volumes and
// containers with the names and labels Docker Compose v2 gives them, so that either tool
// finds and reuses what the other started. It never imports an engine SDK.
package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions say which compose files to load and how.
type LoadOptions struct {
	// Files are the compose files in order (devcontainer.json dockerComposeFile, resolved
	// against the config file's folder). Relative paths are taken from WorkspaceFolder.
	// When empty, the reference's defaults apply: COMPOSE_FILE from Env, else COMPOSE_FILE=
	// in <WorkspaceFolder>/.env, else docker-compose.yml (+ docker-compose.override.yml).
	Files []string
	// WorkspaceFolder is the workspace folder (the reference CLI's working directory).
	WorkspaceFolder string
	// Env is the environment used for interpolation and COMPOSE_* settings; the compose
	// project folder's .env adds to it, as with Compose.
	Env map[string]string
	// Profiles are the active profiles for selecting services when no runServices are given;
	// nil means COMPOSE_PROFILES from Env. All services are loaded whatever their profile.
	Profiles []string
	// Name, when set, is used as the project name instead of the reference's rule.
	Name string
}

// Project is a loaded compose project.
type Project struct {
	// Name is the project name (com.docker.compose.project).
	Name string
	// WorkingDir is the project folder: the first compose file's folder.
	WorkingDir string
	// ConfigFiles are the absolute compose file paths, in order.
	ConfigFiles []string
	// EnvFiles are env files passed explicitly (the reference passes <workspace>/.env when it
	// chose the default compose files); they go into the environment_file label.
	EnvFiles []string
	// Profiles are the active profiles.
	Profiles []string

	model *types.Project
}

// Load reads and normalises the compose files and names the project.
func Load(ctx context.Context, opts LoadOptions) (*Project, error) {
	files, envFiles, err := composeFiles(opts)
	if err != nil {
		return nil, err
	}
	first, err := loadModel(ctx, files, envFiles, opts.Env, opts.Name)
	if err != nil {
		return nil, err
	}
	name := opts.Name
	if name == "" {
		name = ProjectName(NameInput{Env: opts.Env, WorkspaceFolder: opts.WorkspaceFolder, Files: files, ConfigName: first.Name})
	}
	model := first
	if name != first.Name {
		if model, err = loadModel(ctx, files, envFiles, opts.Env, name); err != nil {
			return nil, err
		}
	}
	profiles := opts.Profiles
	if profiles == nil {
		for _, p := range strings.Split(model.Environment["COMPOSE_PROFILES"], ",") {
			if p = strings.TrimSpace(p); p != "" {
				profiles = append(profiles, p)
			}
		}
	}
	if err := checkSupported(model); err != nil {
		return nil, err
	}
	return &Project{
		Name:        model.Name,
		WorkingDir:  model.WorkingDir,
		ConfigFiles: slices.Clone(model.ComposeFiles),
		EnvFiles:    envFiles,
		Profiles:    profiles,
		model:       model,
	}, nil
}

// loadModel loads the files with compose-go, with every profile enabled so that any service
// can be selected (the reference reads `compose config --profile *`).
func loadModel(ctx context.Context, files, envFiles []string, env map[string]string, name string) (*types.Project, error) {
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	sort.Strings(envList)
	fns := []cli.ProjectOptionsFn{
		cli.WithEnv(envList),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithProfiles([]string{"*"}),
	}
	if name != "" {
		fns = append(fns, cli.WithName(name))
	}
	o, err := cli.NewProjectOptions(files, fns...)
	if err != nil {
		return nil, fmt.Errorf("load compose files %s: %w", strings.Join(files, ", "), err)
	}
	p, err := o.LoadProject(ctx)
	if err != nil {
		if strings.Contains(err.Error(), "dependency cycle detected") {
			err = markedError{err: err, target: ErrCycle}
		}
		if serr := syntaxError(ctx, files); serr != nil {
			err = serr
		}
		return nil, fmt.Errorf("load compose files %s: %w", strings.Join(files, ", "), err)
	}
	return p, nil
}

// syntaxError returns the YAML error of the first compose file that does not parse, naming the
// file, or nil. compose-go reads every file for a top-level name before it loads them, and that
// error names no file: with several files the user would not know which one is at fault.
func syntaxError(ctx context.Context, files []string) error {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the loader's own error says so
		}
		details := types.ConfigDetails{
			WorkingDir:  filepath.Dir(f),
			ConfigFiles: []types.ConfigFile{{Filename: f, Content: data}},
			Environment: types.Mapping{},
		}
		_, err = loader.LoadModelWithContext(ctx, details, func(o *loader.Options) {
			o.SkipValidation, o.SkipInterpolation, o.SkipNormalization = true, true, true
			o.SkipConsistencyCheck, o.SkipExtends, o.SkipInclude = true, true, true
			o.SkipResolveEnvironment, o.SkipDefaultValues = true, true
			o.SetProjectName("syntax-check", true)
		})
		if err != nil && strings.Contains(err.Error(), f+":") {
			if inner := errors.Unwrap(err); inner != nil {
				err = inner // compose-go's "failed to parse <file>: <yaml error>"
			}
			return fmt.Errorf("parse %s: %w", f, err)
		}
	}
	return nil
}

// composeFiles resolves the compose file list and the explicit env files.
func composeFiles(opts LoadOptions) (files, envFiles []string, err error) {
	abs := func(p string) string {
		if filepath.IsAbs(p) || opts.WorkspaceFolder == "" {
			return filepath.Clean(p)
		}
		return filepath.Join(opts.WorkspaceFolder, p)
	}
	if len(opts.Files) > 0 {
		for _, f := range opts.Files {
			files = append(files, abs(f))
		}
		return files, nil, nil
	}
	dotEnv := abs(".env")
	if _, err := os.Stat(dotEnv); err == nil {
		envFiles = []string{dotEnv}
	}
	list := opts.Env["COMPOSE_FILE"]
	if list == "" && envFiles != nil {
		if data, err := os.ReadFile(dotEnv); err == nil {
			if m := envComposeFile.FindSubmatch(data); m != nil {
				list = strings.TrimSpace(string(m[1]))
			}
		}
	}
	if list != "" {
		for _, f := range filepath.SplitList(list) {
			files = append(files, abs(f))
		}
		return files, envFiles, nil
	}
	files = []string{abs("docker-compose.yml")}
	if _, err := os.Stat(abs("docker-compose.override.yml")); err == nil {
		files = append(files, abs("docker-compose.override.yml"))
	}
	return files, envFiles, nil
}

var envComposeFile = regexp.MustCompile(`(?m)^COMPOSE_FILE=([^\n]+)$`)

// ServiceNames returns every service in the compose files, sorted.
func (p *Project) ServiceNames() []string {
	names := make([]string, 0, len(p.model.Services))
	for n := range p.model.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Service returns a copy of the normalised configuration of the named service.
func (p *Project) Service(name string) (types.ServiceConfig, error) {
	s, ok := p.model.Services[name]
	if !ok {
		return types.ServiceConfig{}, p.notFound(name)
	}
	return s, nil
}

// Model returns the compose-go project (all services, every profile). Callers must not
// modify it.
func (p *Project) Model() *types.Project { return p.model }

// ImageName is the image a service runs: its image property, or the name Compose gives
// the image it builds (<project>-<service>).
func (p *Project) ImageName(service string) string {
	if s, ok := p.model.Services[service]; ok && s.Image != "" {
		return s.Image
	}
	return DefaultImageName(p.Name, service)
}

func (p *Project) notFound(name string) error {
	return fmt.Errorf("service %q is not in %s (services: %s): %w",
		name, strings.Join(p.ConfigFiles, ", "), strings.Join(p.ServiceNames(), ", "), ErrServiceNotFound)
}
