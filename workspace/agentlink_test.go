package workspace

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/fake"
)

// A long-running engine (the server polls every workspace) that meets an agent which does
// not answer warns once and falls back to the engine without dialling it on every call;
// a container that has just started is dialled every time, its agent may be on its way.
func TestExecerAgentNotAnswering(t *testing.T) {
	var logs bytes.Buffer
	home := t.TempDir()
	e := New(Config{Backend: fake.New(), Home: home, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	sock := filepath.Join(t.TempDir(), "agent.sock") // nobody listens
	old := &providers.Instance{ID: "c1", State: providers.StateRunning,
		StartedAt: time.Now().Add(-time.Minute).Format(time.RFC3339Nano),
		Labels:    map[string]string{labelAgentSocket: sock, labelAgentID: "id1"}}
	for range 3 {
		if x := e.execer(context.Background(), old, ""); x != e.be {
			t.Fatalf("execer = %T, want the engine", x)
		}
	}
	if n := strings.Count(logs.String(), "does not answer"); n != 1 {
		t.Errorf("%d warnings for one container start, want 1:\n%s", n, logs.String())
	}

	fresh := *old
	fresh.ID, fresh.StartedAt = "c2", time.Now().Format(time.RFC3339Nano)
	start := time.Now()
	e.execer(context.Background(), &fresh, "")
	e.execer(context.Background(), &fresh, "")
	if d := time.Since(start); d < 5*time.Second {
		t.Errorf("two calls on a just-started container took %s; want each to wait for its agent (3 s)", d)
	}
}
