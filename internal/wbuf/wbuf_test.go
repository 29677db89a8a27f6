package wbuf

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// countingWriter records what reaches it and in how many calls.
type countingWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	calls int
	delay time.Duration
	err   error
}

func (w *countingWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.calls++
	return w.buf.Write(p)
}

func TestWriterKeepsOrderAndCoalesces(t *testing.T) {
	cw := &countingWriter{delay: time.Millisecond}
	w := NewWriter(cw, 64<<10)
	var want bytes.Buffer
	for i := range 2000 {
		p := bytes.Repeat([]byte{byte(i)}, 1+i%700)
		want.Write(p)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cw.buf.Bytes(), want.Bytes()) {
		t.Fatalf("underlying writer got %d bytes, not the %d written in order", cw.buf.Len(), want.Len())
	}
	// A slow writer sees far fewer calls than there were writes.
	if cw.calls >= 2000/4 {
		t.Fatalf("%d calls for 2000 writes: nothing was coalesced", cw.calls)
	}
}

func TestWriterReportsError(t *testing.T) {
	boom := errors.New("boom")
	w := NewWriter(&countingWriter{err: boom}, 16)
	w.Write([]byte("x"))
	if err := w.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush after a failed write: %v", err)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, boom) {
		t.Fatalf("Write after a failed write: %v", err)
	}
	w.Close()
}

// A large write waits for room instead of growing the buffer without bound.
func TestWriterBoundsBuffer(t *testing.T) {
	r, wr := io.Pipe()
	w := NewWriter(wr, 1024)
	done := make(chan struct{})
	go func() {
		w.Write(make([]byte, 10*1024))
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a 10 KiB write into a 1 KiB buffer returned with nobody reading")
	case <-time.After(100 * time.Millisecond):
	}
	go io.Copy(io.Discard, r)
	<-done
	w.Close()
}

func TestConnFlushesOnClose(t *testing.T) {
	a, b := net.Pipe()
	c := Conn(a)
	got := make(chan []byte)
	go func() {
		p, _ := io.ReadAll(b)
		got <- p
	}()
	c.Write([]byte("hello "))
	c.Write([]byte("world"))
	c.Close()
	if p := <-got; string(p) != "hello world" {
		t.Fatalf("peer read %q", p)
	}
}
