package difftest

import (
	"fmt"
	"sort"
	"strings"
)

// The cases. Each name is also its fixture folder under testdata/ and its golden file under
// testdata/golden/. Steps record what a user can see; see session for the step vocabulary.

var (
	upExec       = []string{"up", "exec"}
	hooksLog     = "/tmp/hooks.log"
	whoAmI       = []string{"sh", "-c", `id; pwd; echo "HOME=$HOME"`}
	sortedEnv    = []string{"env"}
	localEnvVars = map[string]string{"MOCHI_DIFF_LOCAL": `local value with spaces, "quotes" and $dollar`}
)

var cases = []diffCase{
	{
		name: "build-features", needs: []string{"build"},
		steps: func(s *session) {
			s.build("build")
			s.imageLabels("image labels", "devcontainer.metadata", runLabel)
			s.imageRun("feature installed", "cat /usr/local/share/feature-greeting")
			s.build("build --image-name --label", "--image-name", "mochi-difftest-"+s.runID+"-named", "--label", runLabel+"="+s.runID)
			s.imageLabels("named image labels", "devcontainer.metadata", runLabel)
			s.imageRun("feature in the named image", "cat /usr/local/share/feature-greeting")
		},
	},
	{
		name: "image-debian", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec id/pwd/home", whoAmI...)
			s.execSorted("exec env", sortedEnv...)
			s.labels("labels")
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
			s.fileSorted("/etc/environment (sorted)", "/etc/environment")
			s.up("up again (reuses the container)")
			s.file("hooks after second up", hooksLog)
		},
	},
	{
		name: "busybox", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec id/pwd/home", whoAmI...)
			s.execSorted("exec env", sortedEnv...)
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
		},
	},
	{
		name: "dockerfile-args-target", needs: upExec,
		env: map[string]string{"MOCHI_DIFF_BUILD": "built from host env"},
		steps: func(s *session) {
			s.up("up")
			s.file("/built (written by the base and dev stages)", "/built")
			s.file("/prod-only (stage after the target)", "/prod-only")
			s.file("/context.txt (from build.context)", "/context.txt")
			s.labels("labels")
		},
	},
	{
		name: "workspace-mount", needs: []string{"up", "exec", "read-configuration"},
		steps: func(s *session) {
			s.up("up")
			s.exec("exec pwd", "pwd")
			s.exec("exec ls /src/sub", "ls", "/src/sub")
			s.file("hook cwd", "/tmp/hook-cwd")
			s.shell("/workspaces exists", "ls -A /workspaces 2>&1 || true")
			s.command("read-configuration", "read-configuration")
		},
	},
	{
		name: "mounts", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec read bind mounts", "sh", "-c", "cat /data-string/hello.txt /data-object/hello.txt")
			s.exec("exec write volume", "sh", "-c", "echo in-volume > /volume/f && cat /volume/f")
			s.inspect("docker mounts", mountsView)
		},
	},
	{
		name: "container-env", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.execSorted("exec env", sortedEnv...)
			s.exec("exec printf values", "sh", "-c", `for v in SPACES QUOTES DOLLAR BACKSLASH EQUALS EMPTY HASH UNICODE; do eval "printf '%s=[%s]\n' $v \"\$$v\""; done`)
			s.inspect("docker Config.Env", func(info *containerInfo) string { return sortLines(strings.Join(info.Config.Env, "\n")) })
			s.fileSorted("/etc/environment (sorted)", "/etc/environment")
		},
	},
	{
		name: "remote-env", needs: upExec, env: localEnvVars,
		steps: func(s *session) {
			s.up("up")
			s.execSorted("exec env", sortedEnv...)
			s.execSorted("exec env with --remote-env", "--remote-env", "CLI_ONLY=cli", "--remote-env", "FOO=from --remote-env", "--remote-env", "EMPTY_CLI=", "env")
			s.file("env seen by postCreateCommand", "/tmp/hook-env")
		},
	},
	{
		name: "remote-env-path", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec PATH", "sh", "-c", `echo "$PATH"; echo "$TOOLS"`)
			s.exec("exec a tool found through remoteEnv PATH", "mytool")
		},
	},
	{
		name: "remote-user", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec id/pwd/home", whoAmI...)
			s.execSorted("exec env", sortedEnv...)
			s.file("onCreate id", "/tmp/oncreate-id")
			s.file("postCreate who", "/tmp/postcreate-who")
			s.shell("container main process uid", "grep '^Uid:' /proc/1/status")
			s.markers("markers", "/home/alice")
		},
	},
	{
		name: "container-user", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec id/pwd/home", whoAmI...)
			s.file("postCreate id", "/tmp/postcreate-id")
			s.shell("container main process uid", "grep '^Uid:' /proc/1/status")
			s.markers("markers", "/home/bob")
		},
	},
	{
		name: "user-env-probe", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			// userEnvProbe is read from the current devcontainer.json at every exec, so one
			// container serves all four probes.
			for _, probe := range []string{"", "none", "loginShell", "interactiveShell", "loginInteractiveShell"} {
				cfg := `{"build": {"dockerfile": "Dockerfile"}, "remoteUser": "carol", "runArgs": ["--label", "mochi.test=1"]`
				step := "exec with the default probe"
				if probe != "" {
					cfg += fmt.Sprintf(`, "userEnvProbe": %q`, probe)
					step = "exec with userEnvProbe " + probe
				}
				s.writeConfig(cfg + "}")
				s.execSorted(step, "sh", "-c", `env | grep -E '^(FROM_|PATH=|HOME=|USER=|SHELL=|SHLVL=)' || true`)
			}
		},
	},
	{
		name: "lifecycle-forms", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.file("hooks", hooksLog)
			s.file("postCreate object entry first", "/tmp/postcreate-first")
			s.file("postCreate object entry second", "/tmp/postcreate-second")
			s.file("postCreate object entry argv", "/tmp/postcreate-argv")
			s.markers("markers", "/root")
			s.up("up again")
			s.file("hooks after second up", hooksLog)
		},
	},
	{
		name: "restart", needs: []string{"up", "run-user-commands"},
		steps: func(s *session) {
			s.up("up")
			s.stop()
			s.up("up after docker stop")
			s.file("hooks after stop and up", hooksLog)
			s.markers("markers", "/root")
			s.dockerRun("restart", "-t", "5")
			s.command("run-user-commands after docker restart", "run-user-commands")
			s.file("hooks after restart and run-user-commands", hooksLog)
		},
	},
	{
		name: "initialize-command", needs: []string{"up"},
		steps: func(s *session) {
			s.up("up")
			s.hostFile("host .init.log", ".init.log")
			s.file("init log seen by postCreate", "/tmp/seen-in-container")
			s.up("up again")
			s.hostFile("host .init.log after second up", ".init.log")
		},
	},
	{
		name: "initialize-command-array", needs: []string{"up"},
		steps: func(s *session) {
			s.up("up")
			s.hostFile("host .init.log", ".init.log")
		},
	},
	{
		name: "local-env", needs: []string{"up", "exec", "read-configuration"}, env: localEnvVars,
		steps: func(s *session) {
			s.command("read-configuration before up", "read-configuration")
			s.up("up")
			s.execSorted("exec env", sortedEnv...)
		},
	},
	{
		name: "devcontainer-id", needs: []string{"up", "exec", "read-configuration"},
		steps: func(s *session) {
			s.up("up")
			s.exec("exec ids", "sh", "-c", `echo "CE_ID=$CE_ID"; echo "RE_ID=$RE_ID"`)
			s.inspect("docker mounts", mountsView)
			s.command("read-configuration with the container", "read-configuration")
		},
	},
	{
		name: "run-args", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exec hostname and env", "sh", "-c", `cat /etc/hostname; echo "BOTH=$BOTH"; echo "RUNARG_ENV=$RUNARG_ENV"; grep difftest.invalid /etc/hosts`)
			s.inspect("docker labels and caps", func(info *containerInfo) string {
				return fmt.Sprintf("mochi.difftest.extra=%s\nCapAdd=%v\n", info.Config.Labels["mochi.difftest.extra"], info.HostConfig.CapAdd)
			})
		},
	},
	{
		name: "override-command", needs: upExec,
		steps: func(s *session) {
			s.up("up (overrideCommand false)")
			s.file("entrypoint ran", "/tmp/entrypoint-ran")
			s.file("cmd ran", "/tmp/cmd-ran")
			s.shell("pid 1", `tr '\0' ' ' < /proc/1/cmdline; echo`)
			s.writeConfig(`{"build": {"dockerfile": "Dockerfile"}, "overrideCommand": true, "runArgs": ["--label", "mochi.test=1"]}`)
			s.up("up --remove-existing-container (overrideCommand true)", "--remove-existing-container")
			s.file("entrypoint ran", "/tmp/entrypoint-ran")
			s.file("cmd ran", "/tmp/cmd-ran")
			s.exec("exec works", "echo", "ok")
		},
	},
	{
		name: "remove-existing", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.shell("mark the container", "touch /tmp/state && echo marked")
			s.up("up --remove-existing-container", "--remove-existing-container")
			s.shell("mark survived", "ls /tmp/state 2>&1 || true")
			s.file("hooks", hooksLog)
			s.inspect("number of workspace containers", func(*containerInfo) string {
				ids, err := s.containersByLabel("devcontainer.local_folder=" + s.ws)
				if err != nil {
					return err.Error()
				}
				return fmt.Sprint(len(ids))
			})
		},
	},
	{
		name: "cross-reuse", needs: upExec, cross: true,
		steps: func(s *session) {
			s.up("up by the first tool")
			s.then()
			s.up("up by the second tool")
			s.file("hooks", hooksLog)
			s.exec("exec by the second tool", whoAmI...)
			s.execSorted("exec env by the second tool", sortedEnv...)
			s.markers("markers", "/home/dave")
			s.labels("labels")
		},
	},
	{
		name: "cross-stopped", needs: upExec, cross: true,
		steps: func(s *session) {
			s.up("up by the first tool")
			s.stop()
			s.then()
			s.up("up by the second tool after docker stop")
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
		},
	},
	{
		name: "read-configuration", needs: []string{"up", "read-configuration"}, env: localEnvVars,
		steps: func(s *session) {
			s.command("read-configuration without a container", "read-configuration")
			s.command("read-configuration --include-merged-configuration without a container", "read-configuration", "--include-merged-configuration")
			s.up("up")
			s.command("read-configuration with the container", "read-configuration")
			s.command("read-configuration --include-merged-configuration with the container", "read-configuration", "--include-merged-configuration")
		},
	},
	{
		name: "exec-exit-code", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.exec("exit 7", "sh", "-c", "exit 7")
			s.exec("false", "false")
			// Only the code: the message comes from the engine's exec machinery.
			s.execCode("missing command", "/no/such/command")
			s.exec("killed by SIGTERM", "sh", "-c", "kill -TERM $$")
			s.exec("stdout only, not stderr", "sh", "-c", "echo out; echo err >&2")
			s.execFull("stdin is passed", "line one\nline two\n", false, "cat")
			s.exec("arguments are not re-split", "printf", "[%s]", "a b", "", "$HOME", "'q'")
		},
	},
	{
		name: "hook-failure", needs: upExec,
		steps: func(s *session) {
			s.up("up (postCreate fails)")
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
			s.up("up again")
			s.file("hooks after second up", hooksLog)
		},
	},
	{
		name: "config-root-file", needs: upExec,
		steps: func(s *session) {
			s.up("up")
			s.file("which config", "/tmp/which-config")
			s.labels("labels")
		},
	},
	{
		name: "config-subfolder", needs: []string{"up", "exec", "read-configuration"},
		steps: func(s *session) {
			s.useFlags("--config", s.ws+"/.devcontainer/sub/devcontainer.json")
			s.up("up --config .devcontainer/sub/devcontainer.json")
			s.file("which config", "/tmp/which-config")
			s.exec("exec (with --config)", "cat", "/built-from")
			s.labels("labels")
			s.command("read-configuration (with --config)", "read-configuration")
		},
	},
	{
		name: "skip-flags", needs: []string{"up", "run-user-commands"},
		steps: func(s *session) {
			s.up("up --skip-post-create", "--skip-post-create")
			s.file("hooks", hooksLog)
			s.markers("markers", "/root")
			s.command("run-user-commands --skip-post-attach", "run-user-commands", "--skip-post-attach")
			s.file("hooks after run-user-commands", hooksLog)
			s.up("up --skip-post-attach", "--skip-post-attach")
			s.file("hooks after up --skip-post-attach", hooksLog)
			s.up("up")
			s.file("hooks after plain up", hooksLog)
		},
	},
	{
		name: "initialize-command-object", needs: []string{"up"},
		steps: func(s *session) {
			s.up("up")
			s.hostFile("host .init-string", ".init-string")
			s.hostFile("host .init-array", ".init-array")
		},
	},
	{
		name: "git-root", needs: []string{"up", "exec", "read-configuration"},
		steps: func(s *session) {
			s.gitWorkspace("project")
			s.up("up")
			s.exec("exec pwd and the git root's file", "sh", "-c", "pwd; cat ../top.txt")
			s.inspect("docker mounts", mountsView)
			s.command("read-configuration", "read-configuration")
		},
	},
	{
		name: "up-include-configuration", needs: []string{"up"}, env: localEnvVars,
		steps: func(s *session) {
			s.fullUpJSON = true
			s.up("up --include-configuration --include-merged-configuration", "--include-configuration", "--include-merged-configuration")
		},
	},
}

// mountsView lists the container's mounts, sorted by destination. mochi's own mounts under
// /.mochi (the agent binary and its run folder, see DESIGN.md) are left out: they are the one
// designed addition to the container.
func mountsView(info *containerInfo) string {
	var lines []string
	for _, m := range info.Mounts {
		if strings.HasPrefix(m.Destination, "/.mochi/") {
			continue
		}
		src := m.Source
		if m.Type == "volume" {
			src = m.Name
		}
		lines = append(lines, fmt.Sprintf("%s %s -> %s rw=%v", m.Type, src, m.Destination, m.RW))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}
