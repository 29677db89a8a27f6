package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
)

// The caller's side of descriptor hand-over (fdpass.go).

// DialSocket connects to an agent listening on the unix socket at path. A Client made
// over the connection can have descriptors handed over (the path is dialled again for the
// fd pipe; the socket's own peer address is the agent's name for it, which may be a path
// inside the workspace).
func DialSocket(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return &socketConn{Conn: c, path: path}, nil
}

type socketConn struct {
	net.Conn
	path string
}

// fdState is a Client's fd pipe, set up on first use.
type fdState struct {
	socket string // the agent's unix socket; empty: no hand-over

	mu     sync.Mutex
	tried  bool
	pipe   *fdPipe
	err    error
	closed bool
}

func (s *fdState) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.pipe != nil {
		s.pipe.close()
	}
}

// fdPipe returns the connection's fd pipe, setting it up the first time.
func (c *Client) fdPipe() (*fdPipe, error) {
	s := &c.fd
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrNoFDPassing
	}
	if s.tried {
		return s.pipe, s.err
	}
	s.tried = true
	s.err = ErrNoFDPassing
	if s.socket == "" {
		return nil, s.err
	}
	ok, token, err := c.conn.SendRequest(FDPipeRequestType, true, nil)
	if err != nil || !ok || len(token) == 0 {
		return nil, s.err
	}
	s.pipe, s.err = openFDPipe(s.socket, string(token))
	return s.pipe, s.err
}

// CanHandOver reports whether the agent hands descriptors over on this connection (a
// local unix socket to an agent that supports it), setting the fd pipe up if needed.
func (c *Client) CanHandOver() bool {
	_, err := c.fdPipe()
	return err == nil
}

// DialHandedOver dials network ("tcp" or "unix") addr inside the workspace and returns the
// connected socket itself, handed over by the agent: reading and writing it involves no
// one else. It fails with ErrNoFDPassing when the connection cannot hand over (dial with a
// direct-tcpip channel then), else with the agent's reason.
func (c *Client) DialHandedOver(ctx context.Context, network, addr string) (net.Conn, error) {
	p, err := c.fdPipe()
	if err != nil {
		return nil, err
	}
	tag, wait := p.expect()
	type opened struct {
		ch  ssh.Channel
		err error
	}
	done := make(chan opened, 1)
	go func() {
		ch, reqs, err := c.conn.OpenChannel(DialFDChannelType, ssh.Marshal(dialFD{Network: network, Addr: addr, Tag: tag}))
		if err == nil {
			go ssh.DiscardRequests(reqs)
		}
		done <- opened{ch, err}
	}()
	var o opened
	select {
	case o = <-done:
	case <-ctx.Done():
		p.forget(tag, wait)
		go func() {
			if o := <-done; o.ch != nil {
				o.ch.Close()
			}
		}()
		return nil, ctx.Err()
	}
	if o.err != nil {
		p.forget(tag, wait)
		var oce *ssh.OpenChannelError
		if errors.As(o.err, &oce) && oce.Reason == ssh.Prohibited {
			return nil, ErrNoFDPassing
		}
		if errors.As(o.err, &oce) {
			return nil, errors.New(oce.Message)
		}
		return nil, fmt.Errorf("dial %s in the workspace: %w", addr, o.err)
	}
	o.ch.Close()
	files, err := p.wait(tag, wait)
	if err != nil {
		return nil, fmt.Errorf("dial %s in the workspace: %w", addr, err)
	}
	defer closeFiles(files)
	if len(files) != 1 {
		return nil, fmt.Errorf("dial %s in the workspace: %d descriptors handed over", addr, len(files))
	}
	conn, err := net.FileConn(files[0])
	if err != nil {
		return nil, fmt.Errorf("dial %s in the workspace: %w", addr, err)
	}
	return conn, nil
}

// StartHandedOver starts the program of ch, a session channel to the agent, as the start
// request typ ("shell", "exec" or "subsystem") with payload would, and returns the
// program's stdin and stdout, handed over. Stderr, the exit status and the channel's close
// still come over ch. ErrNoFDPassing means nothing was started: send the plain request
// instead. Any other error means the program started but its pipes were lost (it sees EOF
// and EPIPE): refuse the request.
func (c *Client) StartHandedOver(ch ssh.Channel, typ string, payload []byte) (stdin io.WriteCloser, stdout io.ReadCloser, err error) {
	p, err := c.fdPipe()
	if err != nil {
		return nil, nil, err
	}
	tag, wait := p.expect()
	ok, err := ch.SendRequest(StartFDRequestType, true, ssh.Marshal(startFD{Type: typ, Payload: payload, Tag: tag}))
	if err != nil {
		p.forget(tag, wait)
		return nil, nil, fmt.Errorf("start %s: %w", typ, err) // the channel is gone
	}
	if !ok {
		p.forget(tag, wait)
		return nil, nil, ErrNoFDPassing
	}
	files, err := p.wait(tag, wait)
	if err != nil {
		// The program runs with pipes nobody holds: it sees EOF and EPIPE. Not
		// ErrNoFDPassing even when the fd pipe closed: a plain start would be refused now.
		return nil, nil, fmt.Errorf("start %s: %v", typ, err)
	}
	if len(files) != 2 {
		closeFiles(files)
		return nil, nil, fmt.Errorf("start %s: %d descriptors handed over", typ, len(files))
	}
	return files[0], files[1], nil
}
