package portfwd

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// hostDialer dials this machine: the "workspace" is the test process.
type hostDialer struct{}

func (hostDialer) Dial(ctx context.Context, host string, port int) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// echoServer answers every connection with "hello <port>" and returns its port.
func echoServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello "+strconv.Itoa(port)+"\n")
			c.Close()
		}
	}()
	return port
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func read(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	b, _ := io.ReadAll(c)
	return string(b)
}

func TestSyncForwardsAndCloses(t *testing.T) {
	remote := echoServer(t)
	local := freePort(t)
	s := NewSet(nil, nil)
	defer s.Close()
	fs := s.Sync(context.Background(), hostDialer{}, []Spec{{Host: "localhost", Port: remote, LocalPort: local, Origin: OriginConfig, Label: "web"}})
	if len(fs) != 1 || fs[0].LocalAddr != "127.0.0.1:"+strconv.Itoa(local) || fs[0].Label != "web" {
		t.Fatalf("forwards = %+v", fs)
	}
	if got := read(t, fs[0].LocalAddr); got != "hello "+strconv.Itoa(remote)+"\n" {
		t.Errorf("through the forward: %q", got)
	}
	if fs := s.Sync(context.Background(), hostDialer{}, nil); len(fs) != 0 {
		t.Fatalf("after sync with nothing wanted: %+v", fs)
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(local)); err == nil {
		t.Errorf("a released forward still accepts connections")
	}
}

func TestTakenLocalPort(t *testing.T) {
	remote := echoServer(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	taken := busy.Addr().(*net.TCPAddr).Port
	s := NewSet(nil, nil)
	defer s.Close()
	fs := s.Sync(context.Background(), hostDialer{}, []Spec{
		{Host: "localhost", Port: remote, LocalPort: taken, Origin: OriginAuto},
		{Host: "localhost", Port: remote + 0, LocalPort: taken, Origin: OriginAuto}, // duplicate: ignored
	})
	if len(fs) != 1 || fs[0].LocalAddr == "" || strings.HasSuffix(fs[0].LocalAddr, ":"+strconv.Itoa(taken)) {
		t.Fatalf("a taken local port must give another one: %+v", fs)
	}
	if got := read(t, fs[0].LocalAddr); !strings.HasPrefix(got, "hello") {
		t.Errorf("through the substitute port: %q", got)
	}
	s2 := NewSet(nil, nil)
	defer s2.Close()
	fs = s2.Sync(context.Background(), hostDialer{}, []Spec{{Host: "localhost", Port: remote, LocalPort: taken, RequireLocalPort: true}})
	if len(fs) != 1 || fs[0].LocalAddr != "" || !strings.Contains(fs[0].Error, "listen on 127.0.0.1:"+strconv.Itoa(taken)) {
		t.Fatalf("requireLocalPort with the port taken: %+v", fs)
	}
}

type refusingDialer struct{}

func (refusingDialer) Dial(context.Context, string, int) (net.Conn, error) {
	return nil, errors.New("connection refused")
}

func TestNoListenerInside(t *testing.T) {
	s := NewSet(nil, nil)
	defer s.Close()
	fs := s.Sync(context.Background(), refusingDialer{}, []Spec{{Host: "localhost", Port: 1, LocalPort: freePort(t)}})
	if got := read(t, fs[0].LocalAddr); got != "" {
		t.Errorf("a refused dial inside must close the client's connection, got %q", got)
	}
}

func TestLocalPortChangeReopens(t *testing.T) {
	remote := echoServer(t)
	s := NewSet(nil, nil)
	defer s.Close()
	s.Sync(context.Background(), hostDialer{}, []Spec{{Host: "localhost", Port: remote, Origin: OriginAuto, LocalPort: freePort(t)}})
	want := freePort(t)
	fs := s.Sync(context.Background(), hostDialer{}, []Spec{{Host: "localhost", Port: remote, LocalPort: want, Origin: OriginManual}})
	if len(fs) != 1 || fs[0].LocalAddr != "127.0.0.1:"+strconv.Itoa(want) || fs[0].Origin != OriginManual {
		t.Fatalf("a forward by hand over an automatic one: %+v, want local port %d", fs, want)
	}
}
