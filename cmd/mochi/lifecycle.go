package main

import (
	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

func newRunUserCommandsCmd(ios *IOStreams) *cobra.Command {
	var (
		loc workspace.Locate
		ho  workspace.HookOptions
		c   common
	)
	cmd := &cobra.Command{
		Use:   "run-user-commands",
		Short: "Run the lifecycle hooks in an existing dev container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			ho.Secrets = c.secrets
			res, err := eng.RunUserCommands(cmd.Context(), loc, ho)
			if err != nil {
				return fail(ios, log, err, "")
			}
			return printJSON(ios, map[string]string{"outcome": "success", "result": res})
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.loc = &loc
	c.registerSecrets(fs)
	registerLocate(fs, &loc, true, true)
	registerHooks(fs, &ho)
	registerSkips(fs, &ho)
	fs.BoolVar(&ho.StopForPersonalize, "stop-for-personalization", false, "stop before postStartCommand (after dotfiles)")
	return cmd
}

func newSetUpCmd(ios *IOStreams) *cobra.Command {
	var (
		loc                  workspace.Locate
		ho                   workspace.HookOptions
		c                    common
		withConfig, withMrgd bool
	)
	cmd := &cobra.Command{
		Use:   "set-up",
		Short: "Set up an already running container as a dev container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			ho.Secrets = c.secrets
			res, err := eng.SetUp(cmd.Context(), loc, ho, withConfig, withMrgd)
			if err != nil {
				return fail(ios, log, err, "")
			}
			return printJSON(ios, res)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.registerSecrets(fs)
	fs.StringVar(&loc.ContainerID, "container-id", "", "id of the container to set up (required)")
	fs.StringVar(&loc.ConfigFile, "config", "", "devcontainer.json path (optional)")
	registerHooks(fs, &ho)
	fs.BoolVar(&withConfig, "include-configuration", false, "add the configuration to the result")
	fs.BoolVar(&withMrgd, "include-merged-configuration", false, "add the merged configuration to the result")
	_ = cmd.MarkFlagRequired("container-id")
	return cmd
}
