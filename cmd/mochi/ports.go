package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/gitcred"
	"github.com/mochi-dev/mochi/portfwd"
	"github.com/mochi-dev/mochi/workspace"
)

// portState is what the server writes to $MOCHI_HOME/ports/NAME.json for `mochi ports`.
type portState struct {
	Workspace string            `json:"workspace"`
	Updated   time.Time         `json:"updated"`
	Forwards  []portfwd.Forward `json:"forwards"`
	Error     string            `json:"error,omitempty"`
}

const portInterval = 2 * time.Second

// portLoop keeps every running workspace's forwards in sync, whether or not an IDE is
// connected, until ctx ends.
func portLoop(ctx context.Context, engines *serverEngines, home string, log *slog.Logger) {
	dir := filepath.Join(home, "ports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		log.Error("ports folder", "error", err)
		return
	}
	sets := map[string]*portfwd.Set{}
	idle := map[string]string{} // workspaces not forwarded, by the error last written
	creds := map[string]context.CancelFunc{}
	defer func() {
		for _, s := range sets {
			s.Close()
		}
		for _, cancel := range creds {
			cancel()
		}
	}()
	t := time.NewTicker(portInterval)
	defer t.Stop()
	for {
		syncPorts(ctx, engines, dir, sets, idle, log)
		syncCredentials(ctx, engines.home, creds, log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// syncPorts brings every running workspace's forwards in line with what it wants and writes
// each workspace's state for `mochi ports`. Which workspaces run is asked once per provider
// per pass, so records of stopped or removed workspaces (they pile up when containers are
// removed by other means) cost no engine call; their state is written when it changes.
func syncPorts(ctx context.Context, engines *serverEngines, dir string, sets map[string]*portfwd.Set, idle map[string]string, log *slog.Logger) {
	st, err := workspace.OpenStore(engines.home)
	if err != nil {
		return
	}
	recs, _ := st.List()
	live := map[string]bool{}
	running := map[string]map[string]bool{} // provider -> ids of its running instances
	for _, r := range recs {
		live[r.Name] = true
		state := portState{Workspace: r.Name, Updated: time.Now().UTC()}
		var (
			want []portfwd.Spec
			d    portfwd.Dialer
		)
		eng, err := engines.ForProvider(r.Provider)
		if err == nil {
			err = isRunning(ctx, eng, r, running)
		}
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			want, d, err = eng.PortPlan(cctx, r.Name)
			cancel()
		}
		set := sets[r.Name]
		if err != nil {
			if set != nil {
				set.Close()
				delete(sets, r.Name)
			}
			state.Error = err.Error()
			if idle[r.Name] == state.Error {
				continue // already written
			}
			idle[r.Name] = state.Error
		} else {
			delete(idle, r.Name)
			if set == nil {
				set = portfwd.NewSet(log.With("workspace", r.Name), nil)
				sets[r.Name] = set
			}
			state.Forwards = set.Sync(ctx, d, want)
		}
		data, _ := json.MarshalIndent(state, "", "  ")
		tmp := filepath.Join(dir, "."+r.Name+".json.tmp")
		if os.WriteFile(tmp, data, 0o600) == nil {
			_ = os.Rename(tmp, filepath.Join(dir, r.Name+".json"))
		}
	}
	for name, s := range sets {
		if !live[name] {
			s.Close()
			delete(sets, name)
		}
	}
	for name := range idle {
		if !live[name] {
			delete(idle, name)
			_ = os.Remove(filepath.Join(dir, name+".json"))
		}
	}
}

// isRunning reports, as an error, a workspace whose instance is not running, asking the
// engine for its provider's running instances once per pass (cached in running). Those are
// the instances with the default id labels; a workspace made with --id-label is left to
// PortPlan, which inspects it.
func isRunning(ctx context.Context, eng *workspace.Engine, r *workspace.Record, running map[string]map[string]bool) error {
	if _, ok := r.IDLabels[devcontainer.LabelLocalFolder]; !ok {
		return nil
	}
	ids, ok := running[r.Provider]
	if !ok {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var err error
		ids, err = eng.RunningIDs(cctx)
		cancel()
		if err != nil {
			return err
		}
		running[r.Provider] = ids
	}
	if !ids[r.ContainerID] {
		return fmt.Errorf("workspace %s is not running", r.Name)
	}
	return nil
}

func newPortsCmd(ios *IOStreams) *cobra.Command {
	var c common
	cmd := &cobra.Command{
		Use:   "ports NAME [forward LOCAL[:REMOTE] | unforward PORT]",
		Short: "List a workspace's forwarded ports, or forward and unforward one by hand",
		Args:  cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			name := args[0]
			if st, err := eng.Records(); err != nil {
				return err
			} else if _, err := st.Get(name); err != nil {
				return fmt.Errorf("no workspace named %s", name)
			}
			if len(args) == 1 {
				return printPorts(ios, home, name)
			}
			if len(args) != 3 {
				return fmt.Errorf("ports: say forward LOCAL[:REMOTE] or unforward PORT")
			}
			switch args[1] {
			case "forward":
				l, r, err := parseForwardArg(args[2])
				if err != nil {
					return err
				}
				if err := eng.ForwardPort(name, l, r); err != nil {
					return err
				}
			case "unforward":
				p, err := strconv.Atoi(args[2])
				if err != nil || p < 1 || p > 65535 {
					return fmt.Errorf("unforward %q: %w", args[2], portfwd.ErrPortRange)
				}
				if err := eng.UnforwardPort(name, p); err != nil {
					return err
				}
			default:
				return fmt.Errorf("ports: unknown action %q (forward or unforward)", args[1])
			}
			g := newGatewayFiles(home)
			if err := ensureServer(cmd.Context(), g); err != nil {
				return err
			}
			time.Sleep(portInterval + 500*time.Millisecond) // the server applies it on its next pass
			return printPorts(ios, home, name)
		},
	}
	c.register(cmd.Flags())
	return cmd
}

// parseForwardArg parses LOCAL[:REMOTE] (REMOTE defaults to LOCAL).
func parseForwardArg(s string) (int, int, error) {
	ls, rs, ok := strings.Cut(s, ":")
	if !ok {
		rs = ls
	}
	l, err1 := strconv.Atoi(ls)
	r, err2 := strconv.Atoi(rs)
	if err1 != nil || err2 != nil || l < 1 || l > 65535 || r < 1 || r > 65535 {
		return 0, 0, fmt.Errorf("forward %q: want LOCAL[:REMOTE], ports 1-65535", s)
	}
	return l, r, nil
}

func printPorts(ios *IOStreams, home, name string) error {
	data, err := os.ReadFile(filepath.Join(home, "ports", name+".json"))
	if err != nil {
		return fmt.Errorf("no port state for %s yet: is the server running? (mochi server status)", name)
	}
	var st portState
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("read port state: %w", err)
	}
	if st.Error != "" {
		fmt.Fprintf(ios.ErrOut, "%s: %s\n", name, st.Error)
	}
	tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCAL\tWORKSPACE PORT\tLABEL\tORIGIN")
	for _, f := range st.Forwards {
		local := f.LocalAddr
		if local == "" {
			local = "(" + f.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%s:%d\t%s\t%s\n", local, f.Host, f.Port, f.Label, f.Origin)
	}
	return tw.Flush()
}

// syncCredentials keeps one host git-credential server per workspace, on the socket in the
// folder mounted at /.mochi/run, so `git` inside asks the host's credential helpers.
func syncCredentials(ctx context.Context, home string, running map[string]context.CancelFunc, log *slog.Logger) {
	st, err := workspace.OpenStore(home)
	if err != nil {
		return
	}
	recs, _ := st.List()
	live := map[string]bool{}
	for _, r := range recs {
		id := devcontainer.DevcontainerID(r.IDLabels)
		if len(id) > 16 {
			id = id[:16]
		}
		runDir := filepath.Join(home, "run", id)
		if _, err := os.Stat(runDir); err != nil {
			continue
		}
		live[runDir] = true
		if _, ok := running[runDir]; ok {
			continue
		}
		cctx, cancel := context.WithCancel(ctx)
		running[runDir] = cancel
		go func() {
			if err := gitcred.ServeGitCredentials(cctx, runDir, log); err != nil && cctx.Err() == nil {
				log.Warn("git credential server stopped", "workspace", r.Name, "error", err)
			}
		}()
	}
	for dir, cancel := range running {
		if !live[dir] {
			cancel()
			delete(running, dir)
		}
	}
}
