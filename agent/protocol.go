package agent

import (
	"encoding/json"
	"fmt"
)

// The agent speaks standard SSH (RFC 4254 and the OpenSSH extensions) plus a few
// mochi-specific messages that let one SSH connection (the gateway's agent link) carry
// the traffic of many client connections. Each client connection is a "peer" named by a
// ConnID that the gateway chooses; channels and global requests of a peer travel wrapped
// in the relay messages below. A connection that does not use them is its own peer.
const (
	// RelayChannelType wraps a channel opened for a peer, in either direction. Its extra
	// data is a RelayOpen.
	RelayChannelType = "mochi-relay@mochi.dev"
	// RelayRequestType wraps a global request of a peer. Its payload is a RelayRequest and
	// the reply payload is the wrapped request's reply payload.
	RelayRequestType = "mochi-relay@mochi.dev"
	// ConnClosedRequestType tells the agent that a peer went away, so its forwards and its
	// agent socket are released. Its payload is a ConnClosed.
	ConnClosedRequestType = "mochi-conn-closed@mochi.dev"
	// ConnInfoRequestType describes a peer's client connection (its ConnInfo payload) so
	// that its sessions get SSH_CLIENT and SSH_CONNECTION. Agents that predate it refuse
	// it, which is harmless.
	ConnInfoRequestType = "mochi-conn-info@mochi.dev"
	// PortsRequestType asks for the TCP ports listening inside the workspace. The reply
	// payload is a JSON array of Port.
	PortsRequestType = "mochi-ports@mochi.dev"
	// DefaultsRequestType sets the user, environment and folder of the sessions relayed
	// over this connection (the gateway's link to a workspace agent listening on a socket,
	// which cannot take them as flags). Its payload is a JSON SessionSpec. Only the
	// connection's own caller can send it: the gateway refuses mochi requests from clients.
	DefaultsRequestType = "mochi-defaults@mochi.dev"
	// FDPipeRequestType asks for a token to attach an fd pipe to this connection (see
	// fdpass.go); the reply payload is the token. Agents that are not listening on a unix
	// socket, or that predate it, refuse it.
	FDPipeRequestType = "mochi-fd-pipe@mochi.dev"
	// DialFDChannelType asks the agent to dial inside the workspace and hand the socket over
	// on the fd pipe; its extra data is a dialFD. The agent accepts the channel (and closes
	// it at once) after the hand-over, or rejects it saying why. A channel rather than a
	// global request, so that a slow dial holds up nothing else.
	DialFDChannelType = "mochi-dial-fd@mochi.dev"
	// StartFDRequestType, on a session channel, starts its program as the wrapped start
	// request (shell, exec or subsystem) would, with the program's stdin and stdout handed
	// over on the fd pipe (stderr and the exit status still come over the channel). Its
	// payload is a startFD.
	StartFDRequestType = "mochi-start-fd@mochi.dev"
)

// dialFD is the extra data of a DialFDChannelType channel.
type dialFD struct {
	Network string // "tcp" or "unix"
	Addr    string
	Tag     uint32
}

// startFD is the payload of a StartFDRequestType request.
type startFD struct {
	Type    string // "shell", "exec" or "subsystem"
	Payload []byte // the wrapped request's payload
	Tag     uint32
}

// RelayOpen is the extra data of a RelayChannelType channel open.
type RelayOpen struct {
	ConnID string
	Type   string
	Extra  []byte
}

// RelayRequest is the payload of a RelayRequestType global request.
type RelayRequest struct {
	ConnID  string
	Name    string
	Payload []byte
}

// ConnClosed is the payload of a ConnClosedRequestType global request.
type ConnClosed struct {
	ConnID string
}

// ConnInfo is the payload of a ConnInfoRequestType global request: the addresses of a
// client connection as the gateway sees them.
type ConnInfo struct {
	ConnID     string
	ClientIP   string
	ClientPort uint32
	ServerIP   string
	ServerPort uint32
}

// SessionSpec is the extra data a trusted caller (not a relayed peer) may put in a
// "session" channel open to choose the user, environment and directory of that session.
// It is JSON encoded. Empty fields fall back to the agent's Options.
type SessionSpec struct {
	User string   `json:"user,omitempty"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`
	// Plain gives the session the environment `docker exec` would (PATH, HOSTNAME, HOME and
	// Env) instead of an sshd login environment: for mochi's own execs (hooks, mochi exec),
	// which must see what they see through the engine.
	Plain bool `json:"plain,omitempty"`
	// Argv, with Plain, runs an exec request's program directly (no shell), looked up in the
	// session's PATH, as `docker exec` does; the exec request's command string is ignored.
	Argv []string `json:"argv,omitempty"`
}

func (s SessionSpec) marshal() []byte {
	if s.User == "" && len(s.Env) == 0 && s.Dir == "" && !s.Plain {
		return nil
	}
	b, _ := json.Marshal(s) // a struct of strings always encodes
	return b
}

func parseSessionSpec(b []byte) (SessionSpec, error) {
	var s SessionSpec
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("parse session spec: %w", err)
	}
	return s, nil
}

// Wire formats of the standard messages the agent handles (RFC 4254, OpenSSH PROTOCOL).
type (
	envRequest struct {
		Name  string
		Value string
	}
	ptyRequest struct {
		Term   string
		Cols   uint32
		Rows   uint32
		Width  uint32
		Height uint32
		Modes  string
	}
	windowChange struct {
		Cols   uint32
		Rows   uint32
		Width  uint32
		Height uint32
	}
	execRequest struct {
		Command string
	}
	signalRequest struct {
		Signal string
	}
	exitStatus struct {
		Status uint32
	}
	exitSignal struct {
		Signal     string
		CoreDumped bool
		Message    string
		Lang       string
	}
	directTCPIP struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	directStreamLocal struct {
		Path      string
		Reserved  string
		Reserved2 uint32
	}
	tcpipForward struct {
		Addr string
		Port uint32
	}
	tcpipForwardReply struct {
		Port uint32
	}
	forwardedTCPIP struct {
		Addr       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}
	streamLocalForward struct {
		Path string
	}
	forwardedStreamLocal struct {
		Path     string
		Reserved string
	}
)
