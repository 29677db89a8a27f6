package agent

import (
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// streamConn adapts a byte stream to the net.Conn that x/crypto/ssh wants.
func streamConn(rwc io.ReadWriteCloser) net.Conn {
	if c, ok := rwc.(net.Conn); ok {
		return c
	}
	return &rwcConn{ReadWriteCloser: rwc}
}

// rwcConn closes its stream once, whoever calls Close how often: x/crypto/ssh closes
// its transport from more than one goroutine, and streams such as an exec.Cmd's pipes
// are not safe for that.
type rwcConn struct {
	io.ReadWriteCloser
	once sync.Once
	err  error
}

func (c *rwcConn) Close() error {
	c.once.Do(func() { c.err = c.ReadWriteCloser.Close() })
	return c.err
}

type streamAddr struct{}

func (streamAddr) Network() string { return "stream" }
func (streamAddr) String() string  { return "stream" }

func (*rwcConn) LocalAddr() net.Addr                { return streamAddr{} }
func (*rwcConn) RemoteAddr() net.Addr               { return streamAddr{} }
func (*rwcConn) SetDeadline(t time.Time) error      { return nil }
func (*rwcConn) SetReadDeadline(t time.Time) error  { return nil }
func (*rwcConn) SetWriteDeadline(t time.Time) error { return nil }

// StreamConn adapts a byte stream (a pipe, the stdio of `docker exec -i`) to a net.Conn
// for x/crypto/ssh. Deadlines are ignored; a net.Conn is returned unchanged.
func StreamConn(rwc io.ReadWriteCloser) net.Conn { return streamConn(rwc) }

type closeWriter interface{ CloseWrite() error }

// PipeChannel relays ch and c both ways, passing each direction's EOF on as a half-close,
// and closes both when both directions are done.
func PipeChannel(ch ssh.Channel, c net.Conn) { pipe(ch, c) }

// pipe relays ch and c both ways, passing each direction's EOF on as a half-close, and
// closes both when both directions are done.
func pipe(ch ssh.Channel, c net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.Copy(c, ch)
		if cw, ok := c.(closeWriter); ok {
			cw.CloseWrite()
		} else {
			c.Close()
		}
	}()
	go func() {
		defer wg.Done()
		io.Copy(ch, c)
		ch.CloseWrite()
	}()
	wg.Wait()
	ch.Close()
	c.Close()
}

// Stdio is the process's stdin and stdout as one stream, for `mochi agent serve
// --stdio`. Closing it closes both.
func Stdio() io.ReadWriteCloser { return stdioStream{} }

type stdioStream struct{}

func (stdioStream) Read(b []byte) (int, error)  { return os.Stdin.Read(b) }
func (stdioStream) Write(b []byte) (int, error) { return os.Stdout.Write(b) }
func (stdioStream) Close() error {
	err := os.Stdin.Close()
	if err2 := os.Stdout.Close(); err == nil {
		err = err2
	}
	return err
}
