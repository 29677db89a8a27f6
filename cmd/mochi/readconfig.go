package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

func newReadConfigurationCmd(ios *IOStreams) *cobra.Command {
	var (
		o        workspace.ReadConfigOptions
		c        common
		features bool
		addl     string
	)
	cmd := &cobra.Command{
		Use:   "read-configuration",
		Short: "Print the dev container configuration as JSON",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			if features || addl != "" {
				return fail(ios, log, fmt.Errorf("--include-features-configuration and --additional-features are not supported by mochi yet"), "")
			}
			res, err := eng.ReadConfiguration(cmd.Context(), o)
			if err != nil {
				return fail(ios, log, err, "")
			}
			return printJSON(ios, res)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.loc = &o.Locate
	registerLocate(fs, &o.Locate, true, true)
	fs.BoolVar(&o.IncludeMerged, "include-merged-configuration", false, "add the merged configuration")
	fs.BoolVar(&features, "include-features-configuration", false, "add the features configuration")
	fs.StringVar(&addl, "additional-features", "", "additional features to apply (JSON object)")
	return cmd
}
