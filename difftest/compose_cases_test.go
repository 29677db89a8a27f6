package difftest

// The compose cases (see compose_test.go for their steps and the project naming). They are
// kept apart from cases_test.go and joined to the list here.

func init() { cases = append(cases, composeCases...) }

var (
	// composeLabelsCommon are the compose labels both compose generations write with the same
	// meaning (config_files and version are observed on their own).
	composeLabelsCommon = []string{
		"com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.container-number",
		"com.docker.compose.oneoff", "com.docker.compose.project.working_dir", "mochi.test",
		"devcontainer.local_folder", "devcontainer.config_file",
	}
	labelConfigFiles = "com.docker.compose.project.config_files"
	envWithoutMochi  = []string{"sh", "-c", "env | grep -v '^MOCHI_SERVICE_'"}
	envMochiServices = []string{"sh", "-c", "env | grep '^MOCHI_SERVICE_' | sort; true"}
)

// composeProjectSteps records what the project is made of: services and their state, the
// container names and images, the compose labels, the networks (with the aliases) and the
// volumes.
func composeProjectSteps(s *session) {
	s.services("services")
	s.containerNames("container names")
	s.serviceImages("images")
	s.composeLabels("compose labels", composeLabelsCommon...)
	s.composeLabels("compose label config_files", labelConfigFiles)
	s.composeLabelKeys("compose label keys")
	s.versionLabels("compose version labels")
	s.resources("networks", "network")
	s.aliases("network aliases")
	s.resources("volumes", "volume")
}

var composeCases = []diffCase{
	{
		name: "compose-two-services", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			composeProjectSteps(s)
			s.composePs("compose ps (running services)", ".devcontainer/docker-compose.yml", ".devcontainer/docker-compose.extra.yml")
			s.exec("exec id/pwd/home", whoAmI...)
			s.execSorted("exec env (without MOCHI_SERVICE_*)", envWithoutMochi...)
			s.exec("exec MOCHI_SERVICE_* (mochi's service discovery)", envMochiServices...)
			s.exec("app reaches db by service name and alias", "bash", "-c",
				`for h in db database; do getent hosts $h >/dev/null && echo "$h resolves"; done
exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
			s.serviceShell("db reaches app by service name", "db", "busybox nslookup app >/dev/null 2>&1 && echo app resolves; echo DB_ROLE=$DB_ROLE")
			s.exec("workspace mounted", "ls", "-A", "/workspace")
			s.file("hooks", hooksLog)
			s.markers("markers", "/home/erin")
		},
	},
	{
		name: "compose-health", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.file("what app found when it started", "/tmp/app-start")
			s.file("what postCreateCommand found", "/tmp/seen-by-postcreate")
			s.containerNames("container names")
			s.composeLabelKeys("compose label keys")
			s.exec("exec MOCHI_SERVICE_* (mochi's service discovery)", envMochiServices...)
		},
	},
	{
		name: "compose-unhealthy", needs: []string{"up"}, compose: true,
		steps: func(s *session) {
			s.up("up (db never becomes healthy)")
			s.services("services after the failed up")
		},
	},
	{
		name: "compose-restart", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.up("up again (project running)")
			s.file("hooks", hooksLog)
			s.stopProject()
			s.services("services after docker stop")
			s.up("up after docker stop")
			s.services("services after up")
			s.file("hooks after stop and up", hooksLog)
			s.markers("markers", "/root")
			s.exec("app reaches db", "bash", "-c", `exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
			s.stopProject("db")
			s.up("up with only db stopped")
			s.services("services after up with only db stopped")
		},
	},
	{
		name: "compose-cross-reuse", needs: upExec, compose: true, cross: true,
		steps: func(s *session) {
			s.up("up by the first tool")
			s.then()
			s.up("up by the second tool")
			s.services("services")
			s.composePs("compose ps (running services)", ".devcontainer/docker-compose.yml")
			s.containerNames("container names")
			s.composeLabels("compose labels", composeLabelsCommon...)
			s.file("hooks", hooksLog)
			s.exec("exec by the second tool", whoAmI...)
			s.execSorted("exec env by the second tool (without MOCHI_SERVICE_*)", envWithoutMochi...)
			s.exec("app reaches db", "bash", "-c", `exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
		},
	},
	{
		name: "compose-cross-stopped", needs: upExec, compose: true, cross: true,
		steps: func(s *session) {
			s.up("up by the first tool")
			s.stopProject()
			s.then()
			s.up("up by the second tool after docker stop")
			s.services("services")
			s.containerNames("container names")
			s.composeLabels("compose labels", composeLabelsCommon...)
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
			s.exec("exec by the second tool", whoAmI...)
			s.exec("app reaches db", "bash", "-c", `exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
		},
	},
	{
		name: "compose-env-features", needs: []string{"up", "exec", "read-configuration", "build"}, compose: true, env: localEnvVars,
		steps: func(s *session) {
			s.command("read-configuration before up", "read-configuration")
			s.up("up")
			s.services("services")
			s.execSorted("exec env (without MOCHI_SERVICE_*)", envWithoutMochi...)
			s.file("hooks", hooksLog)
			s.file("service command ran (overrideCommand true)", "/tmp/cmd-ran")
			s.shell("pid 1", `tr '\0' ' ' < /proc/1/cmdline; echo`)
			s.inspect("docker mounts", mountsView)
			s.resources("volumes", "volume")
			s.serviceImages("images")
			s.labels("labels")
			s.command("read-configuration", "read-configuration")
			s.command("read-configuration --include-merged-configuration", "read-configuration", "--include-merged-configuration")
			s.build("build (the image service's Features image)")
			s.imageLabels("built image labels", "devcontainer.metadata")
		},
	},
	{
		name: "compose-limits", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.limits("limits and volumes_from")
			s.exec("volume shared by volumes_from", "cat", "/data/from-data")
			s.shell("memory limit seen inside", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes")
		},
	},
	{
		name: "compose-secrets", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.shell("secrets", "for f in /run/secrets/*; do echo \"$f: $(cat $f)\"; done; cat /etc/absolute-secret")
			s.shell("configs", `for f in /settings /etc/app/settings.ini; do cat "$f" 2>/dev/null || echo "$f missing"; done`)
			s.shell("absolute secret is read-only", "cat /etc/absolute-secret; echo x > /etc/absolute-secret 2>/dev/null && echo writable || echo read-only")
			s.inspect("secret and config mounts", secretMountsView)
		},
	},
	{
		name: "compose-build", needs: []string{"build"}, compose: true,
		steps: func(s *session) {
			s.build("build")
			s.imageLabels("image labels", "devcontainer.metadata", runLabel)
			s.imageRun("feature and Dockerfile in the image", "cat /usr/local/share/feature-greeting; id -un frank")
			s.build("build --image-name", "--image-name", "mochi-difftest-"+s.runID+"-named")
			s.imageRun("feature in the named image", "cat /usr/local/share/feature-greeting")
		},
	},
	{
		name: "compose-defaults", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.publishedPorts("published ports")
			s.exec("exec pwd", "pwd")
			s.execSorted("exec env (without MOCHI_SERVICE_*)", envWithoutMochi...)
			s.exec("exec MOCHI_SERVICE_* (mochi's service discovery)", envMochiServices...)
			s.serviceShell("db runs under an init", "db", "busybox cat /proc/1/cmdline | busybox tr '\\0' ' '; echo")
			s.exec("app reaches db", "bash", "-c", `exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
		},
	},
	{
		name: "compose-remove-existing", needs: []string{"up", "exec", "run-user-commands"}, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.shell("mark the main container", "touch /tmp/state && echo marked")
			s.serviceShell("mark the db container", "db", "echo marked > /state && echo marked")
			s.up("up --remove-existing-container", "--remove-existing-container")
			s.services("services after up --remove-existing-container")
			s.shell("main container mark survived", "ls /tmp/state 2>&1 || true")
			s.serviceShell("db container mark survived", "db", "busybox cat /state 2>&1 || true")
			s.file("hooks", hooksLog)
			s.command("run-user-commands", "run-user-commands")
			s.file("hooks after run-user-commands", hooksLog)
		},
	},
	{
		name: "compose-cross-build", needs: upExec, compose: true, cross: true,
		steps: func(s *session) {
			s.up("up by the first tool")
			s.stopProject()
			s.then()
			s.up("up by the second tool after docker stop")
			s.services("services")
			s.file("hooks", hooksLog)
			s.markers("markers", "/home/frank")
			s.exec("exec by the second tool", whoAmI...)
			s.exec("feature installed", "cat", "/usr/local/share/feature-greeting")
			s.exec("app reaches db", "bash", "-c", `exec 3<>/dev/tcp/db/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
		},
	},
	{
		name: "compose-name", needs: []string{"up"}, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
		},
	},
	{
		name: "compose-service-config", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.serviceConfig("service config", "app")
			s.capAdd("cap_add")
			s.containerNames("container names")
			s.resources("networks", "network")
			s.aliases("network aliases")
			s.exec("what app resolves", "bash", "-c",
				`for h in db db-back worker; do getent hosts $h >/dev/null && echo "$h resolves" || echo "$h does not resolve"; done`)
		},
	},
	{
		name: "compose-default-files", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.composeLabels("compose labels", append(composeLabelsCommon, "com.docker.compose.project.environment_file")...)
			s.composeLabels("compose label config_files", labelConfigFiles)
			s.exec("exec env from the files", "sh", "-c", `echo "DOTENV=$DOTENV"; echo "FROM_OVERRIDE=$FROM_OVERRIDE"; ls /workspace`)
		},
	},
	{
		name: "compose-network-mode", needs: upExec, compose: true,
		steps: func(s *session) {
			s.up("up")
			s.services("services")
			s.namespaces("namespaces")
			s.exec("app reaches db on localhost", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
			s.exec("app resolves db", "sh", "-c", "getent hosts db >/dev/null && echo db resolves || echo db does not resolve")
			s.stopProject()
			s.up("up after docker stop")
			s.services("services after up")
			s.exec("app reaches db on localhost after the restart", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && tail -n 1 <&3`)
		},
	},
}
