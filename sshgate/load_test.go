package sshgate

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// TestManyConcurrentSessions is the JetBrains-like load: many short sessions at once on
// one connection, some with a pty, each with its own exit code.
func TestManyConcurrentSessions(t *testing.T) {
	g := startGateway(t, nil)
	c := g.mustDial(t, "ws1")
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := c.NewSession()
			if err != nil {
				errs <- err
				return
			}
			defer s.Close()
			if i%3 == 0 {
				if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
					errs <- err
					return
				}
			}
			out, err := s.Output(fmt.Sprintf("echo %d; exit %d", i, i%7))
			var ee *ssh.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitStatus()
			} else if err != nil {
				errs <- fmt.Errorf("session %d: %w", i, err)
				return
			}
			if code != i%7 || strings.TrimSpace(string(out)) != fmt.Sprint(i) {
				errs <- fmt.Errorf("session %d: exit %d output %q", i, code, out)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkGatewayUpload measures a raw channel upload through the gateway and agent
// (`cat > /dev/null`), the path of `ssh host 'cat > f' < f`.
func BenchmarkGatewayUpload(b *testing.B) {
	g := startGateway(b, nil)
	c, err := g.dial(b, "ws1")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	chunk := make([]byte, 1<<20)
	b.SetBytes(int64(len(chunk)) * 64)
	for i := 0; i < b.N; i++ {
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		w, _ := s.StdinPipe()
		if err := s.Start("cat > /dev/null"); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 64; j++ {
			w.Write(chunk)
		}
		w.Close()
		if err := s.Wait(); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkGatewayDownload is the other direction (`cat` of 64 MiB of zeros).
func BenchmarkGatewayDownload(b *testing.B) {
	g := startGateway(b, nil)
	c, err := g.dial(b, "ws1")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(64 << 20)
	for i := 0; i < b.N; i++ {
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		r, _ := s.StdoutPipe()
		if err := s.Start("head -c 67108864 /dev/zero"); err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, r)
		if err := s.Wait(); err != nil || n != 64<<20 {
			b.Fatalf("%d bytes, %v", n, err)
		}
		s.Close()
	}
}
