package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/client"
	"golang.org/x/crypto/ssh"
)

// TestReliabilityConcurrentUpSameWorkspace starts two `mochi up` on one workspace at the
// same moment, for several fresh workspaces, and checks that each workspace ends with one
// container, that both ups succeed and report it, and that the once-only hooks ran once.
func TestReliabilityConcurrentUpSameWorkspace(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	const rounds, parallel = 3, 2
	dups := 0
	for round := range rounds {
		ws := e.workspace(cli, fmt.Sprintf("same-%d", round), `{
			"image": "`+workspaceImage+`",
			"onCreateCommand": "echo oncreate $(hostname) >> /workspaces/same-`+fmt.Sprint(round)+`/.hooks",
			"postCreateCommand": "echo postcreate $(hostname) >> /workspaces/same-`+fmt.Sprint(round)+`/.hooks"
		}`)
		results := make([]result, parallel)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = e.run("up", "--no-server", "--workspace-folder", ws)
			}()
		}
		close(start)
		wg.Wait()
		ids := map[string]bool{}
		for i, r := range results {
			var res upResult
			if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
				t.Errorf("round %d: up %d: exit %d %+v\n%s", round, i, r.code, res, tail(r.stderr, 1500))
				continue
			}
			ids[res.ContainerID] = true
		}
		cs := containersOf(t, cli, ws)
		t.Logf("round %d: %d containers, up results name %d container(s)", round, len(cs), len(ids))
		if len(cs) != 1 || len(ids) != 1 {
			dups++
			continue
		}
		hooks, _ := os.ReadFile(filepath.Join(ws, ".hooks"))
		if n := countLines(string(hooks), "oncreate "); n != 1 {
			t.Errorf("round %d: onCreateCommand ran %d times:\n%s", round, n, hooks)
		}
		if n := countLines(string(hooks), "postcreate "); n != 1 {
			t.Errorf("round %d: postCreateCommand ran %d times:\n%s", round, n, hooks)
		}
	}
	knownBug(t, dups > 0, "two concurrent `mochi up` on one workspace made two containers in %d of %d rounds (up needs a per-workspace lock around find-or-create)", dups, rounds)
}

// TestReliabilityTenWorkspacesAtOnce starts `mochi up` on ten different workspaces at the
// same moment: all succeed, each has one container and its own record.
func TestReliabilityTenWorkspacesAtOnce(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	const n = 10
	wss := make([]string, n)
	for i := range n {
		wss[i] = e.workspace(cli, fmt.Sprintf("ten-%d", i), `{"image": "`+workspaceImage+`", "postCreateCommand": "echo ok > /tmp/ok"}`)
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.run("up", "--no-server", "--workspace-folder", wss[i])
		}()
	}
	close(start)
	wg.Wait()
	names := map[string]string{}
	for i, r := range results {
		var res upResult
		if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
			t.Errorf("up %s: exit %d %+v\n%s", wss[i], r.code, res, tail(r.stderr, 1500))
			continue
		}
		if cs := containersOf(t, cli, wss[i]); len(cs) != 1 || cs[0].ID != res.ContainerID {
			t.Errorf("%s: %d containers, up reported %s", wss[i], len(cs), res.ContainerID[:12])
		}
		if other, dup := names[res.Workspace]; dup {
			t.Errorf("workspace name %q given to both %s and %s", res.Workspace, other, wss[i])
		}
		names[res.Workspace] = wss[i]
		rec, err := readRecord(e, res.Workspace)
		if err != nil {
			t.Errorf("record of %s: %v", res.Workspace, err)
		} else if rec.ContainerID != res.ContainerID || rec.Folder != wss[i] {
			t.Errorf("record %s = %+v, want container %s folder %s", res.Workspace, rec, res.ContainerID[:12], wss[i])
		}
	}
}

func countLines(s, prefix string) int {
	n := 0
	for _, l := range splitLines(s) {
		if len(l) >= len(prefix) && l[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// TestReliabilitySameBasenameAtOnce brings up four workspaces whose folders share one base
// name (a/app, b/app, …) at the same moment: each must get its own workspace name and
// record, since names come from the base name.
func TestReliabilitySameBasenameAtOnce(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	const n = 4
	wss := make([]string, n)
	for i := range n {
		wss[i] = e.workspace(cli, filepath.Join(fmt.Sprintf("parent-%d", i), "app"), `{"image": "`+workspaceImage+`"}`)
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.run("up", "--no-server", "--workspace-folder", wss[i])
		}()
	}
	close(start)
	wg.Wait()
	names := map[string]string{}
	clash := 0
	for i, r := range results {
		var res upResult
		if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
			t.Errorf("up %s: exit %d %+v\n%s", wss[i], r.code, res, tail(r.stderr, 1500))
			continue
		}
		if other, dup := names[res.Workspace]; dup {
			t.Logf("workspace name %q given to both %s and %s", res.Workspace, other, wss[i])
			clash++
		}
		names[res.Workspace] = wss[i]
	}
	recs, err := records(e)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d ups, %d distinct names, %d records", n, len(names), len(recs))
	knownBug(t, clash > 0 || len(recs) != n, "concurrent ups of folders with one base name share a workspace name: the record of one overwrites the other (%d names, %d records for %d workspaces); Store.NameFor + Put need a lock", len(names), len(recs), n)
	for _, rec := range recs {
		if names[rec.Name] != rec.Folder {
			t.Errorf("record %s names folder %s, up gave that name to %s", rec.Name, rec.Folder, names[rec.Name])
		}
	}
}

// TestReliabilityConcurrentUpWithGateway runs six `mochi up` (with the gateway, which none
// of them finds running) on six workspaces at once, three rounds in fresh MOCHI_HOMEs:
// one gateway process serves them, the
// ssh config has every host, and the user key gets into every workspace — the ups share
// the key store, the user key and the ssh config, so a lost read-modify-write shows here.
func TestReliabilityConcurrentUpWithGateway(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	var refused []string
	for round := range 3 {
		refused = append(refused, concurrentGatewayRound(t, cli, round)...)
	}
	knownBug(t, len(refused) > 0, "concurrent `mochi up` lost the key grant of %v: sshgate.KeyStore.Add is a read-modify-write of gateway/authorized_keys guarded only by an in-process mutex (take a file lock, e.g. internal/flock on authorized_keys.lock)", refused)
}

// concurrentGatewayRound is one round of TestReliabilityConcurrentUpWithGateway in a fresh
// MOCHI_HOME; it returns the workspaces the user key could not enter.
func concurrentGatewayRound(t *testing.T, cli *client.Client, round int) []string {
	e := newEnv(t)
	g := withGateway(t, e)
	const n = 6
	wss := make([]string, n)
	for i := range n {
		wss[i] = e.workspace(cli, fmt.Sprintf("gwc%d-%d", round, i), `{"image": "`+workspaceImage+`"}`)
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = e.run("up", "--workspace-folder", wss[i])
		}()
	}
	close(start)
	wg.Wait()
	var names []string
	for i, r := range results {
		var res upResult
		if err := r.json(&res); err != nil || r.code != 0 || res.Outcome != "success" {
			t.Fatalf("up %s: exit %d %+v\n%s", wss[i], r.code, res, tail(r.stderr, 1500))
		}
		names = append(names, res.Workspace)
	}
	key, err := os.ReadFile(filepath.Join(e.mochi, "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	if g.key, err = ssh.ParsePrivateKey(key); err != nil {
		t.Fatal(err)
	}
	sshConfig, _ := os.ReadFile(filepath.Join(e.mochi, "ssh_config"))
	var refused []string
	for _, name := range names {
		if !strings.Contains(string(sshConfig), "Host "+name+".mochi\n") {
			t.Errorf("ssh_config has no Host %s.mochi:\n%s", name, sshConfig)
		}
		c, err := g.dial(name)
		if err != nil {
			refused = append(refused, name)
			t.Logf("%s: %v", name, err)
			continue
		}
		if out, err := sshRun(c, "echo ok"); err != nil || strings.TrimSpace(out) != "ok" {
			t.Errorf("%s: exec %q %v", name, out, err)
		}
		c.Close()
	}
	if r := e.run("server", "status"); !strings.Contains(r.stdout, "running") {
		t.Errorf("server status: %q", r.stdout)
	}
	return refused
}
