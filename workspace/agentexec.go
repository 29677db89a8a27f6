package workspace

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/providers"
)

// agentExecer runs processes through a workspace's agent: one SSH connection, one session
// channel per process. It is the fast path: no engine round trip per process.
type agentExecer struct {
	client *agent.Client
	// baseEnv is the container's configured env, which every engine exec starts from.
	baseEnv []string
}

var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

// shellQuote quotes argv for a POSIX shell's -c.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
	}
	return strings.Join(q, " ")
}

// Exec implements providers.Execer over the agent with `docker exec` semantics: argv runs
// directly (no shell) with the container's env. The quoted command line is only used by an
// older agent that does not know SessionSpec.Argv.
func (a *agentExecer) Exec(ctx context.Context, _ string, spec providers.ExecSpec) (int, error) {
	env := append(append([]string(nil), a.baseEnv...), spec.Env...)
	extra, _ := json.Marshal(agent.SessionSpec{User: spec.User, Env: env, Dir: spec.WorkDir, Plain: true, Argv: spec.Cmd})
	ch, reqs, err := a.client.Conn().OpenChannel("session", extra)
	if err != nil {
		return -1, fmt.Errorf("open agent session: %w", err)
	}
	defer ch.Close()
	if spec.Tty {
		req := struct {
			Term             string
			Cols, Rows, W, H uint32
			Modes            string
		}{Term: "xterm", Cols: 200, Rows: 50, Modes: "\x00"}
		if ok, err := ch.SendRequest("pty-req", true, ssh.Marshal(req)); err != nil || !ok {
			return -1, fmt.Errorf("agent refused a terminal: %v", err)
		}
	}
	cmd := struct{ Command string }{"exec " + shellQuote(spec.Cmd)}
	if ok, err := ch.SendRequest("exec", true, ssh.Marshal(cmd)); err != nil || !ok {
		return -1, fmt.Errorf("agent refused to run %s: %v", spec.Cmd[0], err)
	}
	go func() {
		if spec.Stdin != nil {
			_, _ = io.Copy(ch, spec.Stdin)
		}
		_ = ch.CloseWrite()
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex // stdout and stderr may be the same writer: write one at a time
	out := func(w io.Writer, r io.Reader) {
		defer wg.Done()
		if w == nil {
			w = io.Discard
		}
		_, _ = io.Copy(lockedWriter{&mu, w}, r)
	}
	wg.Add(2)
	go out(spec.Stdout, ch)
	go out(spec.Stderr, ch.Stderr())
	stop := context.AfterFunc(ctx, func() {
		_, _ = ch.SendRequest("signal", false, ssh.Marshal(struct{ Signal string }{"KILL"}))
		_ = ch.Close()
	})
	defer stop()
	code, got := -1, false
	for req := range reqs {
		switch req.Type {
		case "exit-status":
			var st struct{ Status uint32 }
			if ssh.Unmarshal(req.Payload, &st) == nil {
				code, got = int(st.Status), true
			}
		case "exit-signal":
			var sig struct {
				Signal string
				Core   bool
				Msg    string
				Lang   string
			}
			if ssh.Unmarshal(req.Payload, &sig) == nil {
				code, got = 128+signalNumbers[sig.Signal], true
			}
		}
		if req.WantReply {
			_ = req.Reply(false, nil)
		}
	}
	wg.Wait()
	if ctx.Err() != nil {
		return code, ctx.Err()
	}
	if !got {
		return -1, fmt.Errorf("agent session for %s ended without an exit status", spec.Cmd[0])
	}
	return code, nil
}

// lockedWriter serialises writes to w (and hides any ReaderFrom, which is not safe to call
// from two goroutines on one buffer).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
