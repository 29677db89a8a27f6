package agent

import (
	"bytes"
	"fmt"
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

// TestForegroundJobKeepsBackgroundServers runs hooks through ForegroundJob on a session's
// terminal, as `mochi up` runs lifecycle hooks: servers the hook leaves in the background
// (with and without nohup, in a subshell) must survive the hook's end and the terminal's
// hang-up, also when the hook sets the terminal's modes or reads it (as stty, a pager or a
// prompt do). Run as a background job of the shell (`"$@" & wait $!`, mochi before this
// test), such a hook was stopped by SIGTTOU/SIGTTIN, reported 150/149, and the kernel's
// hang-up of the orphaned, stopped group killed every server started without nohup.
func TestForegroundJobKeepsBackgroundServers(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("needs perl")
	}
	c := startAgent(t, Options{})
	start := `sleep 1000 & echo $! > plain
nohup sleep 1000 >/dev/null 2>&1 & echo $! > nohup
(sleep 1000 & echo $! > sub)
`
	for _, tt := range []struct {
		name, hook, stdin, want string
		servers                 []string
	}{
		{name: "servers only", hook: start + "echo started", want: "started", servers: []string{"plain", "nohup", "sub"}},
		{name: "sets terminal modes", hook: start + "stty sane && echo modes-set", want: "modes-set", servers: []string{"plain", "nohup", "sub"}},
		{name: "reads the terminal", hook: start + `read line; echo "read $line"`, stdin: "hello\n", want: "read hello", servers: []string{"plain", "nohup", "sub"}},
		{name: "server forks and exits", hook: `perl -e 'if (my $p = fork) { open my $f, ">", "forked"; print $f $p; exit } sleep 1000'; echo forked`, want: "forked", servers: []string{"forked"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Cleanup(func() { killRecorded(dir) })
			s, err := c.NewSession()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			s.Stdout = &out
			s.Stdin = strings.NewReader(tt.stdin)
			argv := ForegroundJob([]string{"/bin/sh", "-c", "cd " + quoteArg(dir) + " || exit 1\n" + tt.hook})
			if err := s.Run("exec " + quoteArgs(argv)); err != nil {
				t.Errorf("hook: %v (output %q)", err, out.String())
			} else if !strings.Contains(out.String(), tt.want) {
				t.Errorf("hook output %q, want %q", out.String(), tt.want)
			}
			// The session has ended: the agent closed its side of the terminal. Check
			// twice, the second time after the hang-up has had time to reach anyone.
			for _, pause := range []time.Duration{0, 500 * time.Millisecond} {
				time.Sleep(pause)
				for _, name := range tt.servers {
					if err := serverRuns(dir, name); err != nil {
						t.Errorf("server %s: %v", name, err)
					}
				}
			}
		})
	}
}

// serverRuns checks that the process whose pid the hook wrote to dir/name runs a sleep
// and is neither stopped nor dead.
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
