package difftest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Compose cases. Their fixtures set COMPOSE_PROJECT_NAME=mochi-difftest-@RUN@ in the workspace's
// .env, which both tools read first when they name the project (the reference's getProjectName,
// mochi's compose.ProjectName), so the variants of a case, which run at the same time in
// folders with the same basename, get projects of their own (compose-name uses a top-level
// name: with the same value instead). A session removes everything carrying its project label
// (containers, networks, volumes) when it ends.
//
// The reference drives a compose tool: `docker compose` (v2) when the engine has the plugin,
// else `docker-compose`. On the build machines that is Debian's docker-compose 1.29 (v1), while
// mochi creates what Compose v2 creates; known_test.go lists where the two differ.

const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	// composePrefix starts every fixture's project name; the run id follows.
	composePrefix = "mochi-difftest-"
)

// project is the compose project name of the session (see the fixtures' .env).
func (s *session) project() string { return composePrefix + s.runID }

// composeTool returns an error when neither `docker compose` nor `docker-compose` answers: the
// reference cannot run a compose configuration without one.
func composeTool(ctx context.Context) error {
	if _, err := docker(ctx, "compose", "version"); err == nil {
		return nil
	}
	p, err := exec.LookPath("docker-compose")
	if err != nil {
		return errors.New("no compose tool for the reference CLI: neither `docker compose` nor docker-compose is installed (scripts/setup-debian.sh installs Debian's docker-compose)")
	}
	if out, err := exec.CommandContext(ctx, p, "version").CombinedOutput(); err != nil {
		return fmt.Errorf("%s version: %w: %s", p, err, out)
	}
	return nil
}

// projectContainers inspects every container of the project, sorted by service.
func projectContainers(ctx context.Context, project string) ([]*containerInfo, error) {
	ids, err := containersByLabel(ctx, labelProject+"="+project)
	if err != nil {
		return nil, err
	}
	var out []*containerInfo
	for _, id := range ids {
		info, err := inspectContainer(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Config.Labels[labelService] < out[j].Config.Labels[labelService]
	})
	return out, nil
}

func sortedCopy(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// resourceInfo is the part of `docker network/volume inspect` the observations use.
type resourceInfo struct {
	Name   string
	Labels map[string]string
}

// projectResources inspects the project's networks or volumes (kind "network" or "volume").
func projectResources(ctx context.Context, kind, project string) ([]resourceInfo, error) {
	out, err := docker(ctx, kind, "ls", "-q", "--filter", "label="+labelProject+"="+project)
	if err != nil {
		return nil, err
	}
	names := strings.Fields(out)
	if len(names) == 0 {
		return nil, nil
	}
	out, err = docker(ctx, append([]string{kind, "inspect", "--format", "{{json .}}"}, names...)...)
	if err != nil {
		return nil, err
	}
	var res []resourceInfo
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r resourceInfo
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("parse docker %s inspect: %w", kind, err)
		}
		res = append(res, r)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].Name < res[j].Name })
	return res, nil
}

// serviceContainer returns the id of the service's container in the session's project.
func (s *session) serviceContainer(svc string) (string, error) {
	ids, err := containersByLabel(s.ctx, labelProject+"="+s.project())
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		info, err := inspectContainer(s.ctx, id)
		if err == nil && info.Config.Labels[labelService] == svc {
			return id, nil
		}
	}
	return "", fmt.Errorf("no container for service %s in project %s", svc, s.project())
}

// stopProject stops every running container of the project with docker, as a user closing the
// workspace (or a reboot) would; with services, only those services' containers.
func (s *session) stopProject(services ...string) {
	if s.broken != "" {
		return
	}
	cs, err := projectContainers(s.ctx, s.project())
	if err != nil {
		s.fail(err)
		return
	}
	var ids []string
	for _, c := range cs {
		if c.State.Running && (len(services) == 0 || slices.Contains(services, c.Config.Labels[labelService])) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	// -t 1: the fixtures' processes ignore SIGTERM as PID 1 (exit 137 either way), no need to wait.
	if _, err := docker(s.ctx, append([]string{"stop", "-t", "1"}, ids...)...); err != nil {
		s.fail(err)
	}
}

// removeComposeProject removes every container, network and volume carrying the project label
// and the images the tools built for the workspace that those containers ran. (The reference's
// override files are in the session's folder: runSession sets TMPDIR.)
func removeComposeProject(ctx context.Context, project string) error {
	var errs []string
	cs, err := projectContainers(ctx, project)
	if err != nil {
		errs = append(errs, err.Error())
	}
	var ids, images []string
	for _, c := range cs {
		ids = append(ids, c.ID)
		// Images the tools built for this session's workspace or project (Features, UID
		// update, service builds) carry the workspace's hash or the project's name; images
		// built from a fixture Dockerfile also carry the run label (removeWorkspace).
		if img := c.Config.Image; (strings.HasPrefix(img, "vsc-") || strings.HasPrefix(img, project)) && !slices.Contains(images, img) {
			images = append(images, img)
		}
	}
	if len(ids) > 0 {
		if _, err := docker(ctx, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, img := range images {
		if _, err := docker(ctx, "rmi", img); err != nil && !strings.Contains(err.Error(), "No such image") {
			errs = append(errs, err.Error())
		}
	}
	for _, kind := range []string{"network", "volume"} {
		out, err := docker(ctx, kind, "ls", "-q", "--filter", "label="+labelProject+"="+project)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if names := strings.Fields(out); len(names) > 0 {
			if _, err := docker(ctx, append([]string{kind, "rm"}, names...)...); err != nil {
				errs = append(errs, err.Error())
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up compose project %s: %s", project, strings.Join(errs, "; "))
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestComposeToolMissing: without a compose tool the compose cases fail (runCase calls
// t.Fatal with this error) and the message says how to install one.
func TestComposeToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // neither docker nor docker-compose
	err := composeTool(context.Background())
	if err == nil || !strings.Contains(err.Error(), "docker-compose") || !strings.Contains(err.Error(), "scripts/setup-debian.sh") {
		t.Errorf("composeTool() = %v, want an error naming docker-compose and the setup script", err)
	}
}
