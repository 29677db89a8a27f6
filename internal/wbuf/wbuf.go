// Package wbuf coalesces many small writes into few large ones: a Writer copies each
// write into a buffer and one goroutine hands the buffer's whole content to the
// underlying writer at a time. A stream of SSH or SFTP packets, written one or two
// system calls per packet, becomes a few calls per hundred kilobytes, with no added
// latency: the goroutine writes as soon as there is data, and data piles up only while
// it is busy writing.
package wbuf

import (
	"io"
	"net"
	"sync"
	"time"
)

// DefaultMax is the buffer size at which Write waits for the writer goroutine.
const DefaultMax = 256 << 10

// Writer is a write-behind buffer in front of an io.Writer. Write returns once its data
// is buffered; an error of the underlying writer is returned by the next Write or Flush.
type Writer struct {
	w   io.Writer
	max int

	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte // waiting to be written
	spare   []byte // the other buffer, reused
	writing bool   // the goroutine is writing a batch
	err     error
	closed  bool
	stopped bool
}

// NewWriter starts a Writer in front of w that buffers up to max bytes (DefaultMax if
// max <= 0) before Write waits.
func NewWriter(w io.Writer, max int) *Writer {
	if max <= 0 {
		max = DefaultMax
	}
	b := &Writer{w: w, max: max}
	b.cond = sync.NewCond(&b.mu)
	go b.loop()
	return b
}

// Write buffers p, waiting while the buffer is full.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for len(p) > 0 {
		for b.err == nil && !b.closed && len(b.buf) >= b.max {
			b.cond.Wait()
		}
		if b.err != nil {
			return n, b.err
		}
		if b.closed {
			return n, io.ErrClosedPipe
		}
		k := min(len(p), b.max-len(b.buf))
		b.buf = append(b.buf, p[:k]...)
		p = p[k:]
		n += k
		b.cond.Broadcast()
	}
	return n, nil
}

// Flush waits until everything written so far has reached the underlying writer.
func (b *Writer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.err == nil && (len(b.buf) > 0 || b.writing) {
		b.cond.Wait()
	}
	return b.err
}

// Close flushes and stops the goroutine; it does not close the underlying writer.
func (b *Writer) Close() error {
	err := b.Flush()
	b.mu.Lock()
	b.closed = true
	b.cond.Broadcast()
	for !b.stopped {
		b.cond.Wait()
	}
	b.mu.Unlock()
	return err
}

func (b *Writer) loop() {
	b.mu.Lock()
	defer func() {
		b.stopped = true
		b.cond.Broadcast()
		b.mu.Unlock()
	}()
	for {
		for len(b.buf) == 0 && !b.closed && b.err == nil {
			b.cond.Wait()
		}
		if len(b.buf) == 0 || b.err != nil {
			return
		}
		batch := b.buf
		b.buf, b.spare = b.spare[:0], nil
		b.writing = true
		b.cond.Broadcast() // room for writers again
		b.mu.Unlock()
		_, err := b.w.Write(batch)
		b.mu.Lock()
		b.writing = false
		b.spare = batch[:0]
		if err != nil && b.err == nil {
			b.err = err
		}
		b.cond.Broadcast()
	}
}

// closeFlushTimeout bounds how long Conn.Close waits for buffered data to go out.
const closeFlushTimeout = 5 * time.Second

// Conn puts a Writer in front of c's writes. Close sends what is buffered (waiting at most
// a few seconds for a peer that does not read), then closes c.
func Conn(c net.Conn) net.Conn {
	return &conn{Conn: c, w: NewWriter(c, 0)}
}

type conn struct {
	net.Conn
	w *Writer
}

func (c *conn) Write(p []byte) (int, error) { return c.w.Write(p) }

func (c *conn) Close() error {
	done := make(chan struct{})
	go func() {
		c.w.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeFlushTimeout):
	}
	return c.Conn.Close()
}

// CloseWrite sends what is buffered, then half-closes c when it can.
func (c *conn) CloseWrite() error {
	if err := c.w.Flush(); err != nil {
		return err
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
