package agent

import (
	"context"
	"net"
	"strconv"
	"time"

	"golang.org/x/crypto/ssh"
)

const dialTimeout = 15 * time.Second

// handleDirectTCPIP dials from inside the workspace, so "localhost" is the workspace's.
func (a *conn) handleDirectTCPIP(nc ssh.NewChannel) {
	var req directTCPIP
	if err := ssh.Unmarshal(nc.ExtraData(), &req); err != nil || req.Port > 65535 {
		nc.Reject(ssh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	a.dialAndPipe(nc, "tcp", net.JoinHostPort(req.Host, strconv.FormatUint(uint64(req.Port), 10)))
}

func (a *conn) handleDirectStreamLocal(nc ssh.NewChannel) {
	var req directStreamLocal
	if err := ssh.Unmarshal(nc.ExtraData(), &req); err != nil || req.Path == "" {
		nc.Reject(ssh.ConnectionFailed, "malformed direct-streamlocal request")
		return
	}
	a.dialAndPipe(nc, "unix", req.Path)
}

func (a *conn) dialAndPipe(nc ssh.NewChannel, network, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, "connect to "+addr+" in the workspace: "+err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	pipe(ch, c)
}
