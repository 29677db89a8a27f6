package agent

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// The agent's side of descriptor hand-over (fdpass.go): the token request, dialling for
// the caller, and session programs whose stdin and stdout go to the caller directly.

func (a *conn) attachFDPipe(s *fdSender) {
	a.mu.Lock()
	old := a.fds
	a.fds = s
	a.mu.Unlock()
	if old != nil {
		old.conn.Close()
	}
}

func (a *conn) fdSender() *fdSender {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fds
}

func (a *conn) closeFDPipe() {
	if s := a.fdSender(); s != nil {
		s.conn.Close()
	}
}

// fdPipeToken answers FDPipeRequestType.
func (a *conn) fdPipeToken(r *ssh.Request) {
	if a.reg == nil {
		r.Reply(false, nil)
		return
	}
	t, err := a.reg.token(a)
	if err != nil {
		r.Reply(false, nil)
		return
	}
	r.Reply(true, []byte(t))
}

// dialFD answers a DialFDChannelType open: dial inside the workspace, hand the socket
// over, then accept the channel and close it.
func (a *conn) dialFD(nc ssh.NewChannel) {
	var req dialFD
	out := a.fdSender()
	if out == nil || ssh.Unmarshal(nc.ExtraData(), &req) != nil || (req.Network != "tcp" && req.Network != "unix") {
		nc.Reject(ssh.Prohibited, "no descriptor hand-over on this connection")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, req.Network, req.Addr)
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, "connect to "+req.Addr+" in the workspace: "+err.Error())
		return
	}
	defer c.Close()
	f, err := c.(interface{ File() (*os.File, error) }).File()
	if err == nil {
		err = out.send(req.Tag, f)
		f.Close()
	}
	if err != nil {
		a.log.Info("hand over socket", "err", err)
		nc.Reject(ssh.ConnectionFailed, "hand over the connection to "+req.Addr+": "+err.Error())
		return
	}
	if ch, reqs, err := nc.Accept(); err == nil {
		go ssh.DiscardRequests(reqs)
		ch.Close()
	}
}

// startFD answers StartFDRequestType on a session. A refusal leaves the session as it was,
// so the caller can send the plain request, which then reports any error the usual way.
// The reply goes out before the program's exit can be reported: a session closed before
// the reply to its start would lose the reply, and the caller would take the start as failed.
func (s *session) startFD(req *ssh.Request) {
	if !s.tryStartFD(req) {
		req.Reply(false, nil)
	}
}

// tryStartFD starts the program with its pipes handed over and replies, or returns false
// having done neither.
func (s *session) tryStartFD(req *ssh.Request) bool {
	var r startFD
	out := s.a.fdSender()
	if out == nil || ssh.Unmarshal(req.Payload, &r) != nil {
		return false
	}
	kind, command := r.Type, ""
	switch r.Type {
	case "shell":
	case "exec", "subsystem":
		var e execRequest
		if ssh.Unmarshal(r.Payload, &e) != nil {
			return false
		}
		command = e.Command
		if r.Type == "subsystem" {
			if e.Command != "sftp" {
				return false
			}
			kind = "sftp"
		}
	default:
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed || (s.pty != nil && kind != "sftp") {
		return false
	}
	cmd, err := s.command(kind, command)
	if err != nil {
		return false
	}
	finish, err := s.startHandedOver(cmd, out, r.Tag)
	if err != nil {
		s.a.log.Info("session start with hand-over", "err", err)
		return false
	}
	s.started = true
	s.proc = cmd.Process
	if testHookStartFDReply != nil {
		testHookStartFDReply()
	}
	req.Reply(true, nil)
	go func() {
		err := cmd.Wait()
		finish()
		s.exit(cmd, err)
	}()
	return true
}

// testHookStartFDReply, when set by a test, runs just before a hand-over start is
// answered (to widen the window in which a program's exit could overtake the answer).
var testHookStartFDReply func()

// pipeSize is the capacity asked for the pipes of a handed-over program.
const pipeSize = 1 << 20

// startHandedOver runs cmd with its stdin and stdout as pipes handed over under tag and
// its stderr to the channel. The returned func waits until stderr is drained.
func (s *session) startHandedOver(cmd *exec.Cmd, out *fdSender, tag uint32) (func(), error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		files = append(files, r, w)
	}
	inR, inW, outR, outW, errR, errW := files[0], files[1], files[2], files[3], files[4], files[5]
	// Room for bulk data: a program such as the sftp server writes far more than the
	// default 64 KiB between two reads of the gateway. (Best effort: the kernel may cap it.)
	for _, f := range []*os.File{inW, outW} {
		if fd, err := rawFD(f); err == nil {
			unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, err
	}
	inR.Close()
	outW.Close()
	errW.Close()
	err := out.send(tag, inW, outR)
	inW.Close()
	outR.Close()
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		errR.Close()
		return nil, fmt.Errorf("hand over pipes: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(s.ch.Stderr(), errR)
		errR.Close()
	}()
	return wg.Wait, nil
}
