package difftest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Steps for `build`: what the command prints, and the image it leaves.

// build runs `build --workspace-folder <ws> extra...`, records its exit code and canonical
// JSON (with the folder hash of vsc-<folder>-<hash> names replaced) and remembers the first
// image name it reports for the image steps.
func (s *session) build(step string, extra ...string) {
	if s.broken != "" {
		s.record(step, "<not run: harness error>")
		return
	}
	res, ok := s.cli("", s.args("build", extra)...)
	if !ok {
		return
	}
	line := lastLine(res.stdout)
	s.builtImage = ""
	var out struct{ ImageName any }
	if json.Unmarshal([]byte(line), &out) == nil {
		switch v := out.ImageName.(type) {
		case string:
			s.builtNames = append(s.builtNames, v)
			s.builtImage = v
		case []any:
			for i, n := range v {
				if n, ok := n.(string); ok {
					s.builtNames = append(s.builtNames, n)
					if i == 0 {
						s.builtImage = n
					}
				}
			}
		}
	}
	if res.code != 0 {
		s.t.Logf("%s: %s exited %d; stderr:\n%s", s.name, step, res.code, tail(res.stderr))
	}
	s.record(step, fmt.Sprintf("exit=%d\n%s", res.code, folderImageHash.ReplaceAllString(canonicalJSON(line), "-<folder hash>")))
}

// imageLabels records labels of the image the last build reported (devcontainer.metadata
// as canonical JSON).
func (s *session) imageLabels(step string, keys ...string) {
	if s.builtImage == "" {
		s.record(step, "<not run: no image>")
		return
	}
	out, err := docker(s.ctx, "image", "inspect", "--format", `{{json .Config.Labels}}`, s.builtImage)
	var labels map[string]string
	if err == nil {
		err = json.Unmarshal([]byte(out), &labels)
	}
	if err != nil {
		s.record(step, "<no such image>")
		return
	}
	var b strings.Builder
	for _, k := range keys {
		v, ok := labels[k]
		switch {
		case !ok:
			v = "<absent>"
		case k == "devcontainer.metadata":
			v = canonicalJSON(v)
		}
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	s.record(step, b.String())
}

// imageRun records the output of a shell script run as root in a throwaway container of the
// image the last build reported.
func (s *session) imageRun(step, script string) {
	if s.builtImage == "" {
		s.record(step, "<not run: no image>")
		return
	}
	out, err := docker(s.ctx, "run", "--rm", "--label", "mochi.test=1", "-u", "root", "--entrypoint", "/bin/sh", s.builtImage, "-c", script)
	if err != nil {
		s.record(step, "<failed: "+err.Error()+">")
		return
	}
	s.record(step, out)
}
