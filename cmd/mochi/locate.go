package main

import (
	"github.com/spf13/pflag"

	"github.com/mochi-dev/mochi/workspace"
)

// registerLocate adds the flags that find a workspace's config and container.
func registerLocate(fs *pflag.FlagSet, l *workspace.Locate, withContainerID, withOverride bool) {
	fs.StringVar(&l.WorkspaceFolder, "workspace-folder", "", "host path of the workspace folder (default: current directory)")
	fs.StringVar(&l.ConfigFile, "config", "", "devcontainer.json path (default: .devcontainer/devcontainer.json, then .devcontainer.json)")
	fs.StringArrayVar(&l.IDLabels, "id-label", nil, "label (name=value) that identifies the container; repeatable; replaces the defaults")
	fs.BoolVar(&l.MountWorkspaceGitRoot, "mount-workspace-git-root", true, "mount the workspace's Git root instead of the folder")
	if withOverride {
		fs.StringVar(&l.OverrideConfig, "override-config", "", "devcontainer.json whose content replaces the config's")
	}
	if withContainerID {
		fs.StringVar(&l.ContainerID, "container-id", "", "id of the container to use")
	}
}

// registerHooks adds the flags shared by up, run-user-commands and set-up.
func registerHooks(fs *pflag.FlagSet, h *workspace.HookOptions) {
	fs.StringArrayVar(&h.RemoteEnv, "remote-env", nil, "remote environment variable (name=value) for hooks; repeatable")
	fs.StringVar(&h.DefaultUserEnvProbe, "default-user-env-probe", "loginInteractiveShell", "default userEnvProbe: none, loginInteractiveShell, interactiveShell or loginShell")
	fs.StringVar(&h.ContainerDataFolder, "container-data-folder", "", "container folder for mochi's and the reference's marker files (default ~/.devcontainer)")
	fs.StringVar(&h.SystemDataFolder, "container-system-data-folder", "", "container folder for system markers (default /var/devcontainer)")
	fs.StringVar(&h.SessionDataFolder, "container-session-data-folder", "", "container folder caching the user env probe")
	fs.StringVar(&h.Dotfiles.Repository, "dotfiles-repository", "", "dotfiles repository URL or owner/repo")
	fs.StringVar(&h.Dotfiles.InstallCommand, "dotfiles-install-command", "", "dotfiles install command")
	fs.StringVar(&h.Dotfiles.TargetPath, "dotfiles-target-path", "~/dotfiles", "dotfiles clone target")
}

// registerSkips adds the hook-skipping flags of up and run-user-commands.
func registerSkips(fs *pflag.FlagSet, h *workspace.HookOptions) {
	fs.BoolVar(&h.SkipNonBlocking, "skip-non-blocking-commands", false, "stop after the waitFor hook")
	fs.BoolVar(&h.Prebuild, "prebuild", false, "stop after onCreateCommand and updateContentCommand, re-running updateContentCommand")
	fs.BoolVar(&h.SkipPostAttach, "skip-post-attach", false, "do not run postAttachCommand")
}
