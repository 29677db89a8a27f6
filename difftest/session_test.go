package difftest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

// session is one variant's run of a case. Its step methods record observations and never stop
// the test: a failed infrastructure step (docker not answering, a tool that hangs) reports an
// error and marks the session broken, and later steps record that instead of running.
type session struct {
	t      *testing.T
	ctx    context.Context
	name   string // case/variant, for messages
	first  *tool  // runs every step by default
	second *tool  // runs the steps of a case's second half (see then)
	cur    *tool  // nil until then() is called: first is used

	tmp, ws string     // the session's temp root and the workspace folder in it
	env     []string   // extra host environment for tool processes
	flags   []string   // added to every tool command after --workspace-folder (e.g. --config)
	runID   string     // value of runLabel on the fixture's images
	lxc     *lxcEngine // non-nil: mochi runs on LXC and containers are observed there (lxc_engine_test.go)

	fullUpJSON bool     // record up's whole result (canonical JSON), not only the common fields
	builtImage string   // the first image name the last build reported
	builtNames []string // every image name build reported, removed when the session ends

	ctr    string            // id of the container the last successful up returned
	ids    map[string]string // raw string -> placeholder for container ids
	devID  string            // ${devcontainerId} computed from the container's id labels
	broken string

	obs       []observation
	lastSteps map[string]int // step name -> times used, to keep names unique
}

// tool returns the tool that runs steps now.
func (s *session) tool() *tool {
	if s.cur != nil {
		return s.cur
	}
	return s.first
}

// then switches to the second tool: in cross-tool variants the steps after it run with the
// other implementation, against the container the first one made.
func (s *session) then() { s.cur = s.second }

// fail reports an infrastructure error: the harness, not the tool under test, went wrong.
func (s *session) fail(err error) {
	s.t.Helper()
	if s.broken == "" {
		s.broken = err.Error()
	}
	s.t.Errorf("%s: %v", s.name, err)
}

// record appends a normalised observation.
func (s *session) record(step, value string) {
	if n := s.lastSteps[step]; n > 0 {
		s.lastSteps[step] = n + 1
		step = fmt.Sprintf("%s #%d", step, n+1)
	} else {
		s.lastSteps[step] = 1
	}
	s.obs = append(s.obs, observation{Step: step, Value: s.norm(value)})
}

// ready reports whether a step that needs the container can run, recording why not otherwise.
func (s *session) ready(step string) bool {
	switch {
	case s.broken != "":
		s.record(step, "<not run: harness error>")
		return false
	case s.ctr == "":
		s.record(step, "<not run: no container>")
		return false
	}
	return true
}

// featureBuilds serialises the reference's up and build in workspaces with Features: without
// BuildKit it stages the Features' files in an image of one fixed name
// (dev_container_feature_content_temp), so two of its builds at once can swap their Features.
// mochi builds each Features image from its own context and needs no such lock.
var featureBuilds sync.Mutex

// cli runs the current tool with args in the workspace.
func (s *session) cli(stdin string, args ...string) (result, bool) {
	if s.tool().name == "reference" && len(args) > 0 && (args[0] == "up" || args[0] == "build") && s.hasFeatures() {
		featureBuilds.Lock()
		defer featureBuilds.Unlock()
	}
	res, err := s.tool().run(s.ctx, s.ws, s.env, stdin, args...)
	if err != nil {
		s.fail(err)
		return res, false
	}
	return res, true
}

// hasFeatures reports whether the workspace's configuration names Features.
func (s *session) hasFeatures() bool {
	for _, f := range []string{".devcontainer/devcontainer.json", ".devcontainer.json"} {
		if b, err := os.ReadFile(filepath.Join(s.ws, f)); err == nil && bytes.Contains(b, []byte(`"features"`)) {
			return true
		}
	}
	return false
}

// args is a tool command line: the sub-command, --workspace-folder, the case's flags, then rest.
func (s *session) args(sub string, rest []string) []string {
	out := append([]string{sub, "--workspace-folder", s.ws}, s.flags...)
	return append(out, rest...)
}

// up runs `up --workspace-folder <ws> extra...` and records the result fields a user sees.
func (s *session) up(step string, extra ...string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	res, ok := s.cli("", s.args("up", extra)...)
	if !ok {
		return
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(lastLine(res.stdout)), &out); err != nil {
		s.record(step, fmt.Sprintf("exit=%d\nstdout is not one JSON line: %q", res.code, res.stdout))
		return
	}
	if id, _ := out["containerId"].(string); id != "" {
		s.setContainer(id)
	}
	if s.fullUpJSON {
		s.record(step, fmt.Sprintf("exit=%d\n%s", res.code, canonicalJSON(lastLine(res.stdout))))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "exit=%d\n", res.code)
	for _, k := range []string{"outcome", "containerId", "remoteUser", "remoteWorkspaceFolder", "composeProjectName"} {
		if v, ok := out[k]; ok {
			fmt.Fprintf(&b, "%s=%v\n", k, v)
		}
	}
	if res.code != 0 {
		s.t.Logf("%s: %s exited %d; stderr:\n%s", s.name, step, res.code, tail(res.stderr))
	}
	s.record(step, b.String())
}

// setContainer makes id the current container and derives the placeholders for it.
func (s *session) setContainer(id string) {
	s.ctr = id
	if _, ok := s.ids[id]; !ok {
		s.ids[id] = fmt.Sprintf("<container-%d>", len(s.ids)+1)
	}
	info, err := s.inspectContainer(id)
	if err != nil {
		return // the next step that needs the container will say so
	}
	labels := map[string]string{}
	for _, k := range []string{"devcontainer.local_folder", "devcontainer.config_file"} {
		if v, ok := info.Config.Labels[k]; ok {
			labels[k] = v
		}
	}
	s.devID = devcontainerID(labels)
}

// exec runs `exec --workspace-folder <ws> args...` and records exit code and stdout.
func (s *session) exec(step string, args ...string) { s.execFull(step, "", false, args...) }

// execSorted is exec with stdout lines sorted (for env listings, whose order means nothing).
func (s *session) execSorted(step string, args ...string) { s.execFull(step, "", true, args...) }

// execCode is exec recording only the exit code.
func (s *session) execCode(step string, args ...string) {
	if res, ok := s.runExec(step, "", args); ok {
		s.record(step, fmt.Sprintf("exit=%d\n", res.code))
	}
}

// execFull runs exec with stdin and optional line sorting.
func (s *session) execFull(step, stdin string, sorted bool, args ...string) {
	res, ok := s.runExec(step, stdin, args)
	if !ok {
		return
	}
	out := res.stdout
	if sorted {
		out = sortLines(out)
	}
	s.record(step, fmt.Sprintf("exit=%d\n%s", res.code, out))
}

// runExec runs `exec --workspace-folder <ws> args...` if the container is there.
func (s *session) runExec(step, stdin string, args []string) (result, bool) {
	if !s.ready(step) {
		return result{}, false
	}
	return s.cli(stdin, s.args("exec", args)...)
}

// command runs another sub-command (read-configuration, run-user-commands) and records its exit
// code and canonical JSON output.
func (s *session) command(step, sub string, extra ...string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	res, ok := s.cli("", s.args(sub, extra)...)
	if !ok {
		return
	}
	s.record(step, fmt.Sprintf("exit=%d\n%s", res.code, canonicalJSON(lastLine(res.stdout))))
}

// file records the content of a file in the container (read as root with docker exec), or
// <missing>.
func (s *session) file(step, path string) { s.readFile(step, path, false) }

// fileSorted is file with the lines sorted, for files whose line order carries no meaning.
func (s *session) fileSorted(step, path string) { s.readFile(step, path, true) }

func (s *session) readFile(step, path string, sorted bool) {
	if !s.ready(step) {
		return
	}
	out, err := s.rootShell(`cat "$1" 2>/dev/null || echo "<missing>"`, "sh", path)
	if err != nil {
		s.fail(err)
		return
	}
	if sorted {
		out = sortLines(out)
	}
	s.record(step, out)
}

// shell runs a shell snippet as root in the container with docker exec, outside both tools, and
// records its output.
func (s *session) shell(step, script string) {
	if !s.ready(step) {
		return
	}
	out, err := s.rootShell(script)
	if err != nil {
		s.fail(err)
		return
	}
	s.record(step, out)
}

// hostFile records a file in the workspace on the host, or <missing>.
func (s *session) hostFile(step, rel string) {
	data, err := os.ReadFile(filepath.Join(s.ws, rel))
	if err != nil {
		s.record(step, "<missing>")
		return
	}
	s.record(step, string(data))
}

// inspect records a view of the container's docker inspect data.
func (s *session) inspect(step string, view func(*containerInfo) string) {
	if !s.ready(step) {
		return
	}
	info, err := s.inspectContainer(s.ctr)
	if err != nil {
		s.fail(err)
		return
	}
	s.record(step, view(info))
}

// labels records the devcontainer labels of the container (metadata as canonical JSON).
func (s *session) labels(step string) {
	s.inspect(step, func(info *containerInfo) string {
		var b strings.Builder
		for _, k := range []string{"devcontainer.local_folder", "devcontainer.config_file", "devcontainer.metadata"} {
			v, ok := info.Config.Labels[k]
			switch {
			case !ok:
				v = "<absent>"
			case k == "devcontainer.metadata":
				v = canonicalJSON(v)
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		return b.String()
	})
}

// markers records the lifecycle marker files under home/.devcontainer and /var/devcontainer,
// with timestamps replaced by which container time they equal.
func (s *session) markers(step, home string) {
	if !s.ready(step) {
		return
	}
	info, err := s.inspectContainer(s.ctr)
	if err != nil {
		s.fail(err)
		return
	}
	script := `for f in "$1"/.devcontainer/.* "$1"/.devcontainer/* /var/devcontainer/.* /var/devcontainer/*; do
	[ -f "$f" ] && printf '%s=%s\n' "$f" "$(cat "$f")"
done; true`
	out, err := s.rootShell(script, "sh", home)
	if err != nil {
		s.fail(err)
		return
	}
	out = strings.ReplaceAll(out, info.Created, "<created>")
	out = strings.ReplaceAll(out, info.State.StartedAt, "<started>")
	out = timestampRE.ReplaceAllString(out, "<other-time>")
	s.record(step, sortLines(out))
}

var timestampRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

// stop stops the container with docker, as a user closing the workspace would.
func (s *session) stop() {
	if s.broken != "" || s.ctr == "" {
		return
	}
	if err := s.stopContainer(); err != nil {
		s.fail(err)
	}
}

// dockerRun runs a docker command on the current container (its id appended last).
func (s *session) dockerRun(args ...string) {
	if s.broken != "" || s.ctr == "" {
		return
	}
	if err := s.engineRun(args...); err != nil {
		s.fail(err)
	}
}

// useFlags adds flags to every later tool command (after --workspace-folder).
func (s *session) useFlags(flags ...string) { s.flags = append(s.flags, flags...) }

// gitWorkspace makes the workspace folder a Git repository and moves the session into its
// subfolder sub, which becomes the --workspace-folder.
func (s *session) gitWorkspace(sub string) {
	cmd := exec.CommandContext(s.ctx, "git", "init", "-q", s.ws)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.fail(fmt.Errorf("git init %s: %w: %s", s.ws, err, out))
		return
	}
	s.ws = filepath.Join(s.ws, sub)
}

// writeConfig replaces .devcontainer/devcontainer.json in the workspace.
func (s *session) writeConfig(text string) {
	if err := os.WriteFile(filepath.Join(s.ws, ".devcontainer", "devcontainer.json"), []byte(text), 0o644); err != nil {
		s.fail(err)
	}
}

// norm replaces what legitimately differs between runs with placeholders.
func (s *session) norm(v string) string {
	type pair struct{ from, to string }
	var pairs []pair
	for id, ph := range s.ids {
		pairs = append(pairs, pair{id, ph})
		if len(id) > 12 { // docker's short id, as in HOSTNAME
			pairs = append(pairs, pair{id[:12], ph})
		}
	}
	if s.devID != "" {
		pairs = append(pairs, pair{s.devID, "<devcontainerId>"})
	}
	pairs = append(pairs, pair{s.ws, "<workspace>"}, pair{s.tmp, "<tmp>"}, pair{s.runID, "<run>"})
	// Longest first, so a full id is replaced before its 12-character prefix.
	sort.SliceStable(pairs, func(i, j int) bool { return len(pairs[i].from) > len(pairs[j].from) })
	for _, p := range pairs {
		if p.from != "" {
			v = strings.ReplaceAll(v, p.from, p.to)
		}
	}
	return v
}

// devcontainerID computes ${devcontainerId} from id labels as the spec describes: SHA-256 of the
// labels as a JSON object with sorted keys, written in base 32 (0-9a-v), padded to 52 digits.
func devcontainerID(labels map[string]string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(labels); err != nil { // map keys are encoded sorted
		return ""
	}
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	id := new(big.Int).SetBytes(sum[:]).Text(32)
	return strings.Repeat("0", 52-len(id)) + id
}

// canonicalJSON re-encodes a JSON document with sorted keys and indentation so that key order,
// which a user cannot rely on, does not count. The reference's ociAuthDiagnostics field (its
// registry-auth internals, not part of the configuration) is dropped.
func canonicalJSON(text string) string {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return fmt.Sprintf("<not JSON: %q>", text)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "ociAuthDiagnostics")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<not JSON: %v>", err)
	}
	return buf.String()
}

// lastLine returns the last non-empty line: the result line of up and friends.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// sortLines sorts the lines of s.
func sortLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
