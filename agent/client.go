package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// ClientOptions configure a connection to an agent.
type ClientOptions struct {
	// Signer proves the workspace key; nil tries "none" authentication, which only an
	// agent on a private stream accepts.
	Signer ssh.Signer
	// HostKey pins the agent's host key; nil accepts any, which is right for a private
	// stream whose other end was started by the caller.
	HostKey ssh.PublicKey
	// User is the SSH user name presented to the agent; it does not choose the
	// session user (see Command.User). Default "mochi".
	User string
	// OnChannel receives the channels the agent opens (forwarded ports, agent
	// forwarding). Nil rejects them.
	OnChannel func(ssh.NewChannel)
}

// Client is a connection to an agent.
type Client struct {
	conn ssh.Conn
	fd   fdState
}

// Dial runs the SSH handshake with an agent over stream.
func Dial(ctx context.Context, stream io.ReadWriteCloser, opts ClientOptions) (*Client, error) {
	cfg := &ssh.ClientConfig{User: opts.User, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	if cfg.User == "" {
		cfg.User = "mochi"
	}
	if opts.HostKey != nil {
		cfg.HostKeyCallback = ssh.FixedHostKey(opts.HostKey)
	}
	if opts.Signer != nil {
		cfg.Auth = []ssh.AuthMethod{ssh.PublicKeys(opts.Signer)}
	}
	c := streamConn(stream)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	conn, chans, reqs, err := ssh.NewClientConn(c, "agent", cfg)
	if !stop() || err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("connect to agent: %w", err)
	}
	go ssh.DiscardRequests(reqs)
	go func() {
		for nc := range chans {
			if opts.OnChannel != nil {
				opts.OnChannel(nc)
			} else {
				nc.Reject(ssh.Prohibited, "no forwarding requested")
			}
		}
	}()
	cl := &Client{conn: conn}
	if sc, ok := stream.(*socketConn); ok {
		cl.fd.socket = sc.path
	}
	go func() {
		conn.Wait()
		cl.fd.close()
	}()
	return cl, nil
}

// Conn is the underlying SSH connection, for relaying.
func (c *Client) Conn() ssh.Conn { return c.conn }

// Close ends the connection.
func (c *Client) Close() error {
	c.fd.close()
	return c.conn.Close()
}

// Wait blocks until the connection ends.
func (c *Client) Wait() error { return c.conn.Wait() }

// Command is a program to run in the workspace through the user's shell (`$SHELL -c`).
type Command struct {
	Cmd  string
	User string   // empty: the agent's default user
	Env  []string // KEY=VALUE, added after the agent's Options.Env
	Dir  string   // empty: the agent's Options.Dir, else the user's home
	// Stdin is copied to the program and then closed; nil gives an empty stdin.
	Stdin          io.Reader
	Stdout, Stderr io.Writer // nil discards
}

// Result is how a program ended.
type Result struct {
	ExitCode int    // 255 when killed by a signal
	Signal   string // the signal name ("TERM") if killed by one
}

// Run runs cmd and waits for it. Cancelling ctx sends SIGKILL and closes the session.
func (c *Client) Run(ctx context.Context, cmd Command) (Result, error) {
	spec := SessionSpec{User: cmd.User, Env: cmd.Env, Dir: cmd.Dir}
	ch, reqs, err := c.conn.OpenChannel("session", spec.marshal())
	if err != nil {
		return Result{}, fmt.Errorf("open session: %w", err)
	}
	defer ch.Close()
	ok, err := ch.SendRequest("exec", true, ssh.Marshal(execRequest{Command: cmd.Cmd}))
	if err != nil || !ok {
		return Result{}, fmt.Errorf("run %q: %w", cmd.Cmd, errors.Join(errors.New("exec refused"), err))
	}
	go func() {
		if cmd.Stdin != nil {
			io.Copy(ch, cmd.Stdin)
		}
		ch.CloseWrite()
	}()
	var wg sync.WaitGroup
	wg.Add(2)
	copyOut := func(w io.Writer, r io.Reader) {
		defer wg.Done()
		if w == nil {
			w = io.Discard
		}
		io.Copy(w, r)
	}
	go copyOut(cmd.Stdout, ch)
	go copyOut(cmd.Stderr, ch.Stderr())

	stop := context.AfterFunc(ctx, func() {
		ch.SendRequest("signal", false, ssh.Marshal(signalRequest{Signal: "KILL"}))
		ch.Close()
	})
	defer stop()
	var res Result
	got := false
	for req := range reqs {
		switch req.Type {
		case "exit-status":
			var st exitStatus
			if ssh.Unmarshal(req.Payload, &st) == nil {
				res.ExitCode, got = int(st.Status), true
			}
		case "exit-signal":
			var sig exitSignal
			if ssh.Unmarshal(req.Payload, &sig) == nil {
				res, got = Result{ExitCode: 255, Signal: sig.Signal}, true
			}
		}
		req.Reply(false, nil)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if !got {
		return res, fmt.Errorf("run %q: session closed without exit status", cmd.Cmd)
	}
	return res, nil
}

// ListPorts asks the agent for the TCP ports listening inside the workspace.
func (c *Client) ListPorts(ctx context.Context) ([]Port, error) {
	type answer struct {
		ok      bool
		payload []byte
		err     error
	}
	done := make(chan answer, 1)
	go func() {
		ok, payload, err := c.conn.SendRequest(PortsRequestType, true, nil)
		done <- answer{ok, payload, err}
	}()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case a := <-done:
		if a.err != nil {
			return nil, fmt.Errorf("list ports: %w", a.err)
		}
		if !a.ok {
			return nil, errors.New("list ports: refused by agent")
		}
		var ports []Port
		if err := json.Unmarshal(a.payload, &ports); err != nil {
			return nil, fmt.Errorf("list ports: %w", err)
		}
		return ports, nil
	}
}
