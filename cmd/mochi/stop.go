package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

func newStopCmd(ios *IOStreams, down bool) *cobra.Command {
	var (
		o workspace.StopOptions
		c common
	)
	use, short := "stop", "Stop the dev container"
	if down {
		use, short = "down", "Stop and remove the dev container (volumes kept unless --volumes)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return fail(ios, nil, err, "")
			}
			o.Remove = down
			res, err := eng.Stop(cmd.Context(), o)
			if err != nil {
				return fail(ios, log, err, "")
			}
			if res.Workspace != "" {
				if home, err := mochiHome(ios); err == nil {
					_, optedOut := os.Stat(filepath.Join(home, noIncludeFile))
					if _, err := newGatewayFiles(home).writeSSHConfig(eng, optedOut == nil); err != nil {
						log.Warn("could not update the ssh config: " + err.Error())
					}
				}
			}
			return printJSON(ios, res)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.loc = &o.Locate
	registerLocate(fs, &o.Locate, true, false)
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Second, "how long to wait for the container to stop before killing it")
	if down {
		fs.BoolVar(&o.Volumes, "volumes", false, "also remove the container's anonymous volumes")
	}
	return cmd
}

func newListCmd(ios *IOStreams) *cobra.Command {
	var (
		c      common
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dev containers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.provider = providerDocker
			eng, log, raw, err := c.engine(ios)
			if err != nil {
				return err
			}
			entries, err := eng.List(cmd.Context())
			if err != nil {
				return err
			}
			// LXC workspaces too, where LXC is usable.
			if home, err := mochiHome(ios); err == nil {
				if exe, err := os.Executable(); err == nil {
					if le, err := newEngine(providerLXC, ios, log, raw, exe, home); err == nil {
						if more, err := le.List(cmd.Context()); err == nil {
							entries = append(entries, more...)
						}
					}
				}
			}
			if asJSON {
				data, err := json.Marshal(entries)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(ios.Out, "%s\n", data)
				return err
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CONTAINER\tPROVIDER\tSTATE\tFOLDER\tIMAGE\tSERVICES")
			for _, e := range entries {
				var svcs []string
				for _, s := range e.Services {
					st := s.State
					if s.Health != "" {
						st += "/" + s.Health
					}
					svcs = append(svcs, s.Service+":"+st)
				}
				fmt.Fprintf(tw, "%.12s\t%s\t%s\t%s\t%s\t%s\n", e.ContainerID, e.Provider, e.State, e.Folder, e.Image, strings.Join(svcs, " "))
			}
			return tw.Flush()
		},
	}
	c.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
