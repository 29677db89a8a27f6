package sshgate

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/mochi-dev/mochi/agent"
	"golang.org/x/crypto/ssh"
)

// clientConn is one SSH client connection of a workspace.
type clientConn struct {
	id, ws string
	conn   *ssh.ServerConn
	remote string
	log    *slog.Logger

	mu       sync.Mutex
	forwards map[string]forward // live remote forwards, to set up again on a new link
	told     *agent.Client      // the link the agent was given ConnInfo on
}

// describe gives the agent the connection's addresses once per link, before the first
// channel or request, for SSH_CLIENT and SSH_CONNECTION in its sessions.
func (cc *clientConn) describe(client *agent.Client) {
	cc.mu.Lock()
	done := cc.told == client
	cc.told = client
	cc.mu.Unlock()
	if done {
		return
	}
	ci := agent.ConnInfo{ConnID: cc.id}
	if a, ok := cc.conn.RemoteAddr().(*net.TCPAddr); ok {
		ci.ClientIP, ci.ClientPort = a.IP.String(), uint32(a.Port)
	}
	if a, ok := cc.conn.LocalAddr().(*net.TCPAddr); ok {
		ci.ServerIP, ci.ServerPort = a.IP.String(), uint32(a.Port)
	}
	if ci.ClientIP == "" || ci.ServerIP == "" {
		return
	}
	// With a reply, so that the agent has it before the channel that follows.
	client.Conn().SendRequest(agent.ConnInfoRequestType, true, ssh.Marshal(ci))
}

type forward struct {
	name    string
	payload []byte
}

// linkMessage is what a client sees when its workspace cannot be reached.
func linkMessage(ws string, err error) string {
	switch {
	case errors.Is(err, ErrWorkspaceNotFound):
		return fmt.Sprintf("mochi: workspace %q does not exist", ws)
	case errors.Is(err, ErrWorkspaceStopped):
		return fmt.Sprintf("mochi: workspace %q is not running (start it with `mochi up`)", ws)
	}
	return fmt.Sprintf("mochi: cannot reach workspace %q: %v", ws, err)
}

func (cc *clientConn) handleChannel(l *link, nc ssh.NewChannel) {
	typ := nc.ChannelType()
	if strings.HasSuffix(typ, "@mochi.dev") {
		nc.Reject(ssh.UnknownChannelType, "unknown channel type "+typ)
		return
	}
	client, err := l.get()
	if err != nil {
		cc.log.Info("agent link", "err", err)
		nc.Reject(ssh.ConnectionFailed, linkMessage(cc.ws, err))
		return
	}
	cc.describe(client)
	if cc.dialHandedOver(client, nc, func() { l.s.handedOver.Add(1) }) {
		return
	}
	agCh, agReqs, err := client.Conn().OpenChannel(agent.RelayChannelType,
		ssh.Marshal(agent.RelayOpen{ConnID: cc.id, Type: typ, Extra: nc.ExtraData()}))
	if err != nil {
		rejectLike(nc, err)
		return
	}
	cliCh, cliReqs, err := nc.Accept()
	if err != nil {
		agCh.Close()
		return
	}
	if typ == "session" {
		relaySession(cliCh, cliReqs, agCh, agReqs, client, func() { l.s.handedOver.Add(1) })
		return
	}
	relay(cliCh, cliReqs, agCh, agReqs, false)
}

func (cc *clientConn) handleGlobal(l *link, r *ssh.Request) {
	switch {
	case r.Type == "keepalive@openssh.com", r.Type == "no-more-sessions@openssh.com",
		strings.HasSuffix(r.Type, "@mochi.dev"):
		// A failure reply is what OpenSSH gives and all a keepalive needs.
		r.Reply(false, nil)
		return
	}
	client, err := l.get()
	if err != nil {
		cc.log.Info("agent link", "err", err)
		r.Reply(false, nil)
		return
	}
	cc.describe(client)
	ok, payload := cc.sendGlobal(client, r.Type, r.Payload)
	r.Reply(ok, payload)
	if ok {
		cc.recordForward(r.Type, r.Payload, payload)
	}
}

func (cc *clientConn) sendGlobal(client *agent.Client, name string, payload []byte) (bool, []byte) {
	ok, reply, err := client.Conn().SendRequest(agent.RelayRequestType, true,
		ssh.Marshal(agent.RelayRequest{ConnID: cc.id, Name: name, Payload: payload}))
	if err != nil {
		return false, nil
	}
	return ok, reply
}

type tcpipForward struct {
	Addr string
	Port uint32
}

// recordForward remembers a remote forward (with the port the agent chose for port 0)
// and forgets a cancelled one.
func (cc *clientConn) recordForward(name string, payload, reply []byte) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	switch name {
	case "tcpip-forward":
		var f tcpipForward
		if ssh.Unmarshal(payload, &f) != nil {
			return
		}
		if f.Port == 0 {
			var r struct{ Port uint32 }
			if ssh.Unmarshal(reply, &r) != nil {
				return
			}
			f.Port = r.Port
		}
		cc.forwards[string(ssh.Marshal(f))] = forward{name, ssh.Marshal(f)}
	case "cancel-tcpip-forward":
		delete(cc.forwards, string(payload))
	case "streamlocal-forward@openssh.com":
		cc.forwards["unix:"+string(payload)] = forward{name, payload}
	case "cancel-streamlocal-forward@openssh.com":
		delete(cc.forwards, "unix:"+string(payload))
	}
}

func (cc *clientConn) hasForwards() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.forwards) > 0
}

func (cc *clientConn) replayForwards(client *agent.Client) {
	cc.mu.Lock()
	var fws []forward
	for _, f := range cc.forwards {
		fws = append(fws, f)
	}
	cc.mu.Unlock()
	for _, f := range fws {
		go cc.replayForward(client, f)
	}
}

// replayForward sets a forward up again on a new link. The agent behind the broken link
// may still hold the port for a moment, so a refusal is retried for a few seconds.
func (cc *clientConn) replayForward(client *agent.Client, f forward) {
	for try := 0; try < 25; try++ {
		ok, _, err := client.Conn().SendRequest(agent.RelayRequestType, true,
			ssh.Marshal(agent.RelayRequest{ConnID: cc.id, Name: f.name, Payload: f.payload}))
		if err != nil {
			return // this link is gone too
		}
		if ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	cc.log.Info("forward lost with the agent link", "request", f.name)
}
