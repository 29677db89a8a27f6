package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/initcfg"
)

func newInitCmd(ios *IOStreams) *cobra.Command {
	var o initcfg.Options
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a starter .devcontainer/devcontainer.json for the project",
		Long: "init detects the project's language from its files (go.mod, package.json, pyproject.toml,\n" +
			"requirements.txt, Cargo.toml, pom.xml, build.gradle) and writes a starter\n" +
			".devcontainer/devcontainer.json. The image defaults to " + initcfg.DefaultImage + "; language\n" +
			"tooling is suggested in comments. An existing configuration is kept unless --force.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if o.Folder == "" {
				wd, err := os.Getwd()
				if err != nil {
					return fmt.Errorf("find current directory: %w", err)
				}
				o.Folder = wd
			}
			abs, err := filepath.Abs(o.Folder)
			if err != nil {
				return fmt.Errorf("workspace folder %s: %w", o.Folder, err)
			}
			o.Folder = abs
			res, err := initcfg.Write(o)
			if err != nil {
				return err
			}
			lang := res.Language.Name
			if res.Marker != "" {
				lang += " (" + res.Marker + ")"
			}
			_, err = fmt.Fprintf(ios.Out, "wrote %s: %s project\n", res.Path, lang)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Folder, "workspace-folder", "", "project folder (default: current directory)")
	fs.StringVar(&o.Image, "image", "", "image of the dev container (default "+initcfg.DefaultImage+")")
	fs.StringArrayVar(&o.Features, "feature", nil, "feature reference to add; repeatable")
	fs.BoolVar(&o.Force, "force", false, "overwrite an existing configuration")
	return cmd
}
