package agent

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Handing file descriptors over.
//
// When the agent listens on a unix socket on the same machine as its caller (the gateway
// and mochi's server reach a Docker or LXC workspace that way), bulk data need not pass
// through the agent at all. The caller opens a second, plain connection to the same
// socket, the fd pipe, and the agent passes it (SCM_RIGHTS) the sockets it dials inside
// the workspace and the pipes of programs it starts; the caller then reads and writes them
// directly. An sftp download becomes sftp server -> pipe -> gateway -> client, the shape
// of sshd's own, and a forwarded port a socket the caller splices to its own.
//
// Setting the pipe up: the caller sends FDPipeRequestType on its (authenticated) SSH
// connection and gets a one-time token; it connects again, writes fdPipeMagic, the token
// and a newline, and reads one byte (0: attached). Each hand-over is then one message on
// the pipe: a tag (chosen by the caller in the request that asked for the descriptors)
// and a count, 4 bytes each, big endian, with the descriptors as SCM_RIGHTS.

const (
	fdPipeMagic    = "MOCHIFD1 "
	fdTokenTimeout = 30 * time.Second
	fdWaitTimeout  = 30 * time.Second
	maxFDsPerMsg   = 4
)

// fdHeader is one hand-over message's header.
func fdHeader(tag uint32, n int) []byte {
	var h [8]byte
	binary.BigEndian.PutUint32(h[:4], tag)
	binary.BigEndian.PutUint32(h[4:], uint32(n))
	return h[:]
}

// rawFD is the descriptor of f, valid while f is open.
func rawFD(f syscall.Conn) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(v uintptr) { fd = int(v) }); err != nil {
		return -1, err
	}
	return fd, nil
}

// fdSender is the agent's end of an fd pipe.
type fdSender struct {
	mu   sync.Mutex
	conn *net.UnixConn
}

// send hands files over under tag. The caller still owns (and closes) them.
func (s *fdSender) send(tag uint32, files ...syscall.Conn) error {
	fds := make([]int, 0, len(files))
	for _, f := range files {
		fd, err := rawFD(f)
		if err != nil {
			return fmt.Errorf("hand over descriptor: %w", err)
		}
		fds = append(fds, fd)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, err := s.conn.WriteMsgUnix(fdHeader(tag, len(fds)), unix.UnixRights(fds...), nil)
	runtime.KeepAlive(files)
	if err != nil {
		return fmt.Errorf("hand over descriptor: %w", err)
	}
	return nil
}

// fdRegistry matches fd pipe connections to the SSH connections that asked for them, by
// token. One per listener.
type fdRegistry struct {
	mu      sync.Mutex
	pending map[string]*conn
}

// token registers a for one fd pipe connection within fdTokenTimeout.
func (r *fdRegistry) token(a *conn) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	t := hex.EncodeToString(b[:])
	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[string]*conn{}
	}
	r.pending[t] = a
	r.mu.Unlock()
	time.AfterFunc(fdTokenTimeout, func() {
		r.mu.Lock()
		delete(r.pending, t)
		r.mu.Unlock()
	})
	return t, nil
}

func (r *fdRegistry) take(t string) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.pending[t]
	delete(r.pending, t)
	return a
}

// sniffedConn is an accepted connection whose first bytes were read to tell an fd pipe
// from SSH.
type sniffedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c sniffedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// sniff tells an fd pipe connection from an SSH one. For an fd pipe it attaches the
// connection to the SSH connection that asked for it and returns nil; otherwise it
// returns the connection to serve SSH on, its first bytes intact.
func (r *fdRegistry) sniff(c net.Conn) net.Conn {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return c
	}
	br := bufio.NewReaderSize(c, 128)
	c.SetReadDeadline(time.Now().Add(fdTokenTimeout))
	head, err := br.Peek(len(fdPipeMagic))
	c.SetReadDeadline(time.Time{})
	if err != nil || string(head) != fdPipeMagic {
		return sniffedConn{c, br}
	}
	br.Discard(len(fdPipeMagic))
	c.SetReadDeadline(time.Now().Add(fdTokenTimeout))
	line, err := br.ReadString('\n')
	c.SetReadDeadline(time.Time{})
	var a *conn
	if err == nil && len(line) > 1 {
		a = r.take(line[:len(line)-1])
	}
	if a == nil || br.Buffered() != 0 {
		c.Close()
		return nil
	}
	a.attachFDPipe(&fdSender{conn: uc})
	if _, err := c.Write([]byte{0}); err != nil {
		c.Close()
	}
	return nil
}

// fdPipe is the caller's end: it reads hand-overs and gives each to whoever waits for
// its tag.
type fdPipe struct {
	conn *net.UnixConn

	mu      sync.Mutex
	next    uint32
	waiting map[uint32]chan []*os.File
	err     error
}

// openFDPipe connects the fd pipe of an SSH connection to the agent at socket, using the
// token the agent gave.
func openFDPipe(socket, token string) (*fdPipe, error) {
	c, err := net.DialTimeout("unix", socket, 10*time.Second)
	if err != nil {
		return nil, err
	}
	uc := c.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(fdTokenTimeout))
	var ack [1]byte
	if _, err = uc.Write([]byte(fdPipeMagic + token + "\n")); err == nil {
		_, err = io.ReadFull(uc, ack[:])
	}
	uc.SetDeadline(time.Time{})
	if err != nil || ack[0] != 0 {
		uc.Close()
		return nil, fmt.Errorf("attach fd pipe: %w", errors.Join(err, ErrNoFDPassing))
	}
	p := &fdPipe{conn: uc, waiting: map[uint32]chan []*os.File{}}
	go p.readLoop()
	return p, nil
}

// expect reserves a tag; wait then returns the files handed over under it.
func (p *fdPipe) expect() (uint32, chan []*os.File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	ch := make(chan []*os.File, 1)
	p.waiting[p.next] = ch
	return p.next, ch
}

// forget drops a tag whose hand-over will not be taken (the request was refused or gave
// up), closing what already came under it; what comes later is closed by readLoop.
func (p *fdPipe) forget(tag uint32, ch chan []*os.File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, tag)
	select {
	case files, ok := <-ch:
		if ok {
			closeFiles(files)
		}
	default:
	}
}

// wait returns the files of tag, or an error when they do not come.
func (p *fdPipe) wait(tag uint32, ch chan []*os.File) ([]*os.File, error) {
	t := time.NewTimer(fdWaitTimeout)
	defer t.Stop()
	select {
	case files, ok := <-ch:
		if !ok {
			return nil, fmt.Errorf("fd pipe closed: %w", ErrNoFDPassing)
		}
		return files, nil
	case <-t.C:
		p.forget(tag, ch)
		return nil, fmt.Errorf("no descriptors from the agent in %s", fdWaitTimeout)
	}
}

func (p *fdPipe) close() { p.conn.Close() }

func (p *fdPipe) readLoop() {
	defer func() {
		p.mu.Lock()
		for tag, ch := range p.waiting {
			close(ch)
			delete(p.waiting, tag)
		}
		p.mu.Unlock()
	}()
	oob := make([]byte, unix.CmsgSpace(4*maxFDsPerMsg))
	for {
		tag, files, err := p.readOne(oob)
		if err != nil {
			return
		}
		// Delivered under the lock (the channel holds one hand-over, so this never
		// blocks), so that forget either finds the files or leaves none to come.
		p.mu.Lock()
		ch := p.waiting[tag]
		delete(p.waiting, tag)
		if ch != nil {
			ch <- files
		}
		p.mu.Unlock()
		if ch == nil {
			closeFiles(files)
		}
	}
}

// readOne reads one hand-over: its header and the descriptors that came with it.
func (p *fdPipe) readOne(oob []byte) (uint32, []*os.File, error) {
	var hdr [8]byte
	var files []*os.File
	for got := 0; got < len(hdr); {
		n, oobn, flags, _, err := p.conn.ReadMsgUnix(hdr[got:], oob)
		if oobn > 0 {
			fs, perr := parseRights(oob[:oobn])
			files = append(files, fs...)
			if perr == nil && flags&unix.MSG_CTRUNC != 0 {
				perr = errors.New("descriptors truncated")
			}
			if perr != nil {
				closeFiles(files)
				return 0, nil, perr
			}
		}
		if err != nil {
			closeFiles(files)
			return 0, nil, err
		}
		if n == 0 {
			closeFiles(files)
			return 0, nil, io.EOF
		}
		got += n
	}
	if want := int(binary.BigEndian.Uint32(hdr[4:])); want != len(files) {
		closeFiles(files)
		return 0, nil, fmt.Errorf("fd pipe: %d descriptors announced, %d received", want, len(files))
	}
	return binary.BigEndian.Uint32(hdr[:4]), files, nil
}

// parseRights turns SCM_RIGHTS messages into non-blocking files (the runtime's poller then
// serves them).
func parseRights(oob []byte) ([]*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			unix.SetNonblock(fd, true)
			files = append(files, os.NewFile(uintptr(fd), "agent-fd"))
		}
	}
	return files, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
