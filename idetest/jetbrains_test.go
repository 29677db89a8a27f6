package idetest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envDuration reads a duration from env (Go syntax, or plain seconds), else def.
func envDuration(t *testing.T, env string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: want a duration such as 150s or 5m", env, v)
	}
	return d
}

// paramikoPython finds a python3 that has paramiko (Debian's python3-paramiko is for
// /usr/bin/python3, which another python3 on PATH may hide).
func paramikoPython(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if runQuiet(p, "-c", "import paramiko") == nil {
			return p
		}
	}
	t.Fatal("no python3 with paramiko: apt-get install python3-paramiko (scripts/install-ide-deps.sh does)")
	return ""
}

// paddedBinary writes the mochi binary padded with random bytes to size (an ELF runs the same
// with data after it), so the upload is a real program of a known size.
func paddedBinary(t *testing.T, size int64) string {
	t.Helper()
	src, err := os.Open(mochiBin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	p := filepath.Join(t.TempDir(), "mochi-upload")
	dst, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(dst, src)
	if err == nil && n < size {
		_, err = io.CopyN(dst, rand.Reader, size-n)
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// copyServe puts testdata/serve.pl at /tmp/serve.pl inside the workspace with scp.
func (h *harness) copyServe(name string) {
	h.t.Helper()
	if r := h.run(time.Minute, "scp", "-q", "-F", h.sshConfig(), "testdata/serve.pl", name+".mochi:/tmp/serve.pl"); r.code != 0 {
		h.t.Fatalf("scp serve.pl: exit %d: %s", r.code, r.err)
	}
}

// TestJetBrainsGatewayPattern: hundreds of short exec sessions (some with a PTY) with exact
// exit codes, an SFTP upload of a 30 MiB program that is chmodded and run, and a direct-tcpip
// channel to a backend port left idle for MOCHI_IDE_IDLE (default 150s) and still working.
func TestJetBrainsGatewayPattern(t *testing.T) {
	requireDocker(t)
	// Mostly idle time; every test here runs in parallel (each has its own gateway and workspace).
	t.Parallel()
	python := paramikoPython(t)
	idle := envDuration(t, "MOCHI_IDE_IDLE", 150*time.Second)
	sessions := 300
	if v, err := strconv.Atoi(os.Getenv("MOCHI_IDE_SESSIONS")); err == nil && v > 0 {
		sessions = v
	}
	h := newHarness(t)
	ws := newWorkspace(t, "ide-jetbrains", map[string]string{".devcontainer/devcontainer.json": `{"image": "mochi-test/debian:bookworm", "runArgs": ["--label", "mochi.test=1"]}`})
	name := h.up(ws)
	h.copyServe(name)
	backend := freePort(t)
	if r := h.ssh(name, fmt.Sprintf("nohup perl /tmp/serve.pl %d backend echo >/dev/null 2>&1 &", backend)); r.code != 0 {
		t.Fatalf("start backend: exit %d: %s", r.code, r.err)
	}
	h.waitListening(name, backend)
	bin := paddedBinary(t, 30<<20)

	r := h.run(idle+10*time.Minute, python, "testdata/jetbrains.py", h.sshConfig(), name+".mochi", bin,
		strconv.Itoa(backend), strconv.Itoa(sessions), strconv.Itoa(int(idle.Seconds())))
	if r.code != 0 {
		t.Fatalf("jetbrains.py: exit %d\n%s", r.code, r.err)
	}
	var rep struct {
		BackendGreeting string `json:"backend_greeting"`
		BackendBefore   string `json:"backend_before"`
		BackendAfter    string `json:"backend_after"`
		Sessions        []struct {
			I    int
			Pty  bool
			Code int
			Out  string
		}
		SessionsSeconds float64 `json:"sessions_seconds"`
		UploadSize      int64   `json:"upload_size"`
		UploadMode      int     `json:"upload_mode"`
		UploadSeconds   float64 `json:"upload_seconds"`
		RunOut          string  `json:"run_out"`
		RunCode         int     `json:"run_code"`
		RunErr          string  `json:"run_err"`
		IdleSeconds     float64 `json:"idle_seconds"`
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("jetbrains.py report %q: %v", r.out, err)
	}
	t.Logf("%d sessions in %.1fs, 30 MiB upload in %.1fs, backend channel idle %.0fs", len(rep.Sessions), rep.SessionsSeconds, rep.UploadSeconds, rep.IdleSeconds)

	if len(rep.Sessions) != sessions {
		t.Errorf("%d sessions reported, want %d", len(rep.Sessions), sessions)
	}
	bad := 0
	for i, s := range rep.Sessions {
		want := fmt.Sprintf("out%d\n", i)
		out := strings.ReplaceAll(s.Out, "\r\n", "\n")
		if s.I != i || s.Code != (i*7)%256 || out != want {
			if bad++; bad <= 10 {
				t.Errorf("session %d (pty %v): exit %d output %q, want exit %d output %q", i, s.Pty, s.Code, s.Out, (i*7)%256, want)
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d sessions wrong in all", bad)
	}

	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	version, _ := runOutput(mochiBin, "version")
	wantRun := hex.EncodeToString(sum[:]) + "  mochi-upload\n" + version
	if rep.UploadSize != 30<<20 || rep.UploadMode != 0o755 || rep.RunCode != 0 || rep.RunOut != wantRun {
		t.Errorf("upload: size %d mode %o, run exit %d output %q (stderr %q); want size %d mode 755, exit 0 output %q",
			rep.UploadSize, rep.UploadMode, rep.RunCode, rep.RunOut, rep.RunErr, 30<<20, wantRun)
	}

	if rep.BackendGreeting != "backend\n" || rep.BackendBefore != "ping-before\n" || rep.BackendAfter != "ping-after\n" {
		t.Errorf("backend channel: greeting %q, before %q, after %.0fs idle %q; want backend, ping-before, ping-after",
			rep.BackendGreeting, rep.BackendBefore, rep.IdleSeconds, rep.BackendAfter)
	}
	if rep.IdleSeconds < idle.Seconds() {
		t.Errorf("backend channel held %.0fs, want at least %.0fs", rep.IdleSeconds, idle.Seconds())
	}
}
