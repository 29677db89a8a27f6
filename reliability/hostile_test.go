package reliability

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// hostileDir holds the corpus: one folder per case with the .devcontainer contents
// (devcontainer.json and any feature folders), a want file (one required substring of the
// error message per line; $CONFIG is the devcontainer.json path, $WS the workspace) and,
// for cases mochi does not handle as it should yet, a known-bug file describing the bug.
const hostileDir = "../testdata/hostile"

// pwnedMarker is the file that shell metacharacters in the corpus would create if anything
// ran them.
const pwnedMarker = "/tmp/mochi-hostile-pwned"

type hostileCase struct {
	name     string
	dir      string
	want     []string
	knownBug string
}

func hostileCases(t *testing.T) []hostileCase {
	t.Helper()
	ents, err := os.ReadDir(hostileDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []hostileCase
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(hostileDir, e.Name())
		c := hostileCase{name: e.Name(), dir: dir}
		want, err := os.ReadFile(filepath.Join(dir, "want"))
		if err != nil {
			t.Fatalf("case %s: %v", e.Name(), err)
		}
		for _, line := range strings.Split(string(want), "\n") {
			if line != "" {
				c.want = append(c.want, line)
			}
		}
		if kb, err := os.ReadFile(filepath.Join(dir, "known-bug")); err == nil {
			c.knownBug = strings.TrimSpace(string(kb))
		}
		out = append(out, c)
	}
	return out
}

// TestHostileCorpusShape checks the corpus itself (no engine): enough cases, each with a
// devcontainer.json and an expectation that names a file.
func TestHostileCorpusShape(t *testing.T) {
	cases := hostileCases(t)
	if len(cases) < 50 {
		t.Fatalf("%d hostile cases, want at least 50", len(cases))
	}
	for _, c := range cases {
		if _, err := os.Stat(filepath.Join(c.dir, "devcontainer.json")); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if len(c.want) == 0 {
			t.Errorf("%s: empty want", c.name)
			continue
		}
		names := false
		for _, w := range c.want {
			if strings.Contains(w, "$CONFIG") || strings.Contains(w, ".json") || strings.Contains(w, "/") {
				names = true
			}
		}
		if !names {
			t.Errorf("%s: the expected error names no file: %q", c.name, c.want)
		}
	}
}

// TestReliabilityHostileConfigs runs `mochi up --no-server` on every hostile configuration
// and checks that it fails with an error naming the file, position or property as its want
// file says, that nothing is left on the engine (containers, images, volumes, networks),
// that nothing is written outside $MOCHI_HOME, and that no shell metacharacter ran.
func TestReliabilityHostileConfigs(t *testing.T) {
	requireReliability(t)
	cli := requireDocker(t)
	e := newEnv(t)
	os.Remove(pwnedMarker)
	for _, c := range hostileCases(t) {
		t.Run(c.name, func(t *testing.T) {
			ws := filepath.Join(e.root, "ws", c.name)
			if err := os.CopyFS(filepath.Join(ws, ".devcontainer"), os.DirFS(c.dir)); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"want", "known-bug"} {
				os.Remove(filepath.Join(ws, ".devcontainer", f))
			}
			t.Cleanup(func() { removeContainers(t, cli, ws) })
			config := filepath.Join(ws, ".devcontainer", "devcontainer.json")
			before := engineState(t, cli)
			filesBefore := treeState(t, e.root, e.mochi)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			r := e.runCtx(ctx, "up", "--no-server", "--workspace-folder", ws)
			cancel()

			var problems []string
			var res upResult
			if err := r.json(&res); err != nil {
				problems = append(problems, "stdout is not one JSON line: "+tail(r.stdout, 300))
			}
			if r.code == 0 || res.Outcome != "error" {
				problems = append(problems, "up did not fail: outcome "+res.Outcome)
			}
			for _, w := range c.want {
				w = strings.ReplaceAll(strings.ReplaceAll(w, "$CONFIG", config), "$WS", ws)
				if !strings.Contains(res.Message, w) {
					problems = append(problems, "message lacks "+quote(w))
				}
			}
			if left := newObjects(t, cli, before, ws, c.name); len(left) > 0 {
				problems = append(problems, "left on the engine: "+strings.Join(left, ", "))
			}
			if changed := diffTrees(filesBefore, treeState(t, e.root, e.mochi)); len(changed) > 0 {
				problems = append(problems, "files written outside $MOCHI_HOME: "+strings.Join(changed, ", "))
			}
			if _, err := os.Stat(pwnedMarker); err == nil {
				os.Remove(pwnedMarker)
				problems = append(problems, "a shell metacharacter in the configuration ran ("+pwnedMarker+" exists)")
			}
			if len(problems) == 0 {
				if c.knownBug != "" {
					t.Logf("the known bug looks fixed: remove %s/known-bug", c.dir)
				}
				return
			}
			msg := strings.Join(problems, "\n  ") + "\n  got message: " + tail(strings.ReplaceAll(res.Message, ws, "$WS"), 600)
			if c.knownBug != "" {
				t.Skipf("known mochi bug (reported): %s\n  %s", c.knownBug, msg)
			}
			t.Errorf("%s:\n  %s", c.name, msg)
		})
	}
}

func quote(s string) string { return "\"" + tail(s, 200) + "\"" }

// state is a snapshot of what the engine holds, by id.
type state struct {
	containers, images, volumes, networks map[string]bool
}

func engineState(t *testing.T, cli *client.Client) state {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := state{map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}}
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	for _, c := range cs {
		s.containers[c.ID] = true
	}
	is, err := cli.ImageList(ctx, image.ListOptions{All: true})
	if err != nil {
		t.Fatalf("list images: %v", err)
	}
	for _, i := range is {
		s.images[i.ID] = true
	}
	vs, err := cli.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		t.Fatalf("list volumes: %v", err)
	}
	for _, v := range vs.Volumes {
		s.volumes[v.Name] = true
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{})
	if err != nil {
		t.Fatalf("list networks: %v", err)
	}
	for _, n := range ns {
		s.networks[n.ID] = true
	}
	return s
}

// newObjects returns what appeared on the engine since before and belongs to this case: a
// container labelled with the workspace, an image, volume or network whose name or labels
// mention the case. Other processes share the engine, so anything else new is only logged.
func newObjects(t *testing.T, cli *client.Client, before state, ws, caseName string) []string {
	t.Helper()
	after := engineState(t, cli)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ours := func(texts ...string) bool {
		for _, s := range texts {
			if strings.Contains(s, ws) || strings.Contains(strings.ToLower(s), strings.ToLower(caseName)) {
				return true
			}
		}
		return false
	}
	labelTexts := func(m map[string]string) []string {
		var out []string
		for k, v := range m {
			out = append(out, k+"="+v)
		}
		return out
	}
	var left, foreign []string
	for id := range after.containers {
		if before.containers[id] {
			continue
		}
		c, err := cli.ContainerInspect(ctx, id)
		if err != nil {
			continue
		}
		if ours(append(labelTexts(c.Config.Labels), c.Name)...) {
			left = append(left, "container "+id[:12])
		} else {
			foreign = append(foreign, "container "+id[:12])
		}
	}
	for id := range after.images {
		if before.images[id] {
			continue
		}
		i, err := cli.ImageInspect(ctx, id)
		if err != nil {
			continue
		}
		var texts []string
		if i.Config != nil {
			texts = labelTexts(i.Config.Labels)
		}
		if ours(append(texts, i.RepoTags...)...) {
			left = append(left, "image "+id)
		} else {
			foreign = append(foreign, "image "+id)
		}
	}
	for name := range after.volumes {
		if before.volumes[name] {
			continue
		}
		v, err := cli.VolumeInspect(ctx, name)
		if err == nil && ours(append(labelTexts(v.Labels), name)...) {
			left = append(left, "volume "+name)
		} else {
			foreign = append(foreign, "volume "+name)
		}
	}
	for id := range after.networks {
		if before.networks[id] {
			continue
		}
		n, err := cli.NetworkInspect(ctx, id, network.InspectOptions{})
		if err == nil && ours(append(labelTexts(n.Labels), n.Name)...) {
			left = append(left, "network "+n.Name)
		} else {
			foreign = append(foreign, "network "+id)
		}
	}
	if len(foreign) > 0 {
		t.Logf("new engine objects not attributable to this case (other processes share the engine): %s", strings.Join(foreign, ", "))
	}
	sort.Strings(left)
	return left
}

// treeState maps every path under root, except under skip, to its size and modification time.
func treeState(t *testing.T, root, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if p == skip {
			return filepath.SkipDir
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			out[p] = fmt.Sprintf("%s/%d", info.ModTime(), info.Size())
		} else if d.IsDir() {
			out[p] = "dir"
		}
		return nil
	})
	return out
}

func diffTrees(a, b map[string]string) []string {
	var out []string
	for p, v := range b {
		if a[p] != v {
			out = append(out, p)
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			out = append(out, "removed "+p)
		}
	}
	sort.Strings(out)
	return out
}
