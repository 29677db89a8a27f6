package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"

	"github.com/mochi-dev/mochi/compose"
	"github.com/mochi-dev/mochi/providers"
)

// composeKeepAlive is the kind of entrypoint the workspace engine gives the main service.
var composeKeepAlive = []string{"/bin/sh", "-c", "echo Container started; trap 'exit 0' 15; while sleep 1 & wait $!; do :; done", "-"}

// composeProject writes files into a fresh workspace, loads the project under a unique name
// and removes everything it creates (containers, networks, volumes, built images) at cleanup.
func composeProject(t *testing.T, p *Provider, files map[string]string) (*compose.Orchestrator, *compose.Project) {
	t.Helper()
	ws := t.TempDir()
	for name, content := range files {
		path := filepath.Join(ws, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "mochitest-" + strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(t.Name(), "")) + "-" + hex.EncodeToString(b[:])
	proj, err := compose.Load(testCtx(t), compose.LoadOptions{
		Files:           []string{".devcontainer/docker-compose.yml"},
		WorkspaceFolder: ws,
		Env:             map[string]string{"COMPOSE_PROJECT_NAME": name},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := compose.New(p.ComposeEngine(), p.log)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := o.Down(ctx, name, true); err != nil {
			t.Errorf("down: %v", err)
		}
		imgs, _ := p.cli.ImageList(ctx, image.ListOptions{})
		for _, img := range imgs {
			for _, tag := range img.RepoTags {
				if strings.HasPrefix(tag, name+"-") {
					_ = p.RemoveImage(ctx, tag)
				}
			}
		}
	})
	return o, proj
}

const threeServices = `
services:
  app:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    volumes:
      - data:/data
      - ..:/workspace
    depends_on:
      db:
        condition: service_healthy
      web:
        condition: service_started
  web:
    build:
      context: ../web
      labels: {mochi.test: "1"}
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
    networks: [default, backend]
  db:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    # the healthcheck succeeds once /ready appears, two seconds after the start
    command: ["sh", "-c", "sleep 2; : > /ready; echo db ready; exec sleep 1000"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /ready"]
      interval: 1s
      timeout: 2s
      retries: 30
    networks:
      default:
        aliases: [database]
volumes:
  data:
    labels: {mochi.test: "1"}
networks:
  default:
    labels: {mochi.test: "1"}
  backend:
    labels: {mochi.test: "1"}
`

const webDockerfile = "FROM mochi-test/busybox:latest\nRUN mkdir -p /www && echo hello-from-web > /www/index.html\nEXPOSE 8080\n"

func TestComposeThreeServices(t *testing.T) {
	p := engine(t)
	ctx := testCtx(t)
	o, proj := composeProject(t, p, map[string]string{
		".devcontainer/docker-compose.yml": threeServices,
		"web/Dockerfile":                   webDockerfile,
	})
	opts := compose.UpOptions{MainService: "app", Main: compose.MainOverrides{
		Entrypoint: composeKeepAlive,
		Cmd:        []string{},
		Labels:     map[string]string{"devcontainer.local_folder": "/somewhere"},
		Env:        map[string]string{"FROM_DEVCONTAINER": "yes"},
	}}
	mainID, err := o.Up(ctx, proj, opts)
	if err != nil {
		t.Fatal(err)
	}
	name := proj.Name

	// The dependency was healthy before the main service started.
	db, err := p.cli.ContainerInspect(ctx, name+"-db-1")
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.cli.ContainerInspect(ctx, mainID)
	if err != nil {
		t.Fatal(err)
	}
	if db.State.Health == nil || db.State.Health.Status != "healthy" {
		t.Errorf("db health %+v", db.State.Health)
	}
	if app.Name != "/"+name+"-app-1" || !app.State.Running {
		t.Errorf("main container %s running=%v", app.Name, app.State.Running)
	}

	// Service discovery: names and aliases resolve, and the env vars are set.
	out := execOut(t, p, mainID, "sh", "-c", "busybox wget -qO- http://web:8080/ && busybox wget -qO- http://$MOCHI_SERVICE_WEB_HOST:$MOCHI_SERVICE_WEB_PORT/ && busybox ping -c1 -W2 database >/dev/null && echo $FROM_DEVCONTAINER $MOCHI_SERVICE_DB_HOST")
	if want := "hello-from-web\nhello-from-web\nyes db\n"; out != want {
		t.Errorf("discovery from the main container: %q, want %q", out, want)
	}

	checkComposeNames(t, p, proj, mainID)

	// Up again while running: nothing is recreated.
	ids := projectIDs(t, p, name)
	if again, err := o.Up(ctx, proj, opts); err != nil || again != mainID {
		t.Fatalf("second up: %s, %v", again, err)
	}
	if got := projectIDs(t, p, name); got != ids {
		t.Errorf("containers changed on a second up:\n%s\n%s", ids, got)
	}

	// Restart a stopped project: the same containers start again.
	if err := o.Shutdown(ctx, name, compose.ShutdownStopCompose); err != nil {
		t.Fatal(err)
	}
	st, err := o.Status(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.State != "exited" {
			t.Errorf("after stop, %s is %s", s.Name, s.State)
		}
	}
	if again, err := o.Up(ctx, proj, opts); err != nil || again != mainID {
		t.Fatalf("up after stop: %s, %v", again, err)
	}
	if got := projectIDs(t, p, name); got != ids {
		t.Errorf("containers were recreated after a stop:\n%s\n%s", ids, got)
	}
	st, _ = o.Status(ctx, name)
	for _, s := range st {
		if s.State != "running" {
			t.Errorf("after the restart, %s is %s", s.Name, s.State)
		}
	}

	// A changed main service is recreated; the others are kept.
	opts.Main.Env["FROM_DEVCONTAINER"] = "changed"
	newMain, err := o.Up(ctx, proj, opts)
	if err != nil {
		t.Fatal(err)
	}
	if newMain == mainID {
		t.Errorf("changed main service was not recreated")
	}
	if out := execOut(t, p, newMain, "sh", "-c", "echo $FROM_DEVCONTAINER"); out != "changed\n" {
		t.Errorf("recreated main env %q", out)
	}
}

// checkComposeNames checks names and labels against what Docker Compose v2 creates.
// Docker Compose v1 (Debian's docker-compose 1.29) differs: container names use "_"
// (<project>_<service>_1), built images are <project>_<service>, its config-hash is computed
// from a different service dictionary (so v1 and v2 recreate each other's containers), and
// it writes no depends_on, image or config_files-independent labels beyond project, service,
// container-number, oneoff, config-hash, version, working_dir and config_files.
func checkComposeNames(t *testing.T, p *Provider, proj *compose.Project, mainID string) {
	t.Helper()
	ctx := testCtx(t)
	name := proj.Name
	app, err := p.cli.ContainerInspect(ctx, mainID)
	if err != nil {
		t.Fatal(err)
	}
	l := app.Config.Labels
	want := map[string]string{
		"com.docker.compose.project":              name,
		"com.docker.compose.service":              "app",
		"com.docker.compose.container-number":     "1",
		"com.docker.compose.oneoff":               "False",
		"com.docker.compose.project.config_files": filepath.Join(proj.WorkingDir, "docker-compose.yml"),
		"com.docker.compose.project.working_dir":  proj.WorkingDir,
		"com.docker.compose.version":              compose.ComposeVersion,
		"com.docker.compose.depends_on":           "db:service_healthy:false,web:service_started:false",
		"com.docker.compose.image":                app.Image,
		"devcontainer.local_folder":               "/somewhere",
		"mochi.test":                              "1",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("label %s = %q, want %q", k, l[k], v)
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(l["com.docker.compose.config-hash"]) {
		t.Errorf("config-hash %q", l["com.docker.compose.config-hash"])
	}
	if _, ok := app.NetworkSettings.Networks[name+"_default"]; !ok {
		t.Errorf("main container not on %s_default: %v", name, app.NetworkSettings.Networks)
	}
	web, err := p.cli.ContainerInspect(ctx, name+"-web-1")
	if err != nil {
		t.Fatal(err)
	}
	if web.Config.Image != name+"-web" {
		t.Errorf("web image %q, want %s-web", web.Config.Image, name)
	}
	for _, n := range []string{name + "_default", name + "_backend"} {
		if _, ok := web.NetworkSettings.Networks[n]; !ok {
			t.Errorf("web is not on network %s", n)
		}
	}
	nw, err := p.cli.NetworkInspect(ctx, name+"_default", network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if nw.Labels["com.docker.compose.network"] != "default" || nw.Labels["com.docker.compose.project"] != name {
		t.Errorf("network labels %v", nw.Labels)
	}
	vol, err := p.cli.VolumeInspect(ctx, name+"_data")
	if err != nil {
		t.Fatal(err)
	}
	if vol.Labels["com.docker.compose.volume"] != "data" || vol.Labels["com.docker.compose.project"] != name {
		t.Errorf("volume labels %v", vol.Labels)
	}
	dbAliases := ""
	db, _ := p.cli.ContainerInspect(ctx, name+"-db-1")
	if ep := db.NetworkSettings.Networks[name+"_default"]; ep != nil {
		dbAliases = strings.Join(ep.Aliases, ",")
	}
	for _, a := range []string{name + "-db-1", "db", "database"} {
		if !strings.Contains(","+dbAliases+",", ","+a+",") {
			t.Errorf("db aliases %q lack %q", dbAliases, a)
		}
	}
}

func projectIDs(t *testing.T, p *Provider, project string) string {
	t.Helper()
	cs, err := p.ComposeEngine().Containers(testCtx(t), map[string]string{"com.docker.compose.project": project})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s=%s ", c.Name, c.ID)
	}
	return b.String()
}

func execOut(t *testing.T, p *Provider, id string, cmd ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	code, err := p.Exec(testCtx(t), id, providers.ExecSpec{Cmd: cmd, Stdout: &out, Stderr: &errOut})
	if err != nil || code != 0 {
		t.Errorf("exec %q: code %d err %v stderr %s", cmd, code, err, errOut.String())
	}
	return out.String()
}

func TestComposeUnhealthyDependency(t *testing.T) {
	p := engine(t)
	ctx := testCtx(t)
	o, proj := composeProject(t, p, map[string]string{".devcontainer/docker-compose.yml": `
services:
  app:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    depends_on:
      helper: {condition: service_started}
      db: {condition: service_healthy}
  helper:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["sleep", "1000"]
  db:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["sh", "-c", "echo db-log-line-before-failure; exec sleep 1000"]
    healthcheck:
      test: ["CMD-SHELL", "echo probe-says-no; exit 1"]
      interval: 1s
      retries: 2
networks:
  default:
    labels: {mochi.test: "1"}
`})
	_, err := o.Up(ctx, proj, compose.UpOptions{MainService: "app", Main: compose.MainOverrides{Entrypoint: composeKeepAlive}})
	if !errors.Is(err, compose.ErrDependency) {
		t.Fatalf("error %v, want ErrDependency", err)
	}
	for _, w := range []string{"db is unhealthy", "probe-says-no", "db-log-line-before-failure"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	st, err := o.Status(ctx, proj.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Service == "app" {
			t.Errorf("app container exists although its dependency failed")
		}
		if s.State == "running" {
			t.Errorf("%s still running after the failed up", s.Name)
		}
	}
}

func TestComposePortInUse(t *testing.T) {
	p := engine(t)
	ctx := testCtx(t)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	o, proj := composeProject(t, p, map[string]string{".devcontainer/docker-compose.yml": fmt.Sprintf(`
services:
  app:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    depends_on: [first, web]
  first:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["sleep", "1000"]
  web:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    depends_on: [first]
    command: ["busybox", "httpd", "-f", "-p", "80"]
    ports: ["127.0.0.1:%d:80"]
networks:
  default:
    labels: {mochi.test: "1"}
`, port)})
	_, err = o.Up(ctx, proj, compose.UpOptions{MainService: "app", Main: compose.MainOverrides{Entrypoint: composeKeepAlive}})
	if !errors.Is(err, compose.ErrPortInUse) || !strings.Contains(err.Error(), "start service web") {
		t.Fatalf("error %v, want ErrPortInUse for web", err)
	}
	st, _ := o.Status(ctx, proj.Name)
	for _, s := range st {
		if s.State == "running" {
			t.Errorf("%s still running after the failed up", s.Name)
		}
	}
}

// TestComposeV1Differential checks, with Debian's docker-compose 1.29 (the only Compose on
// machines without the v2 plugin), that a project is shared between the tools: v1 lists what
// mochi started, and mochi finds and takes over what v1 started. v1 differs from v2 (and so
// from mochi) in container names (<project>_<service>_1), in com.docker.compose.version, in
// a relative com.docker.compose.project.config_files, and in its config-hash, so mochi
// recreates v1's containers under v2 names instead of reusing them; networks
// (<project>_default) and volumes (<project>_<volume>) have the same names in both.
func TestComposeV1Differential(t *testing.T) {
	p := engine(t)
	v1, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Skip("docker-compose (v1, Debian package docker-compose) is not installed")
	}
	ctx := testCtx(t)
	o, proj := composeProject(t, p, map[string]string{".devcontainer/docker-compose.yml": `
services:
  app:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["sleep", "1000"]
    depends_on: [web]
  web:
    image: mochi-test/busybox:latest
    labels: {mochi.test: "1"}
    stop_grace_period: 1s
    command: ["sleep", "1000"]
`})
	file := proj.ConfigFiles[0]
	compose1 := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, v1, append([]string{"-p", proj.Name, "-f", file}, args...)...)
		cmd.Env = append(os.Environ(), "COMPOSE_INTERACTIVE_NO_CLI=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	// v1 lists the containers mochi started.
	if _, err := o.Up(ctx, proj, compose.UpOptions{MainService: "app"}); err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(compose1("ps", "-q"))
	st, err := o.Status(ctx, proj.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || len(st) != 2 {
		t.Fatalf("docker-compose v1 ps -q lists %q; mochi has %d containers", ids, len(st))
	}
	for _, s := range st {
		if !strings.Contains(strings.Join(ids, " "), s.ContainerID) {
			t.Errorf("v1 does not list %s (%s)", s.Name, s.ContainerID)
		}
	}
	if err := o.Down(ctx, proj.Name, true); err != nil {
		t.Fatal(err)
	}

	// mochi sees what v1 started and takes the project over.
	compose1("up", "-d")
	st, err = o.Status(ctx, proj.Name)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range st {
		names = append(names, s.Name+"="+s.State)
	}
	if want := proj.Name + "_app_1=running " + proj.Name + "_web_1=running"; strings.Join(names, " ") != want {
		t.Errorf("mochi status of a v1 project: %q, want %q", names, want)
	}
	if _, err := o.Up(ctx, proj, compose.UpOptions{MainService: "app"}); err != nil {
		t.Fatal(err)
	}
	st, _ = o.Status(ctx, proj.Name)
	names = names[:0]
	for _, s := range st {
		names = append(names, s.Name+"="+s.State)
	}
	if want := proj.Name + "-app-1=running " + proj.Name + "-web-1=running"; strings.Join(names, " ") != want {
		t.Errorf("after mochi up on a v1 project: %q, want %q", names, want)
	}
}
