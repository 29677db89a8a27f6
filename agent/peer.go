package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

// peer is one client connection: the agent connection itself (id "") or a client of
// the gateway relayed over it. Forwards and the forwarded ssh-agent socket belong to a
// peer and end with it, as OpenSSH ties them to the connection.
type peer struct {
	id   string
	conn *conn

	mu       sync.Mutex
	closed   bool
	forwards map[string]io.Closer
	agent    *agentSocket
	info     *ConnInfo // from the gateway, for SSH_CLIENT/SSH_CONNECTION
}

// sshEnv returns SSH_CLIENT and SSH_CONNECTION for the peer's sessions, as sshd sets
// them, when the gateway described the connection.
func (p *peer) sshEnv() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.info == nil {
		return nil
	}
	i := p.info
	return []string{
		fmt.Sprintf("SSH_CLIENT=%s %d %d", i.ClientIP, i.ClientPort, i.ServerPort),
		fmt.Sprintf("SSH_CONNECTION=%s %d %s %d", i.ClientIP, i.ClientPort, i.ServerIP, i.ServerPort),
	}
}

// openChannel opens a channel towards the peer's client, wrapped when relayed.
func (p *peer) openChannel(typ string, extra []byte) (ssh.Channel, <-chan *ssh.Request, error) {
	if p.id == "" {
		return p.conn.ssh.OpenChannel(typ, extra)
	}
	return p.conn.ssh.OpenChannel(RelayChannelType, ssh.Marshal(RelayOpen{ConnID: p.id, Type: typ, Extra: extra}))
}

func (p *peer) close() {
	p.mu.Lock()
	p.closed = true
	fw := p.forwards
	p.forwards = map[string]io.Closer{}
	ag := p.agent
	p.agent = nil
	p.mu.Unlock()
	for _, c := range fw {
		c.Close()
	}
	if ag != nil {
		ag.close()
	}
}

func (p *peer) addForward(key string, c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if _, dup := p.forwards[key]; dup {
		return false
	}
	p.forwards[key] = c
	return true
}

func (p *peer) cancelForward(key string) bool {
	p.mu.Lock()
	c, ok := p.forwards[key]
	delete(p.forwards, key)
	p.mu.Unlock()
	if ok {
		c.Close()
	}
	return ok
}

// globalRequest answers a connection-level request of this peer.
func (p *peer) globalRequest(name string, payload []byte) (bool, []byte) {
	switch name {
	case "tcpip-forward":
		return p.tcpipForward(payload)
	case "cancel-tcpip-forward":
		var req tcpipForward
		if ssh.Unmarshal(payload, &req) != nil {
			return false, nil
		}
		return p.cancelForward(tcpKey(req.Addr, req.Port)), nil
	case "streamlocal-forward@openssh.com":
		return p.streamLocalForward(payload)
	case "cancel-streamlocal-forward@openssh.com":
		var req streamLocalForward
		if ssh.Unmarshal(payload, &req) != nil {
			return false, nil
		}
		return p.cancelForward("unix:" + req.Path), nil
	case PortsRequestType:
		ports, err := ListeningPorts("/proc/net")
		if err != nil {
			p.conn.log.Info("list ports", "err", err)
			return false, nil
		}
		b, _ := json.Marshal(ports)
		return true, b
	default:
		// keepalive@openssh.com and anything unknown: a failure reply is what OpenSSH
		// sends and what keepalive senders expect.
		return false, nil
	}
}

func tcpKey(addr string, port uint32) string {
	return "tcp:" + net.JoinHostPort(addr, strconv.FormatUint(uint64(port), 10))
}

// bindAddr maps the address of a tcpip-forward request to a listen address as sshd
// does with GatewayPorts=clientspecified.
func bindAddr(addr string) string {
	switch addr {
	case "", "*", "0.0.0.0":
		return ""
	case "localhost":
		return "127.0.0.1"
	}
	return addr
}

func (p *peer) tcpipForward(payload []byte) (bool, []byte) {
	var req tcpipForward
	if ssh.Unmarshal(payload, &req) != nil || req.Port > 65535 {
		return false, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(bindAddr(req.Addr), strconv.FormatUint(uint64(req.Port), 10)))
	if err != nil {
		p.conn.log.Info("tcpip-forward", "addr", req.Addr, "port", req.Port, "err", err)
		return false, nil
	}
	port := uint32(l.Addr().(*net.TCPAddr).Port)
	if !p.addForward(tcpKey(req.Addr, port), l) {
		l.Close()
		return false, nil
	}
	go p.acceptLoop(l, func(c net.Conn) (string, []byte) {
		host, portStr, _ := net.SplitHostPort(c.RemoteAddr().String())
		oport, _ := strconv.ParseUint(portStr, 10, 32)
		return "forwarded-tcpip", ssh.Marshal(forwardedTCPIP{Addr: req.Addr, Port: port, OriginHost: host, OriginPort: uint32(oport)})
	})
	var reply []byte
	if req.Port == 0 {
		reply = ssh.Marshal(tcpipForwardReply{Port: port})
	}
	return true, reply
}

func (p *peer) streamLocalForward(payload []byte) (bool, []byte) {
	var req streamLocalForward
	if ssh.Unmarshal(payload, &req) != nil || req.Path == "" {
		return false, nil
	}
	if fi, err := os.Lstat(req.Path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(req.Path) // a stale socket of an earlier forward, as sshd's StreamLocalBindUnlink
	}
	l, err := net.Listen("unix", req.Path)
	if err != nil {
		p.conn.log.Info("streamlocal-forward", "path", req.Path, "err", err)
		return false, nil
	}
	l.(*net.UnixListener).SetUnlinkOnClose(true)
	if acct, err := p.conn.account(""); err == nil {
		os.Chown(req.Path, int(acct.UID), int(acct.GID))
	}
	if !p.addForward("unix:"+req.Path, l) {
		l.Close()
		return false, nil
	}
	go p.acceptLoop(l, func(net.Conn) (string, []byte) {
		return "forwarded-streamlocal@openssh.com", ssh.Marshal(forwardedStreamLocal{Path: req.Path})
	})
	return true, nil
}

// acceptLoop relays every connection accepted on l through a channel the peer's client
// opens towards its side of the forward.
func (p *peer) acceptLoop(l net.Listener, describe func(net.Conn) (string, []byte)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			typ, extra := describe(c)
			ch, reqs, err := p.openChannel(typ, extra)
			if err != nil {
				p.conn.log.Debug("open forwarded channel", "type", typ, "err", err)
				c.Close()
				return
			}
			go ssh.DiscardRequests(reqs)
			pipe(ch, c)
		}()
	}
}

// agentSocket is the unix socket standing for a peer's forwarded ssh-agent.
type agentSocket struct {
	dir  string
	path string
	l    net.Listener
}

func (s *agentSocket) close() {
	s.l.Close()
	os.RemoveAll(s.dir)
}

// agentSocketFor returns the peer's forwarded-agent socket, creating it for acct on the
// first request. All sessions of the peer share it until the peer ends.
func (p *peer) agentSocketFor(acct Account) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return "", fmt.Errorf("create agent socket: connection closed")
	}
	if p.agent != nil {
		return p.agent.path, nil
	}
	dir, err := os.MkdirTemp("", "mochi-ssh-")
	if err != nil {
		return "", fmt.Errorf("create agent socket: %w", err)
	}
	path := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("create agent socket: %w", err)
	}
	for _, f := range []string{dir, path} {
		if err := os.Chown(f, int(acct.UID), int(acct.GID)); err != nil && os.Geteuid() == 0 {
			l.Close()
			os.RemoveAll(dir)
			return "", fmt.Errorf("create agent socket: %w", err)
		}
	}
	os.Chmod(path, 0o600)
	p.agent = &agentSocket{dir: dir, path: path, l: l}
	go p.acceptLoop(l, func(net.Conn) (string, []byte) { return "auth-agent@openssh.com", nil })
	return path, nil
}
