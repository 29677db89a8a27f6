package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/features"
	"github.com/mochi-dev/mochi/workspace"
)

func newFeaturesCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "features", Short: "Dev Container Features: inspect, resolve, package, publish"}
	cmd.AddCommand(newFeaturesInfoCmd(ios), newFeaturesResolveCmd(ios), newFeaturesPackageCmd(ios), newFeaturesPublishCmd(ios))
	return cmd
}

func newFeaturesInfoCmd(ios *IOStreams) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "info [manifest|tags|verbose] REF",
		Short: "Show a published feature's manifest and tags",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode, ref := "verbose", args[len(args)-1]
			if len(args) == 2 {
				mode = args[0]
			}
			switch mode {
			case "manifest", "tags", "verbose":
			default:
				return fmt.Errorf("features info: unknown mode %q (want manifest, tags or verbose)", mode)
			}
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			info, err := eng.FeatureResolver(false).Info(cmd.Context(), ref)
			if err != nil {
				return err
			}
			out := map[string]any{}
			if mode != "tags" {
				out["manifest"] = json.RawMessage(info.Manifest)
				out["canonicalId"] = info.CanonicalID
			}
			if mode != "manifest" {
				out["publishedTags"] = info.Tags
			}
			return printJSON(ios, out)
		},
	}
	c.register(cmd.Flags())
	return cmd
}

func newFeaturesResolveCmd(ios *IOStreams) *cobra.Command {
	var (
		c   common
		loc workspace.Locate
		fo  workspace.FeatureOptions
	)
	cmd := &cobra.Command{
		Use:   "resolve-dependencies",
		Short: "Print the workspace's features in install order",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			set, err := eng.ResolveFeatures(cmd.Context(), loc, fo)
			if err != nil {
				return err
			}
			fmt.Fprint(ios.ErrOut, set.Mermaid())
			return printJSON(ios, map[string]any{"installOrder": set.InstallOrder()})
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	fs.StringVar(&loc.WorkspaceFolder, "workspace-folder", "", "host path of the workspace folder (default: current directory)")
	fs.StringVar(&loc.ConfigFile, "config", "", "devcontainer.json path")
	fs.StringVar(&fo.Additional, "additional-features", "", "additional features (JSON object)")
	fs.BoolVar(&fo.Offline, "offline", false, "resolve from the lockfile and cache only")
	loc.MountWorkspaceGitRoot = true
	return cmd
}

func newFeaturesPackageCmd(ios *IOStreams) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "package DIR",
		Short: "Package a feature or a collection of features into .tgz archives",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pkgs, err := features.Package(args[0], out)
			if err != nil {
				return err
			}
			var names []string
			for _, p := range pkgs {
				names = append(names, p.Archive)
			}
			return printJSON(ios, map[string]any{"outcome": "success", "archives": names})
		},
	}
	cmd.Flags().StringVarP(&out, "output-folder", "o", "./output", "where the archives are written")
	return cmd
}

func newFeaturesPublishCmd(ios *IOStreams) *cobra.Command {
	var (
		c                   common
		registry, namespace string
	)
	cmd := &cobra.Command{
		Use:   "publish DIR",
		Short: "Publish a feature or collection to an OCI registry with semantic tags",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if registry == "" || namespace == "" {
				return fmt.Errorf("features publish: --registry and --namespace are required")
			}
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			res, err := eng.FeatureResolver(false).Publish(cmd.Context(), args[0], registry, namespace)
			if err != nil {
				return err
			}
			out := map[string]any{}
			for id, p := range res.Features {
				out[id] = p
			}
			return printJSON(ios, out)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	fs.StringVarP(&registry, "registry", "r", "", "registry host (e.g. 127.0.0.1:5000)")
	fs.StringVarP(&namespace, "namespace", "n", "", "namespace (e.g. myorg/features)")
	return cmd
}
