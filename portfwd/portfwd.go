// Package portfwd forwards workspace ports to 127.0.0.1 on the machine running mochi's
// server. A Set holds one workspace's forwards; Sync makes its listeners match a wanted list,
// so ports from forwardPorts, ports found listening inside the workspace and ports forwarded
// by hand are handled alike. Connections are dialled inside the workspace by a Dialer (the
// workspace's agent), so a process listening only on the workspace's localhost is reachable.
package portfwd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"sync"
)

// Origins of a forward.
const (
	OriginConfig = "forwardPorts"
	OriginAuto   = "auto"
	OriginManual = "manual"
)

// Spec is one wanted forward: connections to LocalPort on 127.0.0.1 reach Host:Port as seen
// from inside the workspace.
type Spec struct {
	Host string `json:"host"` // "localhost", or a compose service name
	Port int    `json:"port"`
	// LocalPort is the port wanted on this machine (0: the same as Port).
	LocalPort int    `json:"localPort,omitempty"`
	Label     string `json:"label,omitempty"`
	Origin    string `json:"origin"`
	// RequireLocalPort fails the forward instead of taking another local port.
	RequireLocalPort bool `json:"requireLocalPort,omitempty"`
}

func (s Spec) key() string { return s.Host + ":" + strconv.Itoa(s.Port) }

// Forward is an active forward.
type Forward struct {
	Spec
	// LocalAddr is where it listens, e.g. 127.0.0.1:3000.
	LocalAddr string `json:"localAddr"`
	// Error says why the forward is not active (LocalAddr is then empty).
	Error string `json:"error,omitempty"`
}

// Dialer opens a connection to host:port from inside the workspace.
type Dialer interface {
	Dial(ctx context.Context, host string, port int) (net.Conn, error)
}

// Set is the forwards of one workspace. It is safe for concurrent use.
type Set struct {
	log    *slog.Logger
	listen func(addr string) (net.Listener, error)

	mu      sync.Mutex
	dialer  Dialer
	forward map[string]*active
	closed  bool
}

type active struct {
	f  Forward
	l  net.Listener
	wg sync.WaitGroup
}

// NewSet returns an empty set; listen defaults to net.Listen("tcp", addr).
func NewSet(log *slog.Logger, listen func(addr string) (net.Listener, error)) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if listen == nil {
		listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	return &Set{log: log, listen: listen, forward: map[string]*active{}}
}

// Sync opens the forwards in want that are not open yet (through d) and closes those no
// longer wanted. It returns the forwards as they now are.
func (s *Set) Sync(ctx context.Context, d Dialer, want []Spec) []Forward {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dialer = d
	keep := map[string]bool{}
	for _, w := range want {
		k := w.key()
		if keep[k] {
			continue
		}
		keep[k] = true
		if a, ok := s.forward[k]; ok {
			a.f.Label, a.f.Origin = w.Label, w.Origin
			sameLocal := a.f.LocalPort == w.LocalPort && a.f.RequireLocalPort == w.RequireLocalPort
			if sameLocal && (a.l != nil || a.f.Spec == w) {
				continue
			}
			// The wanted local port changed (a forward by hand over an automatic one), or a
			// failed forward's spec changed: open it again.
			a.close()
			delete(s.forward, k)
		}
		s.forward[k] = s.open(w)
	}
	for k, a := range s.forward {
		if !keep[k] {
			a.close()
			delete(s.forward, k)
		}
	}
	return s.list()
}

// List returns the forwards, by workspace port.
func (s *Set) List() []Forward {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.list()
}

func (s *Set) list() []Forward {
	out := make([]Forward, 0, len(s.forward))
	for _, a := range s.forward {
		out = append(out, a.f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Host < out[j].Host
	})
	return out
}

// Close closes every forward.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.forward {
		a.close()
		delete(s.forward, k)
	}
	s.closed = true
}

// open listens for one spec: on its local port, else (unless required) on any free port.
func (s *Set) open(w Spec) *active {
	a := &active{f: Forward{Spec: w}}
	local := w.LocalPort
	if local == 0 {
		local = w.Port
	}
	l, err := s.listen(net.JoinHostPort("127.0.0.1", strconv.Itoa(local)))
	if err != nil && !w.RequireLocalPort {
		l, err = s.listen("127.0.0.1:0")
		if err == nil {
			s.log.Info("local port taken, forwarding from another", "want", local, "got", l.Addr().String(), "workspace-port", w.Port)
		}
	}
	if err != nil {
		a.f.Error = fmt.Sprintf("listen on 127.0.0.1:%d: %v", local, err)
		return a
	}
	a.l = l
	a.f.LocalAddr = l.Addr().String()
	a.wg.Add(1)
	go s.serve(a)
	return a
}

func (s *Set) serve(a *active) {
	defer a.wg.Done()
	for {
		c, err := a.l.Accept()
		if err != nil {
			return
		}
		go s.relay(c, a.f.Spec)
	}
}

// relay copies one local connection to the workspace; a refused dial closes it, which the
// client sees as its connection being closed at once.
func (s *Set) relay(c net.Conn, sp Spec) {
	defer c.Close()
	s.mu.Lock()
	d := s.dialer
	s.mu.Unlock()
	if d == nil {
		return
	}
	r, err := d.Dial(context.Background(), sp.Host, sp.Port)
	if err != nil {
		s.log.Debug("forwarded connection refused", "port", sp.Port, "error", err)
		return
	}
	defer r.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(r, c)
	go pipe(c, r)
	<-done
	<-done
}

func (a *active) close() {
	if a.l != nil {
		a.l.Close()
		a.wg.Wait()
	}
}

// ErrPortRange is returned for ports outside 1-65535.
var ErrPortRange = errors.New("port out of range (1-65535)")
