package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/gitcred"
)

// gitCredentialTimeout bounds one request to the host (its helpers may ask the user).
const gitCredentialTimeout = 2 * time.Minute

func newGitCredentialCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "Git credential helper inside a workspace: asks the host's git for credentials",
		Long: "git-credential is the credential helper mochi configures in workspaces\n" +
			"(credential.helper = " + gitcred.HelperCommand + "). It forwards git's request to\n" +
			"mochi's server on the host, which answers with the host's own credential helpers.\n" +
			"MOCHI_GIT_CREDENTIAL_SOCKET overrides the socket (default " + gitcred.ContainerSocket + ").",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"get", "store", "erase"},
		RunE: func(cmd *cobra.Command, args []string) error {
			sock := gitcred.ContainerSocket
			if v, ok := ios.LookupEnv("MOCHI_GIT_CREDENTIAL_SOCKET"); ok && v != "" {
				sock = v
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), gitCredentialTimeout)
			defer cancel()
			return gitcred.Forward(ctx, sock, args[0], ios.In, ios.Out)
		},
	}
}
