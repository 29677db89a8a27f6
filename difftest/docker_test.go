package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// The harness talks to Docker through the docker CLI so that it observes containers the same
// way a user would, independently of both tools under test.

// docker runs the docker CLI and returns stdout; a non-zero exit is an error carrying stderr.
func docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// dockerProbe is the engine probe for testenv.RequireEngine.
func dockerProbe() error {
	_, err := docker(context.Background(), "version", "--format", "{{.Server.Version}}")
	return err
}

// containerInfo is the part of `docker inspect` the observations use.
type containerInfo struct {
	ID      string
	Name    string
	Created string
	Image   string
	State   struct {
		Status    string
		Running   bool
		ExitCode  int
		StartedAt string
		Health    *struct{ Status string }
	}
	Config struct {
		Image      string
		Env        []string
		Labels     map[string]string
		Entrypoint []string
		Cmd        []string
		User       string
		WorkingDir string
		Hostname   string
		StopSignal string
	}
	NetworkSettings struct {
		Networks map[string]struct{ Aliases []string }
		Ports    map[string][]struct{ HostIp, HostPort string }
	}
	HostConfig struct {
		CapAdd        []string
		RestartPolicy struct {
			Name              string
			MaximumRetryCount int
		}
		ReadonlyRootfs bool
		Tmpfs          map[string]string
		NetworkMode    string
		IpcMode        string
		VolumesFrom    []string
		Memory         int64
		MemorySwap     int64
		NanoCpus       int64
		CpuShares      int64
		PidsLimit      *int64
		OomScoreAdj    int
	}
	Mounts []struct {
		Type        string
		Name        string
		Source      string
		Destination string
		RW          bool
	}
}

// inspectContainer returns the container's inspect data.
func inspectContainer(ctx context.Context, id string) (*containerInfo, error) {
	out, err := docker(ctx, "inspect", "--type", "container", id)
	if err != nil {
		return nil, err
	}
	var infos []containerInfo
	if err := json.Unmarshal([]byte(out), &infos); err != nil || len(infos) != 1 {
		return nil, fmt.Errorf("parse docker inspect %s: %v", id, err)
	}
	return &infos[0], nil
}

// containersByLabel lists all containers (running or not) carrying label k=v.
func containersByLabel(ctx context.Context, kv string) ([]string, error) {
	out, err := docker(ctx, "ps", "-aq", "--no-trunc", "--filter", "label="+kv)
	if err != nil {
		return nil, err
	}
	return strings.Fields(out), nil
}

// removeWorkspace removes every container of a workspace (found by the devcontainer id label
// both tools set), the named volumes those containers used whose name marks them as ours, and
// every image carrying the case's run label (fixture Dockerfiles set it on each stage).
func removeWorkspace(ctx context.Context, localFolder, runID string) error {
	var errs []string
	ids, err := containersByLabel(ctx, "devcontainer.local_folder="+localFolder)
	if err != nil {
		errs = append(errs, err.Error())
	}
	var volumes []string
	for _, id := range ids {
		if info, err := inspectContainer(ctx, id); err == nil {
			for _, m := range info.Mounts {
				if m.Type == "volume" && strings.HasPrefix(m.Name, volumePrefix) {
					volumes = append(volumes, m.Name)
				}
			}
		}
	}
	if len(ids) > 0 {
		if _, err := docker(ctx, append([]string{"rm", "-f", "-v"}, ids...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(volumes) > 0 {
		if _, err := docker(ctx, append([]string{"volume", "rm", "-f"}, volumes...)...); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := removeImages(ctx, "label="+runLabel+"="+runID); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up %s: %s", localFolder, strings.Join(errs, "; "))
	}
	return nil
}

// removeImages removes every image matching the filter. Children must go before their parents
// and `docker images` gives no order, so it removes in rounds until nothing matches.
func removeImages(ctx context.Context, filter string) error {
	var last error
	for range 6 {
		out, err := docker(ctx, "images", "-aq", "--no-trunc", "--filter", filter)
		if err != nil {
			return err
		}
		imgs := uniq(strings.Fields(out))
		if len(imgs) == 0 {
			return nil
		}
		for _, img := range imgs {
			if _, err := docker(ctx, "rmi", "-f", img); err != nil {
				last = err
			}
		}
	}
	return fmt.Errorf("images matching %s remain: %v", filter, last)
}

func uniq(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
