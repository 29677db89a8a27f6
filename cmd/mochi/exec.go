package main

import (
	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/workspace"
)

func newExecCmd(ios *IOStreams) *cobra.Command {
	var (
		o workspace.ExecOptions
		c common
	)
	cmd := &cobra.Command{
		Use:   "exec [flags] CMD [ARGS...]",
		Short: "Run a command in the dev container as the remote user",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			o.Args = args
			o.Stdin, o.Stdout, o.Stderr = ios.In, ios.Out, ios.ErrOut
			o.Tty = (ios.InTTY && ios.OutTTY) || c.logFormat == "json"
			code, err := eng.Exec(cmd.Context(), o)
			if err != nil {
				log.Error(err.Error())
				return errPrinted{err}
			}
			if code != 0 {
				return exitError{code}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.SetInterspersed(false)
	c.register(fs)
	c.loc = &o.Locate
	registerLocate(fs, &o.Locate, true, true)
	fs.StringArrayVar(&o.RemoteEnv, "remote-env", nil, "remote environment variable (name=value); repeatable")
	fs.StringVar(&o.DefaultUserEnvProbe, "default-user-env-probe", "loginInteractiveShell", "default userEnvProbe")
	fs.StringVar(&o.ContainerDataFolder, "container-data-folder", "", "container folder for marker files")
	fs.StringVar(&o.SystemDataFolder, "container-system-data-folder", "", "container folder for system markers")
	fs.StringVar(&o.SessionDataFolder, "container-session-data-folder", "", "container folder caching the user env probe")
	return cmd
}
