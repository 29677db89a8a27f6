package reliability

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// TestReliabilityGatewayLoad brings up 10 workspaces behind one gateway and then:
//   - measures the gateway's resident memory per idle authenticated connection (200 of them);
//   - holds 200 SSH sessions open at once (one connection each, spread over the
//     workspaces), a third each exec, sftp and port forwarding, and checks every one;
//   - measures good connections' latency (dial, auth, exec) alone and while a thousand
//     connections with unknown keys hammer the gateway, and checks every bad one is refused.
//
// All traffic is on loopback; counts and times are bounded. No timing is asserted: the
// figures are logged for RELIABILITY.md.
func TestReliabilityGatewayLoad(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	g := withGateway(t, e)
	const nws, sessions = 10, 200
	names := make([]string, nws)
	for i := range nws {
		ws := e.workspace(cli, fmt.Sprintf("load-%d", i), `{"image": "`+workspaceImage+`"}`)
		res := g.up(t, ws)
		names[i] = res.Workspace
		startEcho(t, cli, res.ContainerID)
	}

	// Memory per idle connection.
	pid := g.pid(t)
	// Measured first, on a gateway that has served only the ups, so freed heap from the load
	// below does not hide the growth.
	// One session per workspace first, so the per-workspace agent links exist and are not
	// counted as connection cost.
	for _, n := range names {
		c, err := g.dial(n)
		if err != nil {
			t.Fatalf("warm-up connection to %s: %v", n, err)
		}
		if _, err := sshRun(c, "true"); err != nil {
			t.Fatalf("warm-up exec in %s: %v", n, err)
		}
		defer c.Close()
	}
	time.Sleep(time.Second)
	before, err := rss(pid)
	if err != nil {
		t.Fatal(err)
	}
	const idle = 200
	var conns []*ssh.Client
	for i := range idle {
		c, err := g.dial(names[i%nws])
		if err != nil {
			t.Fatalf("idle connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(time.Second)
	after, err := rss(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		c.Close()
	}
	t.Logf("MEMORY: gateway RSS %.1f MiB with no client, %.1f MiB with %d idle connections: %.1f KiB per idle connection",
		float64(before)/(1<<20), float64(after)/(1<<20), idle, float64(after-before)/idle/1024)

	// 200 concurrent sessions.
	var failed atomic.Int32
	var mu sync.Mutex
	var failures []string
	fail := func(i int, what string, err error) {
		failed.Add(1)
		mu.Lock()
		failures = append(failures, fmt.Sprintf("session %d (%s): %v", i, what, err))
		mu.Unlock()
	}
	var opened, done sync.WaitGroup
	opened.Add(sessions)
	release := make(chan struct{})
	start := time.Now()
	for i := range sessions {
		done.Add(1)
		go func() {
			defer done.Done()
			ws := names[i%nws]
			kind := []string{"exec", "sftp", "forward"}[i%3]
			c, err := g.dial(ws)
			if err != nil {
				opened.Done()
				fail(i, kind+" dial", err)
				return
			}
			defer c.Close()
			switch kind {
			case "exec":
				s, err := c.NewSession()
				opened.Done()
				if err != nil {
					fail(i, kind, err)
					return
				}
				defer s.Close()
				<-release
				out, err := s.CombinedOutput(fmt.Sprintf("echo %d; head -c 200000 /dev/zero | wc -c", i))
				if err != nil || string(out) != fmt.Sprintf("%d\n200000\n", i) {
					fail(i, kind, fmt.Errorf("output %q, %v", out, err))
				}
			case "sftp":
				sc, err := sftp.NewClient(c)
				opened.Done()
				if err != nil {
					fail(i, kind, err)
					return
				}
				defer sc.Close()
				<-release
				data := bytes.Repeat([]byte(fmt.Sprintf("%d-", i)), 20000)
				name := fmt.Sprintf("/tmp/load-%d", i)
				f, err := sc.Create(name)
				if err == nil {
					_, err = f.Write(data)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
				}
				var back []byte
				if err == nil {
					var r *sftp.File
					if r, err = sc.Open(name); err == nil {
						back, err = io.ReadAll(r)
						r.Close()
					}
				}
				if err != nil || !bytes.Equal(back, data) {
					fail(i, kind, fmt.Errorf("read back %d of %d bytes, %v", len(back), len(data), err))
				}
				sc.Remove(name)
			case "forward":
				conn, err := c.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", echoPort))
				opened.Done()
				if err != nil {
					fail(i, kind, err)
					return
				}
				defer conn.Close()
				<-release
				data := bytes.Repeat([]byte{byte(i)}, 128<<10)
				go conn.Write(data)
				back := make([]byte, len(data))
				if _, err := io.ReadFull(conn, back); err != nil || !bytes.Equal(back, data) {
					fail(i, kind, fmt.Errorf("echo: %v", err))
				}
			}
		}()
	}
	opened.Wait()
	openedIn := time.Since(start)
	close(release)
	done.Wait()
	t.Logf("LOAD: %d concurrent sessions (exec/sftp/forward) over %d workspaces: opened in %v, all done in %v, %d failed",
		sessions, nws, openedIn.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), failed.Load())
	for _, f := range failures {
		t.Error(f)
	}

	// Latency of good connections with and without bad-key connections.
	good := func(n int) []time.Duration {
		var out []time.Duration
		for i := range n {
			t0 := time.Now()
			c, err := g.dial(names[i%nws])
			if err != nil {
				t.Errorf("good connection: %v", err)
				continue
			}
			if _, err := sshRun(c, "true"); err != nil {
				t.Errorf("good connection exec: %v", err)
			}
			c.Close()
			out = append(out, time.Since(t0))
		}
		return out
	}
	quiet := good(40)
	const bad, badParallel = 1000, 50
	var refused, accepted atomic.Int32
	stop := make(chan struct{})
	var badDone sync.WaitGroup
	sem := make(chan struct{}, badParallel)
	badStart := time.Now()
	for i := range bad {
		badDone.Add(1)
		sem <- struct{}{}
		go func() {
			defer badDone.Done()
			defer func() { <-sem }()
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			signer, _ := ssh.NewSignerFromKey(priv)
			c, err := g.dial(names[i%nws], ssh.PublicKeys(signer))
			if err == nil {
				accepted.Add(1)
				c.Close()
				return
			}
			refused.Add(1)
		}()
		if i == badParallel {
			// Measure good connections while the rest of the bad ones run.
			go func() {
				defer close(stop)
				loaded := good(40)
				t.Logf("LATENCY: good connection (dial+auth+exec true) p50 %v p95 %v alone; p50 %v p95 %v during %d bad-key connections (%d at a time)",
					pct(quiet, 50), pct(quiet, 95), pct(loaded, 50), pct(loaded, 95), bad, badParallel)
			}()
		}
	}
	badDone.Wait()
	t.Logf("BADKEYS: %d connections with unknown keys in %v: %d refused, %d accepted",
		bad, time.Since(badStart).Round(time.Millisecond), refused.Load(), accepted.Load())
	<-stop
	if accepted.Load() != 0 {
		t.Errorf("%d connections with unknown keys were accepted", accepted.Load())
	}
	// The gateway is still serving.
	c, err := g.dial(names[0])
	if err != nil {
		t.Fatalf("gateway after the load: %v", err)
	}
	defer c.Close()
	if out, err := sshRun(c, "echo still"); err != nil || strings.TrimSpace(out) != "still" {
		t.Errorf("exec after the load: %q %v", out, err)
	}
}

// pct returns the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i].Round(100 * time.Microsecond)
}
