package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"
)

func newSSHCmd(ios *IOStreams) *cobra.Command {
	var (
		c     common
		stdio bool
	)
	cmd := &cobra.Command{
		Use:   "ssh NAME [-- CMD...]",
		Short: "Connect to a workspace through the gateway (or, with --stdio, act as a ProxyCommand)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			g := newGatewayFiles(home)
			if err := ensureServer(cmd.Context(), g); err != nil {
				return err
			}
			if stdio {
				return proxyStdio(cmd.Context(), ios, g.serverAddr())
			}
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			if _, err := g.writeSSHConfig(eng, true); err != nil {
				return err
			}
			sshBin, err := exec.LookPath("ssh")
			if err != nil {
				return fmt.Errorf("mochi ssh runs OpenSSH's ssh, which is not installed: %w", err)
			}
			argv := []string{"ssh", "-F", g.sshConfig, args[0] + ".mochi"}
			argv = append(argv, args[1:]...)
			return syscall.Exec(sshBin, argv, os.Environ())
		},
	}
	c.register(cmd.Flags())
	cmd.Flags().BoolVar(&stdio, "stdio", false, "relay stdin/stdout to the gateway (use as ProxyCommand)")
	return cmd
}

// proxyStdio relays stdin/stdout to the gateway's TCP port.
func proxyStdio(ctx context.Context, ios *IOStreams, addr string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to the gateway at %s: %w", addr, err)
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(conn, ios.In)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	go func() {
		_, _ = io.Copy(ios.Out, conn)
		close(done)
	}()
	<-done
	return nil
}

func newSSHConfigCmd(ios *IOStreams) *cobra.Command {
	var (
		c         common
		noInclude bool
	)
	cmd := &cobra.Command{
		Use:   "ssh-config",
		Short: "Write and print the Host NAME.mochi entries (and the Include line in ~/.ssh/config)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			if noInclude {
				if err := os.WriteFile(filepath.Join(home, noIncludeFile), nil, 0o600); err != nil {
					return err
				}
			}
			_, optedOut := os.Stat(filepath.Join(home, noIncludeFile))
			path, err := newGatewayFiles(home).writeSSHConfig(eng, optedOut == nil)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			_, err = ios.Out.Write(data)
			return err
		},
	}
	c.register(cmd.Flags())
	cmd.Flags().BoolVar(&noInclude, "no-include", false, "do not add the Include line to ~/.ssh/config")
	return cmd
}

func newKeysCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the keys the gateway lets in"}
	var ws string
	add := &cobra.Command{
		Use:   "add FILE.pub --workspace NAME",
		Short: "Let another public key into a workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ws == "" {
				return fmt.Errorf("keys add: --workspace is required")
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read key: %w", err)
			}
			key, comment, _, _, err := ssh.ParseAuthorizedKey(data)
			if err != nil {
				return fmt.Errorf("%s: not a public key: %w", args[0], err)
			}
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			if err := newGatewayFiles(home).grant(ws, key, comment); err != nil {
				return err
			}
			fmt.Fprintf(ios.Out, "granted %s to %s\n", ssh.FingerprintSHA256(key), ws)
			return nil
		},
	}
	add.Flags().StringVar(&ws, "workspace", "", "workspace the key may enter")
	cmd.AddCommand(add)
	return cmd
}
