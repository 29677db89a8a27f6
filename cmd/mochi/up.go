package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

// upFlags are the reference's up flags mochi accepts but does not implement yet: setting
// one is an error, never silently ignored.
type upUnsupported struct {
	cacheTo           string
	gpuAvailability   string
	buildkit          string
	worktreeCommonDir bool
}

func newUpCmd(ios *IOStreams) *cobra.Command {
	var (
		o        workspace.UpOptions
		c        common
		un       upUnsupported
		noServer bool
		// git set-up opt-outs
		noGitCreds, noGitConfig bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create and run the dev container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			if err := un.check(cmd); err != nil {
				return fail(ios, log, err, "")
			}
			o.Secrets = c.secrets
			res, err := eng.Up(cmd.Context(), o)
			if err != nil {
				id := ""
				if res != nil {
					id = res.ContainerID
				}
				return fail(ios, log, err, id)
			}
			// The host's git credentials and identity, unless opted out.
			// Once per container: it lives in the container's git config.
			g := workspace.GitOptions{Credentials: !noGitCreds && !noServer, Config: !noGitConfig}
			if res.Created {
				if err := eng.SetUpGit(cmd.Context(), o.Locate, o.HookOptions, g); err != nil {
					log.Warn("git set-up in the workspace: " + err.Error())
				}
			}
			if v, _ := ios.LookupEnv("MOCHI_NO_SERVER"); v != "" && v != "0" {
				noServer = true
			}
			if !noServer && res.Workspace != "" {
				if err := exposeWorkspace(cmd.Context(), ios, eng, res.Workspace); err != nil {
					log.Warn("workspace is up but not reachable over SSH: " + err.Error())
				}
			}
			return printJSON(ios, res)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.loc = &o.Locate
	c.registerSecrets(fs)
	registerLocate(fs, &o.Locate, false, true)
	registerHooks(fs, &o.HookOptions)
	registerSkips(fs, &o.HookOptions)
	fs.BoolVar(&o.RemoveExisting, "remove-existing-container", false, "remove the existing container first")
	fs.BoolVar(&o.ExpectExisting, "expect-existing-container", false, "fail if the container does not exist")
	fs.BoolVar(&o.BuildNoCache, "build-no-cache", false, "build without the layer cache")
	fs.BoolVar(&o.SkipPostCreate, "skip-post-create", false, "run no lifecycle hook after create")
	fs.StringArrayVar(&o.Mounts, "mount", nil, "extra mount type=(bind|volume),source=…,target=…[,external=(true|false)]; repeatable")
	fs.BoolVar(&o.IncludeConfiguration, "include-configuration", false, "add the configuration to the result")
	fs.BoolVar(&o.IncludeMergedConfiguration, "include-merged-configuration", false, "add the merged configuration to the result")
	fs.StringVar(&o.WorkspaceMountConsistency, "workspace-mount-consistency", "cached", "consistency of the workspace mount (non-Linux hosts): consistent, cached or delegated")
	fs.StringVar(&o.UpdateRemoteUserUIDDefault, "update-remote-user-uid-default", "on", "default for updateRemoteUserUID: never, on or off")
	fs.StringArrayVar(&o.CacheFrom, "cache-from", nil, "additional image to use as build cache; repeatable")
	fs.StringVar(&o.Additional, "additional-features", "", "additional features to apply (JSON object)")
	fs.BoolVar(&noGitCreds, "no-git-credentials", false, "do not let git in the workspace use the host's git credentials")
	fs.BoolVar(&noGitConfig, "no-git-config", false, "do not copy the host's git user.name/user.email into the workspace")
	fs.BoolVar(&noServer, "no-server", false, "do not start mochi's server (SSH gateway) or write ssh config entries (also MOCHI_NO_SERVER=1)")
	fs.StringVar(&un.cacheTo, "cache-to", "", "build cache export (needs BuildKit)")
	fs.BoolVar(&o.NoLockfile, "no-lockfile", false, "do not write devcontainer-lock.json")
	fs.BoolVar(&o.FrozenLockfile, "frozen-lockfile", false, "fail if devcontainer-lock.json would change")
	fs.BoolVar(&o.Offline, "offline", false, "resolve features from the lockfile and mochi's cache only (no network)")
	fs.StringVar(&un.gpuAvailability, "gpu-availability", "detect", "GPU availability: all, detect or none")
	fs.StringVar(&un.buildkit, "buildkit", "auto", "auto or never; mochi always uses the engine's classic builder")
	fs.BoolVar(&un.worktreeCommonDir, "mount-git-worktree-common-dir", false, "also mount a worktree's common git folder")
	return cmd
}

func (u *upUnsupported) check(cmd *cobra.Command) error {
	for _, name := range []string{"cache-to", "mount-git-worktree-common-dir"} {
		if cmd.Flags().Changed(name) {
			return fmt.Errorf("--%s is not supported by mochi yet", name)
		}
	}
	switch u.buildkit {
	case "auto", "never":
	default:
		return fmt.Errorf("--buildkit %q: want auto or never", u.buildkit)
	}
	switch u.gpuAvailability {
	case "all", "detect", "none":
	default:
		return fmt.Errorf("--gpu-availability %q: want all, detect or none", u.gpuAvailability)
	}
	return nil
}
