package sshgate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mochi-dev/mochi/agent"
	"golang.org/x/crypto/ssh"
)

const linkDialTimeout = 2 * time.Minute

// link is the one SSH connection from the gateway to a workspace's agent. It is dialled
// when a client first needs it, redialled when it broke, and closed some time after its
// last client left. Every client connection of the workspace is multiplexed over it.
type link struct {
	s  *Server
	ws string

	dialMu sync.Mutex // serialises dialling
	mu     sync.Mutex
	client *agent.Client
	conns  map[string]*clientConn
	idle   *time.Timer
	closed bool
}

// link returns the workspace's link record, creating it.
func (s *Server) link(ws string) *link {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[ws]
	if !ok {
		l = &link{s: s, ws: ws, conns: map[string]*clientConn{}}
		s.links[ws] = l
	}
	return l
}

func (l *link) attach(cc *clientConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conns[cc.id] = cc
	if l.idle != nil {
		l.idle.Stop()
		l.idle = nil
	}
}

// startIdleTimer arms the idle close when no client uses the link, as after a use
// by the gateway itself.
func (l *link) startIdleTimer() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) == 0 && l.idle == nil && !l.closed {
		l.idle = time.AfterFunc(l.s.cfg.LinkIdleTimeout, l.closeIfIdle)
	}
}

// detach forgets a client connection and tells the agent, which then drops the
// connection's forwards and agent socket.
func (l *link) detach(cc *clientConn) {
	l.mu.Lock()
	delete(l.conns, cc.id)
	client := l.client
	if len(l.conns) == 0 && l.idle == nil && !l.closed {
		l.idle = time.AfterFunc(l.s.cfg.LinkIdleTimeout, l.closeIfIdle)
	}
	l.mu.Unlock()
	if client != nil {
		go client.Conn().SendRequest(agent.ConnClosedRequestType, false, ssh.Marshal(agent.ConnClosed{ConnID: cc.id}))
	}
}

func (l *link) closeIfIdle() {
	l.mu.Lock()
	l.idle = nil
	if len(l.conns) > 0 {
		l.mu.Unlock()
		return
	}
	client := l.client
	l.client = nil
	l.mu.Unlock()
	if client != nil {
		l.s.log.Info("closing idle agent link", "workspace", l.ws)
		client.Close()
	}
}

func (l *link) close() {
	l.mu.Lock()
	l.closed = true
	client := l.client
	l.client = nil
	if l.idle != nil {
		l.idle.Stop()
	}
	l.mu.Unlock()
	if client != nil {
		client.Close()
	}
}

func (l *link) current() *agent.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.client
}

// get returns a live agent connection, dialling one if there is none.
func (l *link) get() (*agent.Client, error) {
	if c := l.current(); c != nil {
		return c, nil
	}
	l.dialMu.Lock()
	defer l.dialMu.Unlock()
	if c := l.current(); c != nil {
		return c, nil
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, errors.New("gateway shutting down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkDialTimeout)
	defer cancel()
	stream, err := l.s.cfg.Linker.Link(ctx, l.ws)
	if err != nil {
		return nil, err
	}
	var signer ssh.Signer
	if l.s.cfg.AgentSigner != nil {
		if signer, err = l.s.cfg.AgentSigner(l.ws); err != nil {
			stream.Close()
			return nil, fmt.Errorf("agent key: %w", err)
		}
	}
	client, err := agent.Dial(ctx, stream, agent.ClientOptions{Signer: signer, OnChannel: l.agentChannel})
	if err != nil {
		return nil, err
	}
	if l.s.cfg.OnLink != nil {
		if err := l.s.cfg.OnLink(ctx, l.ws, client); err != nil {
			client.Close()
			return nil, fmt.Errorf("set up agent link: %w", err)
		}
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		client.Close()
		return nil, errors.New("gateway shutting down")
	}
	l.client = client
	var replay []*clientConn
	for _, cc := range l.conns {
		replay = append(replay, cc)
	}
	l.mu.Unlock()
	l.s.log.Info("agent link up", "workspace", l.ws)
	linkDone := make(chan struct{})
	go l.s.keepAlive(client.Conn(), linkDone)
	go func() {
		err := client.Wait()
		close(linkDone)
		l.mu.Lock()
		if l.client == client {
			l.client = nil
		}
		l.mu.Unlock()
		l.s.log.Info("agent link down", "workspace", l.ws, "err", err)
		l.restoreForwards()
	}()
	// Forwards that clients set up over an earlier link are set up again.
	for _, cc := range replay {
		cc.replayForwards(client)
	}
	return client, nil
}

// agentChannel relays a channel the agent opens (a forwarded port, an agent-forwarding
// connection) to the client connection it belongs to.
func (l *link) agentChannel(nc ssh.NewChannel) {
	if nc.ChannelType() != agent.RelayChannelType {
		nc.Reject(ssh.Prohibited, "channel without a client connection")
		return
	}
	var ro agent.RelayOpen
	if err := ssh.Unmarshal(nc.ExtraData(), &ro); err != nil {
		nc.Reject(ssh.ConnectionFailed, "malformed relay open")
		return
	}
	l.mu.Lock()
	cc := l.conns[ro.ConnID]
	l.mu.Unlock()
	if cc == nil {
		nc.Reject(ssh.ConnectionFailed, "client connection gone")
		return
	}
	go func() {
		cliCh, cliReqs, err := cc.conn.OpenChannel(ro.Type, ro.Extra)
		if err != nil {
			rejectLike(nc, err)
			return
		}
		agCh, agReqs, err := nc.Accept()
		if err != nil {
			cliCh.Close()
			return
		}
		relay(agCh, agReqs, cliCh, cliReqs, false)
	}()
}

// rejectLike refuses nc for the reason err (from an OpenChannel) gives.
func rejectLike(nc ssh.NewChannel, err error) {
	var oce *ssh.OpenChannelError
	if errors.As(err, &oce) {
		nc.Reject(oce.Reason, oce.Message)
		return
	}
	nc.Reject(ssh.ConnectionFailed, err.Error())
}

// ListPorts lists the TCP ports listening inside a workspace, over its agent link
// (dialled if needed), for the port forwarder.
func (s *Server) ListPorts(ctx context.Context, workspace string) ([]agent.Port, error) {
	l := s.link(workspace)
	client, err := l.get()
	if err != nil {
		return nil, fmt.Errorf("list ports of %s: %w", workspace, err)
	}
	defer l.startIdleTimer()
	return client.ListPorts(ctx)
}

// restoreForwards redials a broken link at once when a connected client has remote
// forwards, which nothing else would bring back; a few tries, a second apart.
func (l *link) restoreForwards() {
	for try := 0; try < 5; try++ {
		l.mu.Lock()
		need := !l.closed && l.client == nil
		if need {
			need = false
			for _, cc := range l.conns {
				need = need || cc.hasForwards()
			}
		}
		l.mu.Unlock()
		if !need {
			return
		}
		if _, err := l.get(); err == nil {
			return
		}
		time.Sleep(time.Second)
	}
}
