package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/providers"
)

// Results of runLifecycle, as run-user-commands reports them.
const (
	hooksDone            = "done"
	hooksSkipNonBlocking = "skipNonBlocking"
	hooksPrebuild        = "prebuild"
	hooksPersonalization = "stopForPersonalization"
)

// HookError is a lifecycle hook that failed; later hooks were skipped.
type HookError struct {
	Hook, Origin string
	Code         int
}

func (e *HookError) Error() string { return fmt.Sprintf("%s from %s failed.", e.Hook, e.Origin) }

// runLifecycle runs the in-container hooks in the reference's order with its marker rules.
func (e *Engine) runLifecycle(ctx context.Context, s *session, ho HookOptions) (string, error) {
	m := s.merged
	waitFor := m.WaitFor
	if waitFor == "" {
		waitFor = "updateContentCommand"
	}
	stopAt := func(h string) bool { return ho.SkipNonBlocking && waitFor == h }
	if stopAt("initializeCommand") {
		return hooksSkipNonBlocking, nil
	}
	steps := []struct {
		name   string
		cmds   []devcontainer.HookCommand
		marker string
		force  bool
	}{
		{"onCreateCommand", m.OnCreateCommands, s.inst.Created, false},
		{"updateContentCommand", m.UpdateContentCommands, s.inst.Created, ho.Prebuild},
		{"postCreateCommand", m.PostCreateCommands, s.inst.Created, false},
	}
	for _, st := range steps {
		if st.name == "postCreateCommand" && ho.Prebuild {
			return hooksPrebuild, nil
		}
		if err := e.runHookOnce(ctx, s, st.name, st.cmds, st.marker, st.force); err != nil {
			return "", err
		}
		if stopAt(st.name) {
			return hooksSkipNonBlocking, nil
		}
	}
	if ho.Dotfiles.Repository != "" {
		e.installDotfiles(ctx, s, ho.Dotfiles)
	}
	if ho.StopForPersonalize {
		return hooksPersonalization, nil
	}
	if err := e.runHookOnce(ctx, s, "postStartCommand", m.PostStartCommands, s.inst.StartedAt, false); err != nil {
		return "", err
	}
	if stopAt("postStartCommand") {
		return hooksSkipNonBlocking, nil
	}
	if !ho.SkipPostAttach {
		if err := e.runHook(ctx, s, "postAttachCommand", m.PostAttachCommands); err != nil {
			return "", err
		}
	}
	return hooksDone, nil
}

// runHookOnce runs a hook if its marker file (in the user's data folder) does not yet hold
// value, writing value in the same step, exactly as the reference does so that neither tool
// re-runs the other's hooks.
func (e *Engine) runHookOnce(ctx context.Context, s *session, hook string, cmds []devcontainer.HookCommand, value string, force bool) error {
	run := force
	if value != "" {
		updated, err := e.updateMarker(ctx, s, s.dataDir+"/."+hook+"Marker", value)
		if err != nil {
			return err
		}
		run = run || updated
	}
	if !run {
		return nil
	}
	return e.runHook(ctx, s, hook, cmds)
}

// updateMarker writes value to the marker unless it already holds it; true means written.
func (e *Engine) updateMarker(ctx context.Context, s *session, path, value string) (bool, error) {
	dir := path[:strings.LastIndex(path, "/")]
	script := fmt.Sprintf(`mkdir -p '%s' && CONTENT="$(cat '%s' 2>/dev/null || echo ENOENT)" && [ "${CONTENT:-%s}" != '%s' ] && echo '%s' > '%s'`,
		dir, path, value, value, value, path)
	code, err := e.execer(ctx, s.inst, s.shell).Exec(ctx, s.inst.ID, providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", script}, User: s.user})
	if err != nil {
		return false, fmt.Errorf("update marker %s: %w", path, err)
	}
	return code == 0, nil
}

func originName(o string) string {
	if o == "" || o == "devcontainer.json" {
		return "devcontainer.json"
	}
	return "Feature '" + o + "'"
}

// runHook runs every source's command for one hook, in metadata order; a failure stops it.
func (e *Engine) runHook(ctx context.Context, s *session, hook string, cmds []devcontainer.HookCommand) error {
	for _, hc := range cmds {
		if hc.Command == nil || hc.Command.IsEmpty() {
			continue
		}
		origin := originName(hc.Origin)
		fmt.Fprintf(e.out, "Running the %s from %s...\n\n", hook, origin)
		if err := e.runCommand(ctx, s, hook, origin, hc.Command); err != nil {
			return err
		}
	}
	return nil
}

// runCommand runs one lifecycle command: a string through /bin/sh -c, an array as argv, an
// object's entries in parallel (output buffered per entry, every entry awaited).
func (e *Engine) runCommand(ctx context.Context, s *session, hook, origin string, c *devcontainer.Command) error {
	if c.Form != devcontainer.ParallelForm {
		code, err := e.execHook(ctx, s, argv(c), e.out)
		return hookResult(hook, origin, "", code, err, e.out)
	}
	entries := c.Parallel
	errs := make([]error, len(entries))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, en := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			code, err := e.execHook(ctx, s, argv(en.Command), &buf)
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.out, "Running %s of %s from %s...\n%s\n", en.Name, hook, origin, buf.String())
			errs[i] = hookResult(hook, origin, en.Name, code, err, e.out)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (e *Engine) execHook(ctx context.Context, s *session, argv []string, out io.Writer) (int, error) {
	return e.execer(ctx, s.inst, s.shell).Exec(ctx, s.inst.ID, providers.ExecSpec{
		Cmd: hookLeader(argv), User: s.user, Env: envList(s.env), WorkDir: s.dir, Tty: true, Stdout: out,
	})
}

// hookLeader runs a hook on its terminal (as the reference does with a pty) as the
// foreground job of a job-control shell, in a process group that the terminal's hang-up
// does not reach once the hook returned; see agent.ForegroundJob.
func hookLeader(argv []string) []string {
	return agent.ForegroundJob(argv)
}

func hookResult(hook, origin, name string, code int, err error, out io.Writer) error {
	what := hook
	if name != "" {
		what = name + " of " + hook
	}
	if err != nil {
		return fmt.Errorf("run %s from %s: %w", what, origin, err)
	}
	switch code {
	case 0:
		return nil
	case 130:
		fmt.Fprintf(out, "%s from %s interrupted.\n", what, origin)
		return nil
	}
	fmt.Fprintf(out, "%s from %s failed with exit code %d. Skipping any further user-provided commands.\n", what, origin, code)
	return &HookError{Hook: what, Origin: origin, Code: code}
}

// argv is how a shell- or args-form command runs: /bin/sh -c for a string, verbatim for an
// array.
func argv(c *devcontainer.Command) []string {
	if c.Form == devcontainer.ArgsForm {
		return c.Args
	}
	return []string{"/bin/sh", "-c", c.Shell}
}
