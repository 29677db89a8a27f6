package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/sshgate"
	"github.com/mochi-dev/mochi/workspace"
)

func newServerCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{Use: "server", Short: "Run and manage mochi's server (the SSH gateway)"}
	cmd.AddCommand(newServerStartCmd(ios), newServerStatusCmd(ios), newServerStopCmd(ios))
	return cmd
}

func newServerStartCmd(ios *IOStreams) *cobra.Command {
	var (
		c            common
		addr         string
		background   bool
		startStopped bool
	)
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start the gateway (in the foreground unless --background)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			g := newGatewayFiles(home)
			if _, ok := g.serverRunning(cmd.Context()); ok {
				return fmt.Errorf("a mochi server is already running at %s", g.serverAddr())
			}
			if background {
				return startBackground(cmd.Context(), g, addr, startStopped)
			}
			return runServer(cmd.Context(), ios, &c, g, addr, startStopped)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	fs.StringVar(&addr, "listen-ssh", sshgate.DefaultAddr, "address the SSH gateway listens on")
	fs.BoolVar(&background, "background", false, "start in the background and return once it listens")
	fs.BoolVar(&startStopped, "start-stopped", false, "start a stopped workspace when a client connects to it")
	return cmd
}

// runServer serves the gateway until the process is told to stop.
func runServer(ctx context.Context, ios *IOStreams, c *common, g gatewayFiles, addr string, startStopped bool) error {
	// The gateway's live heap is small (connection buffers) while bulk transfers allocate a
	// packet buffer per SSH packet: collecting about a quarter as often took its CPU per
	// 512 MiB scp from 1.6 s to 1.2 s up and 1.1 s to 0.85 s down (means of three runs).
	// GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	c.provider = providerDocker
	eng, log, raw, err := c.engine(ios)
	if err != nil {
		return err
	}
	defer eng.Close()
	eng.StartStopped(startStopped)
	engines := &serverEngines{byName: map[string]*workspace.Engine{providerDocker: eng}, home: g.home,
		make: func(name string) (*workspace.Engine, error) {
			exe, err := os.Executable()
			if err != nil {
				return nil, err
			}
			e, err := newEngine(name, ios, log, raw, exe, g.home)
			if err == nil {
				e.StartStopped(startStopped)
			}
			return e, err
		}}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv, err := sshgate.New(sshgate.Config{
		DataDir: g.dataDir, Linker: engines, Logger: log, Addr: addr,
		AgentSigner: engines.LinkSigner, OnLink: engines.LinkReady,
	})
	if err != nil {
		l.Close()
		return err
	}
	if err := os.WriteFile(g.addrFile, []byte(l.Addr().String()+"\n"), 0o600); err != nil {
		return fmt.Errorf("record server address: %w", err)
	}
	if err := os.WriteFile(g.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("record server pid: %w", err)
	}
	_ = os.WriteFile(g.buildFile(), []byte(buildID()+"\n"), 0o600)
	defer os.Remove(g.pidFile)
	log.Info("mochi server listening", "ssh", l.Addr().String())
	go portLoop(ctx, engines, g.home, log)
	err = srv.Serve(ctx, l)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// startBackground re-runs this binary as a detached server and waits until it listens.
func startBackground(ctx context.Context, g gatewayFiles, addr string, startStopped bool) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the mochi binary: %w", err)
	}
	logf, err := os.OpenFile(g.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close()
	args := []string{"server", "start", "--listen-ssh", addr}
	if startStopped {
		args = append(args, "--start-stopped")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the mochi server: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(10 * time.Second)
	for {
		var d net.Dialer
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			_ = cmd.Process.Release()
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("the mochi server exited at start (%v): see %s", err, g.logFile)
		case <-deadline:
			return fmt.Errorf("the mochi server did not listen on %s within 10s: see %s", addr, g.logFile)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ensureServer starts the gateway in the background unless it is running. A server from
// another build of mochi (an upgrade, a rebuild) is replaced, so clients never meet an old one.
func ensureServer(ctx context.Context, g gatewayFiles) error {
	if pid, ok := g.serverRunning(ctx); ok {
		b, _ := os.ReadFile(g.buildFile())
		if strings.TrimSpace(string(b)) == buildID() {
			return nil
		}
		if p, err := os.FindProcess(pid); err == nil && p.Signal(syscall.SIGTERM) == nil {
			for i := 0; i < 100; i++ {
				if _, ok := g.serverRunning(ctx); !ok {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	return startBackground(ctx, g, g.serverAddr(), false)
}

// buildID names this build of mochi: the version and the executable's size and time.
func buildID() string {
	exe, err := os.Executable()
	if err != nil {
		return version
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return version
	}
	return fmt.Sprintf("%s %d %d", version, fi.Size(), fi.ModTime().UnixNano())
}

func newServerStatusCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether the server runs, and where",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			g := newGatewayFiles(home)
			pid, ok := g.serverRunning(cmd.Context())
			if !ok {
				fmt.Fprintln(ios.Out, "stopped")
				return exitError{3}
			}
			fmt.Fprintf(ios.Out, "running pid=%d ssh=%s\n", pid, g.serverAddr())
			return nil
		},
	}
}

func newServerStopCmd(ios *IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			g := newGatewayFiles(home)
			pid, ok := g.serverRunning(cmd.Context())
			if !ok || pid == 0 {
				fmt.Fprintln(ios.Out, "not running")
				return nil
			}
			p, err := os.FindProcess(pid)
			if err == nil {
				err = p.Signal(syscall.SIGTERM)
			}
			if err != nil {
				return fmt.Errorf("stop server pid %d: %w", pid, err)
			}
			for i := 0; i < 100; i++ {
				if _, ok := g.serverRunning(cmd.Context()); !ok {
					fmt.Fprintln(ios.Out, "stopped")
					return nil
				}
				time.Sleep(50 * time.Millisecond)
			}
			return fmt.Errorf("server pid %d did not stop", pid)
		},
	}
}

// serverEngines gives the server one engine per provider, made on first use, so the gateway
// and the port forwarder reach every workspace wherever it runs.
type serverEngines struct {
	mu     sync.Mutex
	byName map[string]*workspace.Engine
	make   func(name string) (*workspace.Engine, error)
	home   string
}

// For returns the engine of a workspace, by its record's provider.
func (s *serverEngines) For(ws string) (*workspace.Engine, error) {
	st, err := workspace.OpenStore(s.home)
	if err != nil {
		return nil, err
	}
	provider := ""
	if rec, err := st.Get(ws); err == nil {
		provider = rec.Provider
	}
	e, err := s.ForProvider(provider)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", ws, err)
	}
	return e, nil
}

// ForProvider returns the engine of a provider ("" is Docker, the default).
func (s *serverEngines) ForProvider(provider string) (*workspace.Engine, error) {
	if provider == "" {
		provider = providerDocker
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byName[provider]; ok {
		return e, nil
	}
	e, err := s.make(provider)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", provider, err)
	}
	s.byName[provider] = e
	return e, nil
}

// Link implements sshgate.Linker.
func (s *serverEngines) Link(ctx context.Context, ws string) (io.ReadWriteCloser, error) {
	e, err := s.For(ws)
	if err != nil {
		return nil, err
	}
	return e.Link(ctx, ws)
}

// LinkSigner implements sshgate's AgentSigner.
func (s *serverEngines) LinkSigner(ws string) (ssh.Signer, error) {
	e, err := s.For(ws)
	if err != nil {
		return nil, err
	}
	return e.LinkSigner(ws)
}

// LinkReady implements sshgate's OnLink.
func (s *serverEngines) LinkReady(ctx context.Context, ws string, c *agent.Client) error {
	e, err := s.For(ws)
	if err != nil {
		return err
	}
	return e.LinkReady(ctx, ws, c)
}
