package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// serverScript is a small TCP server: `perl srv.pl OFFSET TAG [daemon]` reads the test's
// round number R from the file round next to it, listens on 127.0.0.1:10000+10R+OFFSET
// (dying if it cannot), names itself `bgserver TAG-rR PORT` (its command line in /proc),
// says so on its output and again every second, dying if it cannot (as a node or python
// server that logs does), and answers each connection with its name; with daemon it forks
// after listening and the parent exits, as self-daemonizing servers do.
const serverScript = `use strict;
use IO::Socket::INET;
my ($offset, $tag, $mode) = @ARGV;
(my $dir = $0) =~ s{/[^/]*$}{};
open my $rf, "<", "$dir/round" or die "read $dir/round: $!";
chomp(my $round = <$rf>);
my $port = 10000 + 10 * $round + $offset;
my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $port, Listen => 8, ReuseAddr => 1)
  or die "listen $port: $!";
if (($mode || "") eq "daemon") { exit 0 if fork; }
$0 = "bgserver $tag-r$round $port";
$| = 1;
print "$0 listening\n";
$SIG{ALRM} = sub { print "$0 alive\n" or die "write: $!\n"; alarm 1 };
alarm 1;
while (1) { my $c = $s->accept or next; print $c "$0\n"; close $c; }
`

// bgServer is one server a hook leaves running: its tag and port offset.
type bgServer struct {
	tag    string
	offset int
}

// hookForm is a workspace whose postStartCommand starts servers in one of the ways users
// write it.
type hookForm struct {
	name string
	// hook is the postStartCommand's JSON; SRV in it stands for the server script's path.
	hook    string
	servers []bgServer
}

var hookForms = []hookForm{
	{
		name:    "string",
		hook:    `"nohup perl SRV 1 string-nohup >/dev/null 2>&1 & perl SRV 2 string-plain & perl SRV 3 string-redirected >>/tmp/string.log 2>&1 </dev/null &"`,
		servers: []bgServer{{"string-nohup", 1}, {"string-plain", 2}, {"string-redirected", 3}},
	},
	{
		// A bare `nohup X &` appends to nohup.out in the workspace folder (the hook's
		// directory); stty stands for anything that sets the terminal's modes (a prompt,
		// a pager, a progress display) after the servers started.
		name:    "array",
		hook:    `["/bin/bash", "-c", "(perl SRV 1 array-subshell &); nohup perl SRV 2 array-nohup & stty sane; perl SRV 3 array-daemon daemon"]`,
		servers: []bgServer{{"array-subshell", 1}, {"array-nohup", 2}, {"array-daemon", 3}},
	},
	{
		name: "object",
		hook: `{
			"servers": "nohup perl SRV 1 object-nohup >/dev/null 2>&1 & perl SRV 2 object-plain &",
			"daemon": ["perl", "SRV", "3", "object-daemon", "daemon"],
			"terminal": "perl SRV 4 object-before-stty & stty -echo; stty echo; perl SRV 5 object-after-stty >/dev/null 2>&1 &"
		}`,
		servers: []bgServer{
			{"object-nohup", 1}, {"object-plain", 2}, {"object-daemon", 3},
			{"object-before-stty", 4}, {"object-after-stty", 5},
		},
	},
}

// TestReliabilityHookBackgroundServers brings up workspaces whose postStartCommand starts
// background servers (a string, an array and an object hook; `nohup X &`, `X &` with and
// without redirections, `(X &)`, a server that forks and exits, servers started before and
// after the hook sets the terminal's modes; each writes to its output every second and
// dies if it cannot) and checks after each `mochi up` that every
// server runs and listens, and that every server of the earlier rounds since the container
// started still does, with the same process. Round after round, while busy processes keep
// every core loaded, the hook runs again: every fourth round the workspace is stopped and
// brought up (a container start), in the others the test removes postStartCommand's marker
// and runs `mochi up` on the running container, whose servers keep running. After the last
// round and 3 s more, every server of the last start must still run. Rounds:
// RELIABILITY_HOOK_ROUNDS (default 24) per workspace, fewer if a workspace's rounds take
// more than 30 s.
func TestReliabilityHookBackgroundServers(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	mochiBin(t) // build before the load starts
	rounds := 24
	if v, err := strconv.Atoi(os.Getenv("RELIABILITY_HOOK_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	busy := cpuLoad(t, 2*runtime.NumCPU())
	began := time.Now()
	var ups, started int
	for _, f := range hookForms {
		t.Run(f.name, func(t *testing.T) {
			budget := time.Now().Add(30 * time.Second)
			e := newEnv(t)
			name := "hookbg-" + f.name
			script := "/workspaces/" + name + "/srv.pl"
			ws := e.workspace(cli, name, `{
				"image": "`+workspaceImage+`",
				"runArgs": ["--label", "mochi.test=1"],
				"postStartCommand": `+strings.ReplaceAll(f.hook, "SRV", script)+`
			}`)
			if err := os.WriteFile(filepath.Join(ws, "srv.pl"), []byte(serverScript), 0o644); err != nil {
				t.Fatal(err)
			}
			var id string
			alive := map[string]int{} // name (TAG-rR) → pid, the servers since the last start
			for round := 1; round <= rounds; round++ {
				restart := round%4 == 1 // else the hook runs again in the running container
				if round > 1 && time.Now().After(budget) {
					t.Logf("time budget spent: %d of %d rounds run", round-1, rounds)
					break
				}
				if err := os.WriteFile(filepath.Join(ws, "round"), []byte(strconv.Itoa(round)), 0o644); err != nil {
					t.Fatal(err)
				}
				switch {
				case round == 1:
				case restart:
					if r := e.run("stop", "--workspace-folder", ws); r.code != 0 {
						t.Fatalf("round %d: stop: exit %d %s", round, r.code, tail(r.stderr, 800))
					}
					alive = map[string]int{}
				default:
					execIn(t, cli, id, "rm /root/.devcontainer/.postStartCommandMarker")
				}
				upStart := time.Now()
				r := e.run("up", "--no-server", "--workspace-folder", ws)
				upTime := time.Since(upStart)
				var res upResult
				if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
					t.Fatalf("round %d: mochi up: exit %d, %+v\nstdout: %s\nstderr: %s", round, r.code, res, r.stdout, tail(r.stderr, 2000))
				}
				if !strings.Contains(r.stderr, "Running the postStartCommand") {
					t.Fatalf("round %d: mochi up did not run postStartCommand:\n%s", round, tail(r.stderr, 2000))
				}
				id = res.ContainerID
				ups++
				for _, s := range f.servers {
					alive[fmt.Sprintf("%s-r%d %d", s.tag, round, 10000+10*round+s.offset)] = 0
				}
				started += len(f.servers)
				waitStart := time.Now()
				checkServers(t, cli, id, fmt.Sprintf("round %d", round), alive, 30*time.Second)
				t.Logf("round %d (container start %v): up %v, servers of this round running %v later",
					round, restart || round == 1, upTime.Round(time.Millisecond), time.Since(waitStart).Round(time.Millisecond))
			}
			time.Sleep(3 * time.Second)
			checkServers(t, cli, id, "3 s after the last round", alive, 0)
		})
	}
	t.Logf("HOOKBG: %d ups, %d background servers started and checked, in %v, with %d busy processes (%.0f%% of the machine's CPU time while the test ran)",
		ups, started, time.Since(began).Round(time.Second), 2*runtime.NumCPU(), busy())
}

// checkServers waits (at most patience: perl's start is slow under load) until every
// server in alive runs and listens (a server is `NAME PORT`, as the server's command line
// names it), recording the pid of each new one; a server seen before must still run with
// the same pid. Servers reported gone or missing are dropped from alive.
func checkServers(t *testing.T, cli *client.Client, id, when string, alive map[string]int, patience time.Duration) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		pids, listening, listing := serverState(t, cli, id)
		var gone, missing []string
		for srv, pid := range alive {
			_, port, _ := strings.Cut(srv, " ")
			n, _ := strconv.Atoi(port)
			up := pids[srv] > 0 && listening[n]
			switch {
			case pid != 0 && (pids[srv] != pid || !up):
				gone = append(gone, fmt.Sprintf("%s (pid %d, now %d, listening %v)", srv, pid, pids[srv], listening[n]))
				delete(alive, srv)
			case pid == 0 && up:
				alive[srv] = pids[srv]
			case pid == 0:
				missing = append(missing, fmt.Sprintf("%s (pid %d, listening %v)", srv, pids[srv], listening[n]))
			}
		}
		if len(gone) > 0 {
			t.Errorf("%s: servers gone: %s\n%s", when, strings.Join(gone, ", "), listing)
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: servers not running and listening after %v: %s\n%s", when, patience, strings.Join(missing, ", "), listing)
			for srv, pid := range alive {
				if pid == 0 {
					delete(alive, srv)
				}
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// serverState lists the container's servers (`bgserver NAME PORT` command lines) as
// "NAME PORT" → pid, and its listening TCP ports, with the raw listing for messages.
func serverState(t *testing.T, cli *client.Client, id string) (map[string]int, map[int]bool, string) {
	t.Helper()
	out := execIn(t, cli, id, `for p in /proc/[0-9]*; do printf '%s ' "${p#/proc/}"; tr '\0' ' ' < $p/cmdline; echo; done 2>/dev/null; echo ---; cat /proc/net/tcp`)
	procs, tcp, _ := strings.Cut(out, "---\n")
	pids := map[string]int{}
	for _, line := range strings.Split(procs, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[1] != "bgserver" {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		if _, seen := pids[f[2]+" "+f[3]]; seen {
			pid = -1 // two servers with one name: neither is the one started
		}
		pids[f[2]+" "+f[3]] = pid
	}
	listening := map[int]bool{}
	for _, line := range strings.Split(tcp, "\n") {
		// sl local_address rem_address st ...; st 0A is LISTEN.
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" {
			continue
		}
		if _, port, ok := strings.Cut(f[1], ":"); ok {
			if n, err := strconv.ParseInt(port, 16, 32); err == nil {
				listening[int(n)] = true
			}
		}
	}
	return pids, listening, out
}

// cpuLoad starts n busy shell loops, stopped when the test ends; the returned func reports
// the share of the machine's CPU time the loops got so far.
func cpuLoad(t *testing.T, n int) func() float64 {
	t.Helper()
	began := time.Now()
	var procs []*exec.Cmd
	for range n {
		cmd := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start a busy loop: %v", err)
		}
		procs = append(procs, cmd)
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.Process.Kill()
			p.Wait()
		}
	})
	return func() float64 {
		var ticks float64
		for _, p := range procs {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
			if err != nil {
				continue
			}
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if len(f) > 12 { // utime and stime are fields 14 and 15 of stat
				u, _ := strconv.ParseFloat(f[11], 64)
				s, _ := strconv.ParseFloat(f[12], 64)
				ticks += u + s
			}
		}
		// Linux counts CPU time in /proc in 1/100 s (USER_HZ).
		return ticks / time.Since(began).Seconds() / float64(runtime.NumCPU())
	}
}
