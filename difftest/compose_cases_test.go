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
}
