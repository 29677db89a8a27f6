package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a specific exit code (exec passes the command's through).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// errPrinted marks an error whose JSON result was already printed.
type errPrinted struct{ err error }

func (e errPrinted) Error() string { return e.err.Error() }

// Main runs mochi with args and returns the process exit code.
func Main(args []string, ios *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(ios)
	root.SetArgs(args)
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	err := root.ExecuteContext(ctx)
	return exitCode(err, ios)
}

// exitCode maps an error to the process exit code, printing it if nobody has.
func exitCode(err error, ios *IOStreams) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var p errPrinted
	if !errors.As(err, &p) {
		fmt.Fprintf(ios.ErrOut, "mochi: %v\n", err)
	}
	return 1
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:           "mochi",
		Short:         "Development containers from devcontainer.json, on Docker, reachable over SSH",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see mochi %s --help)", c.Name(), err, c.Name())
	})
	root.AddCommand(
		newUpCmd(ios),
		newBuildCmd(ios),
		newExecCmd(ios),
		newReadConfigurationCmd(ios),
		newRunUserCommandsCmd(ios),
		newSetUpCmd(ios),
		newStopCmd(ios, false),
		newStopCmd(ios, true),
		newListCmd(ios),
		newVersionCmd(ios),
		newAgentCmd(ios),
		newFeaturesCmd(ios),
		newServerCmd(ios),
		newSSHCmd(ios),
		newSSHConfigCmd(ios),
		newKeysCmd(ios),
		newPortsCmd(ios),
		newInitCmd(ios),
		newGitCredentialCmd(ios),
		newWorkspaceCmd(ios),
	)
	return root
}

// printJSON writes v as one JSON line on stdout.
func printJSON(ios *IOStreams, v any) error {
	enc := json.NewEncoder(ios.Out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	return nil
}

// errorResult is the reference's failure line.
type errorResult struct {
	Outcome     string `json:"outcome"`
	Message     string `json:"message"`
	Description string `json:"description"`
	ContainerID string `json:"containerId,omitempty"`
}

// fail prints the error JSON result and returns an error that exits 1 without more output.
func fail(ios *IOStreams, log logger, err error, containerID string) error {
	msg := err.Error()
	if log != nil {
		log.Error(msg)
	}
	_ = printJSON(ios, errorResult{Outcome: "error", Message: msg, Description: msg, ContainerID: containerID})
	return errPrinted{err}
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print mochi's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(ios.Out, version)
			return err
		},
	}
}
