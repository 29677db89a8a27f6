package sshgate

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/mochi-dev/mochi/agent"
	"golang.org/x/crypto/ssh"
)

// dialHandedOver serves a client's direct-tcpip or direct-streamlocal channel with a
// socket the agent dials inside the workspace and hands over, so the gateway joins the
// client's channel to the workspace's socket itself. It reports false, having done
// nothing, when the channel is of another type or the link cannot hand over; the channel
// is then relayed to the agent as any other.
func (cc *clientConn) dialHandedOver(client *agent.Client, nc ssh.NewChannel, handedOver func()) bool {
	var network, addr string
	switch nc.ChannelType() {
	case "direct-tcpip":
		var req struct {
			Host       string
			Port       uint32
			OriginHost string
			OriginPort uint32
		}
		if ssh.Unmarshal(nc.ExtraData(), &req) != nil || req.Port > 65535 {
			return false // the agent answers a malformed request
		}
		network, addr = "tcp", net.JoinHostPort(req.Host, strconv.FormatUint(uint64(req.Port), 10))
	case "direct-streamlocal@openssh.com":
		var req struct {
			Path      string
			Reserved0 string
			Reserved1 uint32
		}
		if ssh.Unmarshal(nc.ExtraData(), &req) != nil || req.Path == "" {
			return false
		}
		network, addr = "unix", req.Path
	default:
		return false
	}
	c, err := client.DialHandedOver(context.Background(), network, addr)
	if errors.Is(err, agent.ErrNoFDPassing) {
		return false
	}
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return true
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.Close()
		return true
	}
	go ssh.DiscardRequests(reqs)
	handedOver()
	agent.PipeChannel(ch, c)
	return true
}
