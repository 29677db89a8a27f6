// Package sshgate is mochi's SSH gateway: one SSH server with a stable host key that
// lets a client's public key into the workspaces it was granted (the SSH user name
// names the workspace) and relays every channel and global request to that workspace's
// agent over one agent link per workspace. It also writes the ssh_config entries and
// keys that make `ssh NAME.mochi` work.
package sshgate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/internal/wbuf"
)

// Linker opens a byte stream to the agent of a workspace (for Docker: the stdio of
// `docker exec -i CONTAINER /.mochi/bin/mochi agent serve --stdio`). It returns an error
// wrapping ErrWorkspaceNotFound or ErrWorkspaceStopped when that is the reason.
type Linker interface {
	Link(ctx context.Context, workspace string) (io.ReadWriteCloser, error)
}

// Config configures a gateway.
type Config struct {
	// DataDir holds the host key and the key store; created 0700.
	DataDir string
	// Linker reaches workspace agents. Required.
	Linker Linker
	// Logger receives connection and auth events; nil discards them.
	Logger *slog.Logger
	// Addr is where RunServer listens; default "127.0.0.1:2222".
	Addr string
	// HandshakeTimeout bounds the SSH handshake and authentication; default 30s.
	HandshakeTimeout time.Duration
	// KeepAliveInterval is how often the gateway probes idle clients; 0 means 15s,
	// negative disables. A client missing KeepAliveMax (default 3) probes in a row is
	// disconnected. There is no idle timeout.
	KeepAliveInterval time.Duration
	KeepAliveMax      int
	// LinkIdleTimeout is how long an agent link stays open after its last client left;
	// default 5 minutes.
	LinkIdleTimeout time.Duration
	// AgentSigner returns the key proving the gateway to a workspace's agent; nil (or a
	// nil signer) uses no authentication, which only an agent on a private stream accepts.
	AgentSigner func(workspace string) (ssh.Signer, error)
	// OnLink, when set, runs on every new agent link before clients use it, e.g. to tell an
	// agent listening on a socket which user, env and folder relayed sessions get.
	OnLink func(ctx context.Context, workspace string, c *agent.Client) error
}

// DefaultAddr is where the gateway listens unless told otherwise.
const DefaultAddr = "127.0.0.1:2222"

// Server is a gateway.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hostKey ssh.Signer
	keys    *KeyStore

	mu     sync.Mutex
	links  map[string]*link
	conns  map[*ssh.ServerConn]struct{}
	closed bool

	handedOver atomic.Int64 // channels whose data the agent handed over (for tests)
}

// New loads (or creates) the host key in cfg.DataDir and returns a gateway.
func New(cfg Config) (*Server, error) {
	if cfg.Linker == nil {
		return nil, errors.New("new gateway: no linker")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("new gateway: no data folder")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 30 * time.Second
	}
	if cfg.KeepAliveInterval == 0 {
		cfg.KeepAliveInterval = 15 * time.Second
	}
	if cfg.KeepAliveMax <= 0 {
		cfg.KeepAliveMax = 3
	}
	if cfg.LinkIdleTimeout == 0 {
		cfg.LinkIdleTimeout = 5 * time.Minute
	}
	key, err := LoadOrCreateHostKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("new gateway: %w", err)
	}
	return &Server{
		cfg: cfg, log: cfg.Logger.With("component", "sshgate"), hostKey: key,
		keys:  OpenKeyStore(cfg.DataDir),
		links: map[string]*link{}, conns: map[*ssh.ServerConn]struct{}{},
	}, nil
}

// HostKey is the gateway's public host key (for known_hosts).
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Keys is the store of keys granted per workspace.
func (s *Server) Keys() *KeyStore { return s.keys }

// RunServer listens on cfg.Addr and serves until ctx is done, with a ServerState in
// cfg.DataDir meanwhile.
func RunServer(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	s.log.Info("gateway listening", "addr", l.Addr().String(), "hostkey", ssh.FingerprintSHA256(s.HostKey()))
	st := ServerState{PID: os.Getpid(), Addr: l.Addr().String(), HostKey: ssh.FingerprintSHA256(s.HostKey()), Started: time.Now().UTC()}
	if err := writeServerState(s.cfg.DataDir, st); err != nil {
		l.Close()
		return err
	}
	defer removeServerState(s.cfg.DataDir, st.PID)
	return s.Serve(ctx, l)
}

// Serve accepts connections on l until ctx is done, then closes every connection and
// agent link and returns.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer func() {
		s.shutdown()
		wg.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.HandleConn(c)
		}()
	}
}

func (s *Server) shutdown() {
	s.mu.Lock()
	s.closed = true
	var conns []*ssh.ServerConn
	for c := range s.conns {
		conns = append(conns, c)
	}
	var links []*link
	for _, l := range s.links {
		links = append(links, l)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	for _, l := range links {
		l.close()
	}
}

func (s *Server) sshConfig() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			ws := meta.User()
			if !ValidWorkspaceName(ws) {
				return nil, fmt.Errorf("%w %q", ErrBadWorkspaceName, ws)
			}
			ok, err := s.keys.Authorized(ws, key)
			if err != nil {
				s.log.Error("read key store", "err", err)
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("key %s not granted for workspace %q", ssh.FingerprintSHA256(key), ws)
			}
			return &ssh.Permissions{Extensions: map[string]string{"fingerprint": ssh.FingerprintSHA256(key)}}, nil
		},
		AuthLogCallback: func(meta ssh.ConnMetadata, method string, err error) {
			if err != nil && method != "none" {
				s.log.Info("auth failed", "remote", meta.RemoteAddr().String(), "user", meta.User(), "method", method, "err", err)
			}
		},
		ServerVersion: "SSH-2.0-mochi",
	}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

// HandleConn serves one client connection until it ends.
func (s *Server) HandleConn(c net.Conn) {
	remote := c.RemoteAddr().String()
	c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	// SSH writes a packet in one or two system calls; coalesced, a bulk transfer takes
	// a few per hundred kilobytes.
	c = wbuf.Conn(c)
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.sshConfig())
	if err != nil {
		c.Close()
		s.log.Info("connection refused", "remote", remote, "err", err)
		return
	}
	c.SetDeadline(time.Time{})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sconn.Close()
		return
	}
	s.conns[sconn] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sconn)
		s.mu.Unlock()
	}()

	ws := sconn.User()
	cc := &clientConn{
		id: newConnID(), ws: ws, conn: sconn, remote: remote,
		log: s.log.With("workspace", ws, "remote", remote), forwards: map[string]forward{},
	}
	cc.log.Info("client connected", "key", sconn.Permissions.Extensions["fingerprint"])
	l := s.link(ws)
	l.attach(cc)
	defer l.detach(cc)

	done := make(chan struct{})
	defer close(done)
	go s.keepAlive(sconn, done)
	go func() {
		for r := range reqs {
			cc.handleGlobal(l, r)
		}
	}()
	for nc := range chans {
		go cc.handleChannel(l, nc)
	}
	cc.log.Info("client disconnected")
}

func newConnID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// keepAlive probes a peer (a client, or an agent link) every interval and closes the
// connection when it stopped answering: dead peers are reaped, live idle ones are never
// cut.
func (s *Server) keepAlive(c ssh.Conn, done <-chan struct{}) {
	if s.cfg.KeepAliveInterval < 0 {
		return
	}
	t := time.NewTicker(s.cfg.KeepAliveInterval)
	defer t.Stop()
	answered := make(chan struct{}, 1)
	pending, missed := false, 0
	for {
		select {
		case <-done:
			return
		case <-answered:
			pending, missed = false, 0
		case <-t.C:
			if pending {
				missed++
				if missed >= s.cfg.KeepAliveMax {
					s.log.Info("peer stopped answering keepalives", "remote", c.RemoteAddr().String(), "user", c.User())
					c.Close()
					return
				}
				continue
			}
			pending = true
			go func() {
				if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err == nil {
					answered <- struct{}{}
				}
			}()
		}
	}
}
