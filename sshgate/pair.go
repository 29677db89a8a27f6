package sshgate

import (
	"errors"
	"io"
	"sync"

	"github.com/mochi-dev/mochi/agent"
	"golang.org/x/crypto/ssh"
)

// relay joins two channels: data both ways with each side's EOF passed on, stderr
// (extended data) from b to a, channel requests both ways with their replies. a is
// closed once b closed and its data was delivered; b is closed when a closes.
//
// With holdEOF, b's EOF reaches a only after b's requests (a session's exit-status)
// were passed on: data and requests are relayed by different goroutines, and a client
// such as PuTTY that closes the channel on EOF would otherwise lose the exit status.
func relay(a ssh.Channel, aReqs <-chan *ssh.Request, b ssh.Channel, bReqs <-chan *ssh.Request, holdEOF bool) {
	p := newPair(a, aReqs, b, bReqs)
	p.holdEOF = holdEOF
	p.begin(nil, nil)
	p.run()
}

// relaySession relays a client's session channel a to the agent's b. When the agent can
// hand descriptors over and the session has no pty, its program's stdin and stdout are
// handed over at start and a's data goes to and from them directly, not through b: the
// bulk of an sftp or scp transfer then passes through no one but the gateway.
func relaySession(a ssh.Channel, aReqs <-chan *ssh.Request, b ssh.Channel, bReqs <-chan *ssh.Request, client *agent.Client, handedOver func()) {
	p := newPair(a, aReqs, b, bReqs)
	p.holdEOF = true
	p.client = client
	p.handedOver = handedOver
	p.run()
}

// pair is one relayed channel pair.
type pair struct {
	a, b         ssh.Channel
	aReqs, bReqs <-chan *ssh.Request
	holdEOF      bool
	client       *agent.Client // set for a session that may be handed over
	handedOver   func()        // called when it was

	pty       bool          // the client asked for a pty: no hand-over
	started   chan struct{} // closed when a's data may flow (the program started)
	startOnce sync.Once
	// Where a's data goes and b's data comes from besides b: the program's handed-over
	// stdin and stdout, nil when they are b's.
	stdin    io.WriteCloser
	stdout   io.ReadCloser
	outDone  chan struct{} // the handed-over stdout is drained (or there is none)
	outOnce  sync.Once
	aGone    chan struct{} // the client closed a
	reqsDone chan struct{} // b's requests are all passed on
	order    sync.Mutex    // one request at a time on the pair
}

func newPair(a ssh.Channel, aReqs <-chan *ssh.Request, b ssh.Channel, bReqs <-chan *ssh.Request) *pair {
	return &pair{a: a, b: b, aReqs: aReqs, bReqs: bReqs,
		started: make(chan struct{}), outDone: make(chan struct{}),
		aGone: make(chan struct{}), reqsDone: make(chan struct{})}
}

// begin lets a's data flow: to b, or to the handed-over stdin (and from stdout).
func (p *pair) begin(stdin io.WriteCloser, stdout io.ReadCloser) {
	p.startOnce.Do(func() {
		p.stdin, p.stdout = stdin, stdout
		if stdout != nil {
			go func() {
				// A large buffer: a read takes what the program wrote since the last one
				// (its pipe holds up to a MiB), and the channel cuts it into packets.
				io.CopyBuffer(p.a, onlyReader{stdout}, make([]byte, 256<<10))
				p.endOut()
			}()
		} else {
			p.endOut()
		}
		close(p.started)
	})
}

func (p *pair) endOut() { p.outOnce.Do(func() { close(p.outDone) }) }

func (p *pair) run() {
	go p.pumpIn()
	go io.Copy(io.Discard, p.a.Stderr())
	out := make(chan struct{})
	go func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); io.Copy(p.a, p.b) }()
		go func() { defer wg.Done(); io.Copy(p.a.Stderr(), p.b.Stderr()) }()
		wg.Wait()
		select {
		case <-p.outDone:
		case <-p.aGone:
		}
		if p.holdEOF {
			<-p.reqsDone
		}
		p.a.CloseWrite()
		close(out)
	}()
	// One request at a time on the pair, each until its reply: a's request that is
	// waiting for b's reply (a session's exec) is answered before b's later requests
	// (exit-status) and b's close reach a. PuTTY takes a close before the reply to its
	// exec for a refusal.
	go func() {
		for r := range p.aReqs {
			p.order.Lock()
			p.clientRequest(r)
			p.order.Unlock()
		}
		close(p.aGone)
		p.b.Close()
		p.closeHandedOver()
	}()
	for r := range p.bReqs {
		if r.Type == "exit-status" || r.Type == "exit-signal" {
			// After the program's output, as it would be through b.
			select {
			case <-p.outDone:
			case <-p.aGone:
			}
		}
		p.order.Lock()
		ok, err := p.a.SendRequest(r.Type, r.WantReply, r.Payload)
		r.Reply(ok && err == nil, nil)
		p.order.Unlock()
	}
	// b is gone: a program that never started has no output to wait for.
	select {
	case <-p.started:
	default:
		p.endOut()
	}
	close(p.reqsDone)
	<-out
	p.order.Lock()
	p.a.Close()
	p.order.Unlock()
}

// pumpIn copies a's data once the program started, passing a's EOF on.
func (p *pair) pumpIn() {
	select {
	case <-p.started:
	case <-p.aGone:
		return
	}
	if p.stdin != nil {
		// A large buffer takes every packet that has arrived in one read and one pipe write.
		io.CopyBuffer(onlyWriter{p.stdin}, p.a, make([]byte, 256<<10))
		p.stdin.Close()
	} else {
		io.Copy(p.b, p.a)
	}
	p.b.CloseWrite()
}

func (p *pair) closeHandedOver() {
	select {
	case <-p.started:
	default:
		return
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	if p.stdout != nil {
		p.stdout.Close()
	}
}

// clientRequest passes one of a's requests on to b. A session's start request is sent
// as a hand-over when it can be.
func (p *pair) clientRequest(r *ssh.Request) {
	switch r.Type {
	case "shell", "exec", "subsystem":
		if p.client != nil && !p.pty && !p.isStarted() {
			stdin, stdout, err := p.client.StartHandedOver(p.b, r.Type, r.Payload)
			if err == nil {
				p.handedOver()
				p.begin(stdin, stdout)
				r.Reply(true, nil)
				return
			}
			if !errors.Is(err, agent.ErrNoFDPassing) {
				r.Reply(false, nil)
				return
			}
		}
	}
	ok, err := p.b.SendRequest(r.Type, r.WantReply, r.Payload)
	ok = ok && err == nil
	switch r.Type {
	case "pty-req":
		p.pty = p.pty || ok
	case "shell", "exec", "subsystem":
		if ok || !r.WantReply {
			p.begin(nil, nil)
		}
	}
	r.Reply(ok, nil)
}

func (p *pair) isStarted() bool {
	select {
	case <-p.started:
		return true
	default:
		return false
	}
}

// onlyReader and onlyWriter hide a file's WriteTo and ReadFrom, so that io.CopyBuffer uses
// the buffer it is given.
type (
	onlyReader struct{ io.Reader }
	onlyWriter struct{ io.Writer }
)
