package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// TestForegroundJobKeepsBackgroundServers runs hooks as `mochi up` runs lifecycle hooks:
// through ForegroundJob, in a session with `docker exec` semantics (SessionSpec.Plain) on a
// terminal. Servers the hook leaves in the background (with and without nohup, in a
// subshell, forked by a program that exits) must survive the hook's end, also when the
// hook sets the terminal's modes or reads it (as stty, a pager or a prompt do), and a
// server that goes on writing to the terminal must be able to. Before: run as a background
// job of the shell (`"$@" & wait $!`), a hook touching the terminal was stopped by
// SIGTTOU/SIGTTIN, reported 150/149, and the kernel's hang-up of the orphaned, stopped
// group killed every server started without nohup; and the agent hung the terminal up
// after the hook, so a server writing to it got EIO (node and python servers die of it).
func TestForegroundJobKeepsBackgroundServers(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("needs perl")
	}
	c := startAgent(t, Options{})
	start := `sleep 1000 & echo $! > plain
nohup sleep 1000 >/dev/null 2>&1 & echo $! > nohup
(sleep 1000 & echo $! > sub)
`
	servers := []string{"plain", "nohup", "sub"}
	// writer writes to the terminal for 2 s, then records whether every write succeeded.
	writer := `perl -e '$| = 1; my $err; for (1..40) { print "tick\n" or do { $err = "$!"; last }; select(undef, undef, undef, 0.05) }
		open my $f, ">", "written"; print $f ($err ? "write: $err" : "all")' & echo $! > writer
`
	for _, tt := range []struct {
		name, hook, stdin, want string
		servers                 []string
		wrote                   bool // wait for the writer's verdict
	}{
		{name: "servers only", hook: start + "echo started", want: "started", servers: servers},
		{name: "sets terminal modes", hook: start + "stty sane && echo modes-set", want: "modes-set", servers: servers},
		{name: "reads the terminal", hook: start + `read line; echo "read $line"`, stdin: "hello\n", want: "read hello", servers: servers},
		{name: "server forks and exits", hook: `perl -e 'if (my $p = fork) { open my $f, ">", "forked"; print $f $p; exit } sleep 1000'; echo forked`, want: "forked", servers: []string{"forked"}},
		{name: "server writes to the terminal", hook: writer + "echo started", want: "started", wrote: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Cleanup(func() { killRecorded(dir) })
			argv := ForegroundJob([]string{"/bin/sh", "-c", "cd " + quoteArg(dir) + " || exit 1\n" + tt.hook})
			out, status := runPlainPty(t, c, argv, tt.stdin)
			if status != 0 || !strings.Contains(out, tt.want) {
				t.Errorf("hook: exit %d, output %q; want 0 and %q", status, out, tt.want)
			}
			// The session has ended. Check twice, the second time after anything the end
			// of the session set off has had time to happen.
			for _, pause := range []time.Duration{0, 500 * time.Millisecond} {
				time.Sleep(pause)
				for _, name := range tt.servers {
					if err := serverRuns(dir, name); err != nil {
						t.Errorf("server %s: %v", name, err)
					}
				}
			}
			if tt.wrote {
				waitFor(t, "the writer's verdict", func() bool {
					_, err := os.Stat(filepath.Join(dir, "written"))
					return err == nil
				})
				if b, _ := os.ReadFile(filepath.Join(dir, "written")); string(b) != "all" {
					t.Errorf("the server writing to the terminal after the hook: %s", b)
				}
			}
		})
	}
}

// runPlainPty runs argv as mochi's engine execs do (SessionSpec.Plain and Argv, on a
// terminal), with stdin as the terminal's input, and returns the output and exit status.
func runPlainPty(t *testing.T, c *ssh.Client, argv []string, stdin string) (string, int) {
	t.Helper()
	extra, err := json.Marshal(SessionSpec{Plain: true, Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	ch, reqs, err := c.OpenChannel("session", extra)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	defer ch.Close()
	if ok, err := ch.SendRequest("pty-req", true, ssh.Marshal(ptyRequest{Term: "xterm", Cols: 80, Rows: 24, Modes: "\x00"})); !ok || err != nil {
		t.Fatalf("pty-req: %v %v", ok, err)
	}
	if ok, err := ch.SendRequest("exec", true, ssh.Marshal(execRequest{Command: "argv"})); !ok || err != nil {
		t.Fatalf("exec: %v %v", ok, err)
	}
	go func() {
		io.WriteString(ch, stdin)
		ch.CloseWrite()
	}()
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		io.Copy(&out, ch)
		close(read)
	}()
	status := -1
	for req := range reqs {
		var st exitStatus
		if req.Type == "exit-status" && ssh.Unmarshal(req.Payload, &st) == nil {
			status = int(st.Status)
		}
		if req.WantReply {
			req.Reply(false, nil)
		}
	}
	<-read
	return out.String(), status
}

// serverRuns checks that the process whose pid the hook wrote to dir/name runs a sleep
// or perl and is neither stopped nor dead.
func serverRuns(dir, name string) error {
	pid, err := recordedPid(dir, name)
	if err != nil {
		return err
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return err
	}
	if len(cmdline) == 0 {
		return fmt.Errorf("pid %d has exited", pid)
	}
	if args := strings.Split(string(cmdline), "\x00"); !strings.HasSuffix(args[0], "sleep") && !strings.HasSuffix(args[0], "perl") {
		return fmt.Errorf("pid %d now runs %q", pid, args[0])
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return err
	}
	// The state follows the command name in parentheses: T stopped, Z or X dead.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) == 0 || strings.ContainsAny(f[0], "TtZX") {
		return fmt.Errorf("pid %d is in state %v", pid, f[:min(len(f), 1)])
	}
	return nil
}

func recordedPid(dir, name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// killRecorded kills the servers a hook recorded in dir (only those still running a sleep
// or perl, so that a reused pid is left alone).
func killRecorded(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if serverRuns(dir, e.Name()) == nil {
			if pid, err := recordedPid(dir, e.Name()); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

func quoteArg(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteArgs(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quoteArg(a)
	}
	return strings.Join(q, " ")
}
