package difftest

import (
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// The steps of the compose cases: each records one view of the session's compose project, read
// with the docker CLI (see compose_test.go for the project and its cleanup).

// projectView records one line per container of the project (sorted by service), made by view.
func (s *session) projectView(step string, view func(svc string, c *containerInfo) string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	cs, err := projectContainers(s.ctx, s.project())
	if err != nil {
		s.fail(err)
		return
	}
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(view(c.Config.Labels[labelService], c))
	}
	if len(cs) == 0 {
		b.WriteString("<no containers>\n")
	}
	s.record(step, b.String())
}

// services records each service's container state (with health and exit code where they mean
// something).
func (s *session) services(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		line := svc + " " + c.State.Status
		if c.State.Health != nil {
			line += " health=" + c.State.Health.Status
		}
		if !c.State.Running {
			line += fmt.Sprintf(" exit=%d", c.State.ExitCode)
		}
		return line + "\n"
	})
}

// containerNames records each service's container name.
func (s *session) containerNames(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		return svc + " " + strings.TrimPrefix(c.Name, "/") + "\n"
	})
}

// serviceImages records the image each service's container was created from.
func (s *session) serviceImages(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		return svc + " " + folderImageHash.ReplaceAllString(c.Config.Image, "-<folder hash>") + "\n"
	})
}

// folderImageHash is the SHA-256 of the workspace path in the reference's image names
// (vsc-<folder>-<hash>[-uid]).
var folderImageHash = regexp.MustCompile(`-[0-9a-f]{64}\b`)

// serviceConfig records how the compose properties reached the containers of the services other
// than main (whose entrypoint and environment each tool sets up its own way): an explicit
// container name, command, user, folders, hostname, restart policy, file system, environment,
// mounts and networks. Capabilities are recorded by capAdd.
func (s *session) serviceConfig(step, main string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		if svc == main {
			return ""
		}
		var b strings.Builder
		p := func(k string, v any) { fmt.Fprintf(&b, "%s %s=%v\n", svc, k, v) }
		if name := strings.TrimPrefix(c.Name, "/"); !strings.HasPrefix(name, s.project()+"_") && !strings.HasPrefix(name, s.project()+"-"+svc+"-") {
			p("container_name", name) // the default names are in containerNames
		}
		p("entrypoint", c.Config.Entrypoint)
		p("cmd", c.Config.Cmd)
		p("user", c.Config.User)
		p("working_dir", c.Config.WorkingDir)
		hostname := c.Config.Hostname
		if len(c.ID) >= 12 && hostname == c.ID[:12] {
			hostname = "<short container id>"
		}
		p("hostname", hostname)
		p("stop_signal", c.Config.StopSignal)
		p("restart", fmt.Sprintf("%s:%d", c.HostConfig.RestartPolicy.Name, c.HostConfig.RestartPolicy.MaximumRetryCount))
		p("read_only", c.HostConfig.ReadonlyRootfs)
		p("tmpfs", c.HostConfig.Tmpfs)
		p("env", sortedCopy(c.Config.Env))
		p("mounts", strings.ReplaceAll(strings.TrimSpace(mountsView(c)), "\n", "; "))
		p("networks", sortedKeys(c.NetworkSettings.Networks))
		return b.String()
	})
}

// namespaces records each service's network and IPC mode, a container named by its service.
func (s *session) namespaces(step string) {
	cs, err := projectContainers(s.ctx, s.project())
	if err != nil && s.broken == "" {
		s.fail(err)
	}
	byID := map[string]string{}
	for _, c := range cs {
		byID[c.ID] = c.Config.Labels[labelService]
	}
	name := func(mode string) string {
		if id, ok := strings.CutPrefix(mode, "container:"); ok && byID[id] != "" {
			return "container:<" + byID[id] + ">"
		}
		return mode
	}
	s.projectView(step, func(svc string, c *containerInfo) string {
		return fmt.Sprintf("%s network_mode=%s ipc=%s\n", svc, name(c.HostConfig.NetworkMode), name(c.HostConfig.IpcMode))
	})
}

// capAdd records each service's added capabilities as the engine stored them.
func (s *session) capAdd(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		return fmt.Sprintf("%s %v\n", svc, c.HostConfig.CapAdd)
	})
}

// publishedPorts records each service's published ports with the host address (the host port
// is picked by the engine and not recorded).
func (s *session) publishedPorts(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		var b strings.Builder
		for _, port := range sortedKeys(c.NetworkSettings.Ports) {
			for _, bind := range c.NetworkSettings.Ports[port] {
				fmt.Fprintf(&b, "%s %s -> %s:<port>\n", svc, port, bind.HostIp)
			}
		}
		return b.String()
	})
}

// referenceOverride matches the override files the reference writes into its user data folder
// and lists in com.docker.compose.project.config_files; the name carries a time and a UUID.
var referenceOverride = regexp.MustCompile(`/[^,]*/docker-compose/docker-compose\.devcontainer\.(build|containerFeatures)-[^,/]*\.yml`)

// composeLabels records the given labels of each service's container.
func (s *session) composeLabels(step string, keys ...string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		var b strings.Builder
		for _, k := range keys {
			v, ok := c.Config.Labels[k]
			if !ok {
				v = "<absent>"
			}
			v = referenceOverride.ReplaceAllString(v, "<reference override: $1>")
			fmt.Fprintf(&b, "%s %s=%s\n", svc, k, v)
		}
		return b.String()
	})
}

// composeLabelKeys records which com.docker.compose.* labels each container, network and volume
// of the project carries.
func (s *session) composeLabelKeys(step string) {
	s.projectLabels(step, func(labels map[string]string) string {
		var ks []string
		for _, k := range sortedKeys(labels) {
			if strings.HasPrefix(k, "com.docker.compose.") {
				ks = append(ks, k)
			}
		}
		return strings.Join(ks, " ")
	})
}

// projectLabels records one line per container (by service), network and volume of the
// project: what view makes of its labels.
func (s *session) projectLabels(step string, view func(labels map[string]string) string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	var b strings.Builder
	cs, err := projectContainers(s.ctx, s.project())
	if err != nil {
		s.fail(err)
		return
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "container %s: %s\n", c.Config.Labels[labelService], view(c.Config.Labels))
	}
	for _, kind := range []string{"network", "volume"} {
		rs, err := projectResources(s.ctx, kind, s.project())
		if err != nil {
			s.fail(err)
			return
		}
		for _, r := range rs {
			fmt.Fprintf(&b, "%s %s: %s\n", kind, r.Name, view(r.Labels))
		}
	}
	s.record(step, b.String())
}

// aliases records each container's aliases on each network, without the container's short id
// (the engine adds it, whoever creates the container).
func (s *session) aliases(step string) {
	s.projectView(step, func(svc string, c *containerInfo) string {
		var b strings.Builder
		for _, n := range sortedKeys(c.NetworkSettings.Networks) {
			var as []string
			for _, a := range c.NetworkSettings.Networks[n].Aliases {
				if len(c.ID) < 12 || a != c.ID[:12] {
					as = append(as, a)
				}
			}
			slices.Sort(as)
			fmt.Fprintf(&b, "%s %s: %s\n", svc, n, strings.Join(as, " "))
		}
		return b.String()
	})
}

// resources records the project's networks or volumes with their labels, except the compose
// version label (see versionLabels) and the config hash, whose presence composeLabelKeys records
// and whose value is each tool's own.
func (s *session) resources(step, kind string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	rs, err := projectResources(s.ctx, kind, s.project())
	if err != nil {
		s.fail(err)
		return
	}
	var b strings.Builder
	for _, r := range rs {
		var labels []string
		for _, k := range sortedKeys(r.Labels) {
			if k != "com.docker.compose.version" && k != "com.docker.compose.config-hash" {
				labels = append(labels, k+"="+r.Labels[k])
			}
		}
		fmt.Fprintf(&b, "%s %s\n", r.Name, strings.Join(labels, " "))
	}
	if len(rs) == 0 {
		b.WriteString("<none>\n")
	}
	s.record(step, b.String())
}

// versionLabels records com.docker.compose.version on the project's containers, networks and
// volumes: the version of the tool that created each.
func (s *session) versionLabels(step string) {
	s.projectLabels(step, func(labels map[string]string) string { return labels["com.docker.compose.version"] })
}

// serviceShell runs a shell snippet as root in a service's container with docker exec (outside
// both tools) and records its output. The snippet must exit 0.
func (s *session) serviceShell(step, svc, script string) {
	if !s.ready(step) {
		return
	}
	id, err := s.serviceContainer(svc)
	if err != nil {
		s.fail(err)
		return
	}
	// -u 0: service images need not have a passwd file (the busybox one has none).
	out, err := docker(s.ctx, "exec", "-u", "0", id, "sh", "-c", script)
	if err != nil {
		s.fail(err)
		return
	}
	s.record(step, out)
}

// composePs records the running services the compose tool itself lists for the project (`ps
// --services --filter status=running` with the given compose files, relative to the
// workspace): a project either tool made is the compose tool's project too.
func (s *session) composePs(step string, files ...string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	args := []string{"-p", s.project()}
	for _, f := range files {
		args = append(args, "-f", filepath.Join(s.ws, f))
	}
	args = append(args, "ps", "--services", "--filter", "status=running")
	name := "docker-compose"
	if _, err := docker(s.ctx, "compose", "version"); err == nil {
		name, args = "docker", append([]string{"compose"}, args...)
	}
	cmd := exec.CommandContext(s.ctx, name, args...)
	cmd.Dir = s.ws
	out, err := cmd.Output()
	if err != nil {
		s.fail(fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err))
		return
	}
	s.record(step, sortLines(string(out)))
}

// limits records each service's resource limits and volumes_from (a container id in it as the
// service of that container).
func (s *session) limits(step string) {
	services := map[string]string{}
	if cs, err := projectContainers(s.ctx, s.project()); err == nil {
		for _, c := range cs {
			services[c.ID] = "<container of " + c.Config.Labels[labelService] + ">"
		}
	}
	s.projectView(step, func(svc string, c *containerInfo) string {
		h := c.HostConfig
		pids := "unset"
		if h.PidsLimit != nil && *h.PidsLimit > 0 {
			pids = fmt.Sprint(*h.PidsLimit)
		}
		var from []string
		for _, v := range h.VolumesFrom {
			id, mode, _ := strings.Cut(v, ":")
			if name, ok := services[id]; ok {
				id = name
			}
			from = append(from, strings.TrimSuffix(id+":"+mode, ":"))
		}
		return fmt.Sprintf("%s memory=%d swap=%d nanocpus=%d shares=%d pids=%s oom_score_adj=%d volumes_from=%q\n",
			svc, h.Memory, h.MemorySwap, h.NanoCpus, h.CpuShares, pids, h.OomScoreAdj, from)
	})
}

// secretMountsView records the container's bind mounts of files under the workspace's
// .devcontainer folder (the secrets' and configs' sources), sorted by target.
func secretMountsView(info *containerInfo) string {
	var lines []string
	for _, m := range info.Mounts {
		if m.Type == "bind" && strings.Contains(m.Source, "/.devcontainer/") {
			lines = append(lines, fmt.Sprintf("%s <- %s rw=%v", m.Destination, path.Base(m.Source), m.RW))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
