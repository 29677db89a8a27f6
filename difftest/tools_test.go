package difftest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// refCLIVersion is the reference CLI version the golden files were recorded with.
const refCLIVersion = "0.89.0"

// commandTimeout bounds one tool invocation; a hung up or exec fails the case instead of the run.
const commandTimeout = 3 * time.Minute

// tool is one implementation of the devcontainer CLI surface: the reference or mochi.
type tool struct {
	name string // "reference" or "mochi"
	path string
	env  []string   // added to every invocation's environment (after the session's)
	lxc  *lxcEngine // non-nil: mochi on LXC, whose containers sessions observe there

	mu       sync.Mutex
	supports map[string]bool // sub-command -> implemented (mochi only)
}

// result is what one tool invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// run invokes the tool with args in dir, with env added to the test process environment.
func (tl *tool) run(ctx context.Context, dir string, env []string, stdin string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tl.path, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), tl.env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr) && ctx.Err() == nil:
		res.code = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("run %s %s: %w (stderr: %s)", tl.name, strings.Join(args, " "), err, tail(res.stderr))
	}
	return res, nil
}

// implements reports whether the tool has the sub-command: the reference has them all; mochi's
// `<cmd> --help` must succeed and mention --workspace-folder (an unimplemented command either
// fails or prints nothing useful).
func (tl *tool) implements(ctx context.Context, cmd string) bool {
	if tl.name == "reference" {
		return true
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if v, ok := tl.supports[cmd]; ok {
		return v
	}
	res, err := tl.run(ctx, os.TempDir(), nil, "", cmd, "--help")
	ok := err == nil && res.code == 0 && strings.Contains(res.stdout+res.stderr, "--workspace-folder")
	if tl.supports == nil {
		tl.supports = map[string]bool{}
	}
	tl.supports[cmd] = ok
	return ok
}

// findReference locates the reference CLI: $MOCHI_REFCLI, then the places
// scripts/setup-debian.sh installs it, then PATH. It checks the version the golden files pin.
func findReference(repoRoot string) (*tool, error) {
	candidates := []string{os.Getenv("MOCHI_REFCLI")}
	if dir := os.Getenv("MOCHI_REFCLI_DIR"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "node_modules/.bin/devcontainer"))
	}
	candidates = append(candidates,
		filepath.Join(repoRoot, ".cache/refcli/node_modules/.bin/devcontainer"),
		"/opt/refcli/node_modules/.bin/devcontainer")
	if p, err := exec.LookPath("devcontainer"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, c := range candidates {
		if c == "" {
			continue
		}
		tried = append(tried, c)
		out, err := exec.Command(c, "--version").Output()
		if err != nil {
			continue
		}
		if v := strings.TrimSpace(string(out)); v != refCLIVersion {
			return nil, fmt.Errorf("reference CLI %s is version %s, want %s (scripts/setup-debian.sh installs it)", c, v, refCLIVersion)
		}
		return &tool{name: "reference", path: c}, nil
	}
	return nil, fmt.Errorf("reference CLI %s not found (tried %s); run scripts/setup-debian.sh or set MOCHI_REFCLI", refCLIVersion, strings.Join(tried, ", "))
}

// findMochi locates the mochi binary: $MOCHI_BIN, else <repo>/bin/mochi. A missing binary is
// not an error: the mochi side of every case is then skipped with a log line.
func findMochi(repoRoot string) *tool {
	p := os.Getenv("MOCHI_BIN")
	if p == "" {
		p = filepath.Join(repoRoot, "bin/mochi")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return nil
	}
	return &tool{name: "mochi", path: p}
}

// repoRoot is the module root: the test runs in difftest/.
func repoRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return ".."
	}
	return filepath.Dir(wd)
}

// tail shortens tool output for error messages.
func tail(s string) string {
	s = strings.TrimSpace(s)
	const max = 1500
	if len(s) > max {
		return "..." + s[len(s)-max:]
	}
	return s
}
