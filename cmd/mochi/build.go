package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

func newBuildCmd(ios *IOStreams) *cobra.Command {
	var (
		o      workspace.BuildOptions
		c      common
		labels []string
		un     struct {
			platform, output, cacheTo, buildkit string
			push                                bool
		}
	)
	cmd := &cobra.Command{
		Use:   "build [path]",
		Short: "Build the dev container image",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			for _, name := range []string{"platform", "output", "cache-to", "push"} {
				if cmd.Flags().Changed(name) {
					return fail(ios, log, fmt.Errorf("--%s is not supported by mochi yet", name), "")
				}
			}
			o.Labels = map[string]string{}
			for _, l := range labels {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					return fail(ios, log, fmt.Errorf("--label %q: want name=value", l), "")
				}
				o.Labels[k] = v
			}
			res, err := eng.Build(cmd.Context(), o)
			if err != nil {
				return fail(ios, log, err, "")
			}
			return printJSON(ios, res)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.loc = &o.Locate
	fs.StringVar(&o.WorkspaceFolder, "workspace-folder", "", "host path of the workspace folder (default: current directory)")
	fs.StringVar(&o.ConfigFile, "config", "", "devcontainer.json path")
	fs.BoolVar(&o.NoCache, "no-cache", false, "build without the layer cache")
	fs.StringArrayVar(&o.ImageNames, "image-name", nil, "image name to tag; repeatable")
	fs.StringArrayVar(&o.CacheFrom, "cache-from", nil, "additional image to use as build cache; repeatable")
	fs.StringArrayVar(&labels, "label", nil, "image label name=value; repeatable")
	fs.StringVar(&un.platform, "platform", "", "target platforms (needs BuildKit)")
	fs.StringVar(&un.output, "output", "", "build output (needs BuildKit)")
	fs.StringVar(&un.cacheTo, "cache-to", "", "build cache export (needs BuildKit)")
	fs.StringVar(&un.buildkit, "buildkit", "auto", "auto or never; mochi always uses the classic builder")
	fs.BoolVar(&un.push, "push", false, "push the image (needs BuildKit)")
	fs.StringVar(&o.Additional, "additional-features", "", "additional features to apply (JSON object)")
	fs.BoolVar(&o.NoLockfile, "no-lockfile", false, "do not write devcontainer-lock.json")
	fs.BoolVar(&o.FrozenLockfile, "frozen-lockfile", false, "fail if devcontainer-lock.json would change")
	fs.BoolVar(&o.Offline, "offline", false, "resolve features from the lockfile and mochi's cache only (no network)")
	o.MountWorkspaceGitRoot = true
	return cmd
}
