// Package agent is the in-workspace agent: an SSH server over any byte stream that runs
// commands (with or without a pty), serves SFTP, dials and listens inside the workspace,
// forwards the user's ssh-agent and lists listening ports. It runs as root inside the
// workspace and starts every session as the session's user.
//
// Over a private stream (stdio of `docker exec -i`) it may accept clients without
// authentication; over anything else it requires one of Options.AuthorizedKeys.
// The gateway multiplexes many client connections over one agent connection with the
// relay messages described in protocol.go.
package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// Options configure an agent connection.
type Options struct {
	// HostKey identifies the agent. Nil means a fresh ed25519 key per connection, which
	// is fine over a private stream whose other end trusts the stream itself.
	HostKey ssh.Signer
	// AuthorizedKeys are the keys a client must prove. Required unless Private.
	AuthorizedKeys []ssh.PublicKey
	// Private says the stream is only reachable by whoever started the agent (stdio),
	// so clients may connect without authentication when AuthorizedKeys is empty.
	Private bool
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// User is the default session user (name or uid); empty means the agent's own user.
	User string
	// Env is added to every session's environment (remoteEnv, probed user env), after
	// the login variables and before the session's own.
	Env []string
	// Dir is where exec sessions start; empty means the user's home.
	Dir string
	// ShellDir is where shell sessions start; empty means the user's home.
	ShellDir string
	// PasswdFile and GroupFile default to /etc/passwd and /etc/group.
	PasswdFile string
	GroupFile  string
	// AcceptEnv lists extra variable names (a trailing * matches a prefix) accepted from
	// env requests, beyond LANG, LANGUAGE, LC_*, TERM, COLORTERM, TZ, GIT_PROTOCOL and MOCHI_*.
	AcceptEnv []string
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PasswdFile == "" {
		c.PasswdFile = "/etc/passwd"
	}
	if c.GroupFile == "" {
		c.GroupFile = "/etc/group"
	}
	return c
}

func (o *Options) serverConfig() (*ssh.ServerConfig, error) {
	if len(o.AuthorizedKeys) == 0 && !o.Private {
		return nil, ErrNoAuthorizedKeys
	}
	cfg := &ssh.ServerConfig{}
	if len(o.AuthorizedKeys) == 0 {
		cfg.NoClientAuth = true
	} else {
		keys := o.AuthorizedKeys
		cfg.PublicKeyCallback = func(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range keys {
				if keysEqual(k, key) {
					return &ssh.Permissions{}, nil
				}
			}
			return nil, fmt.Errorf("key %s not authorized", ssh.FingerprintSHA256(key))
		}
	}
	signer := o.HostKey
	if signer == nil {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate host key: %w", err)
		}
		if signer, err = ssh.NewSignerFromKey(priv); err != nil {
			return nil, fmt.Errorf("generate host key: %w", err)
		}
	}
	cfg.AddHostKey(signer)
	return cfg, nil
}

func keysEqual(a, b ssh.PublicKey) bool {
	return string(a.Marshal()) == string(b.Marshal())
}

// Serve runs the agent on one stream until the stream ends or ctx is done. The stream
// must be private (opts.Private) or opts.AuthorizedKeys must be set.
func Serve(ctx context.Context, stream io.ReadWriteCloser, opts Options) error {
	return serve(ctx, stream, opts, nil)
}

// serve is Serve with the registry of the listener the stream came from (nil for a
// stream of its own, which cannot hand descriptors over).
func serve(ctx context.Context, stream io.ReadWriteCloser, opts Options, reg *fdRegistry) error {
	o := opts.withDefaults()
	cfg, err := o.serverConfig()
	if err != nil {
		return err
	}
	c := streamConn(stream)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sconn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("agent handshake: %w", err)
	}
	a := &conn{opts: &o, ssh: sconn, log: o.Logger, peers: map[string]*peer{}, reg: reg}
	a.run(chans, reqs)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// ServeListener accepts connections on l and serves each; it requires
// opts.AuthorizedKeys, whatever opts.Private says. It returns when ctx is done or l fails.
func ServeListener(ctx context.Context, l net.Listener, opts Options) error {
	opts.Private = false
	if len(opts.AuthorizedKeys) == 0 {
		return ErrNoAuthorizedKeys
	}
	o := opts.withDefaults()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	reg := &fdRegistry{}
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("accept agent connection: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// An fd pipe connection is attached to the SSH connection that asked for it.
			if c = reg.sniff(c); c == nil {
				return
			}
			if err := serve(ctx, c, opts, reg); err != nil && !errors.Is(err, context.Canceled) {
				o.Logger.Info("agent connection ended", "remote", c.RemoteAddr().String(), "err", err)
			}
		}()
	}
}

// conn is one SSH connection to the agent.
type conn struct {
	opts *Options
	ssh  *ssh.ServerConn
	log  *slog.Logger

	mu    sync.Mutex
	peers map[string]*peer
	// defaults are the user, env and folder of relayed sessions on this connection, set by
	// the trusted caller with a DefaultsRequestType request (zero: the agent's Options).
	defaults SessionSpec
	// reg and fds: descriptor hand-over (fdpass.go); reg is nil when the connection cannot.
	reg *fdRegistry
	fds *fdSender
}

func (a *conn) run(chans <-chan ssh.NewChannel, reqs <-chan *ssh.Request) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for r := range reqs {
			a.handleGlobal(r)
		}
	}()
	for nc := range chans {
		go a.handleChannel(a.peer(""), nc, false)
	}
	wg.Wait()
	a.closeFDPipe()
	a.mu.Lock()
	peers := a.peers
	a.peers = map[string]*peer{}
	a.mu.Unlock()
	for _, p := range peers {
		p.close()
	}
}

// peer returns the state of a client connection, creating it on first use.
func (a *conn) peer(id string) *peer {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.peers[id]
	if !ok {
		p = &peer{id: id, conn: a, forwards: map[string]io.Closer{}}
		a.peers[id] = p
	}
	return p
}

func (a *conn) dropPeer(id string) {
	a.mu.Lock()
	p, ok := a.peers[id]
	delete(a.peers, id)
	a.mu.Unlock()
	if ok {
		p.close()
	}
}

func (a *conn) handleChannel(p *peer, nc ssh.NewChannel, relayed bool) {
	switch nc.ChannelType() {
	case "session":
		a.handleSession(p, nc, relayed)
	case "direct-tcpip":
		a.handleDirectTCPIP(nc)
	case "direct-streamlocal@openssh.com":
		a.handleDirectStreamLocal(nc)
	case DialFDChannelType:
		if relayed {
			nc.Reject(ssh.Prohibited, "hand-over for a relayed client")
			return
		}
		a.dialFD(nc)
	case RelayChannelType:
		if relayed {
			nc.Reject(ssh.Prohibited, "nested relay")
			return
		}
		var ro RelayOpen
		if err := ssh.Unmarshal(nc.ExtraData(), &ro); err != nil || ro.ConnID == "" {
			nc.Reject(ssh.ConnectionFailed, "malformed relay open")
			return
		}
		a.handleChannel(a.peer(ro.ConnID), relayedChannel{nc, ro}, true)
	default:
		nc.Reject(ssh.UnknownChannelType, "unknown channel type "+nc.ChannelType())
	}
}

// relayedChannel presents a wrapped channel open as the channel it wraps.
type relayedChannel struct {
	ssh.NewChannel
	open RelayOpen
}

func (r relayedChannel) ChannelType() string { return r.open.Type }
func (r relayedChannel) ExtraData() []byte   { return r.open.Extra }

func (a *conn) handleGlobal(r *ssh.Request) {
	switch r.Type {
	case RelayRequestType:
		var rr RelayRequest
		if err := ssh.Unmarshal(r.Payload, &rr); err != nil || rr.ConnID == "" {
			r.Reply(false, nil)
			return
		}
		ok, payload := a.peer(rr.ConnID).globalRequest(rr.Name, rr.Payload)
		r.Reply(ok, payload)
	case ConnInfoRequestType:
		var ci ConnInfo
		if err := ssh.Unmarshal(r.Payload, &ci); err != nil || ci.ConnID == "" {
			r.Reply(false, nil)
			return
		}
		p := a.peer(ci.ConnID)
		p.mu.Lock()
		p.info = &ci
		p.mu.Unlock()
		r.Reply(true, nil)
	case DefaultsRequestType:
		spec, err := parseSessionSpec(r.Payload)
		if err != nil {
			r.Reply(false, nil)
			return
		}
		a.mu.Lock()
		a.defaults = spec
		a.mu.Unlock()
		r.Reply(true, nil)
	case FDPipeRequestType:
		a.fdPipeToken(r)
	case ConnClosedRequestType:
		var cc ConnClosed
		if err := ssh.Unmarshal(r.Payload, &cc); err == nil && cc.ConnID != "" {
			a.dropPeer(cc.ConnID)
		}
		r.Reply(true, nil)
	default:
		ok, payload := a.peer("").globalRequest(r.Type, r.Payload)
		r.Reply(ok, payload)
	}
}
