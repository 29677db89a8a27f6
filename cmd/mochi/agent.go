package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
)

func newAgentCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:    "agent",
		Short:  "The in-workspace agent (runs inside workspaces)",
		Hidden: true,
	}
	var (
		stdio       bool
		listen      string
		authKeys    string
		opts        agent.Options
		logLevelStr string
	)
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve mochi's agent protocol (SSH) on stdio or a unix socket",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevelStr)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			opts.Logger = slog.New(slog.NewTextHandler(ios.ErrOut, &slog.HandlerOptions{Level: lvl}))
			if authKeys != "" {
				keys, err := readAuthorizedKeys(authKeys)
				if err != nil {
					return err
				}
				opts.AuthorizedKeys = keys
			}
			switch {
			case stdio && listen != "":
				return fmt.Errorf("--stdio and --listen exclude each other")
			case stdio:
				opts.Private = true
				return agent.Serve(cmd.Context(), stdioStream{ios}, opts)
			case listen != "":
				l, err := listenUnix(listen)
				if err != nil {
					return err
				}
				return agent.ServeListener(cmd.Context(), l, opts)
			}
			return fmt.Errorf("say --stdio or --listen PATH")
		},
	}
	fs := serve.Flags()
	fs.BoolVar(&stdio, "stdio", false, "serve one connection on stdin/stdout (a private stream)")
	fs.StringVar(&listen, "listen", "", "serve on this unix socket (requires --authorized-keys)")
	fs.StringVar(&authKeys, "authorized-keys", "", "file of keys clients must prove")
	fs.StringVar(&opts.User, "user", "", "default session user")
	fs.StringVar(&opts.Dir, "dir", "", "default working folder of exec sessions")
	fs.StringArrayVar(&opts.Env, "env", nil, "environment KEY=VALUE for every session; repeatable")
	fs.StringVar(&logLevelStr, "log-level", "warn", "log level: debug, info, warn or error")
	cmd.AddCommand(serve)
	return cmd
}

func readAuthorizedKeys(path string) ([]ssh.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read authorized keys: %w", err)
	}
	var keys []ssh.PublicKey
	for len(data) > 0 {
		k, _, _, rest, err := ssh.ParseAuthorizedKey(data)
		if err != nil {
			break
		}
		keys = append(keys, k)
		data = rest
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no public key in it", path)
	}
	return keys, nil
}

// listenUnix listens on a unix socket only its owner may use, replacing a stale one.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create socket folder: %w", err)
	}
	_ = os.Remove(path)
	old := syscallUmask(0o177)
	l, err := net.Listen("unix", path)
	syscallUmask(old)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	return l, nil
}

// stdioStream is the process's stdin/stdout as one stream.
type stdioStream struct{ ios *IOStreams }

func (s stdioStream) Read(p []byte) (int, error)  { return s.ios.In.Read(p) }
func (s stdioStream) Write(p []byte) (int, error) { return s.ios.Out.Write(p) }
func (s stdioStream) Close() error {
	if c, ok := s.ios.Out.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}
