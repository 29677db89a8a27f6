package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mochi-dev/mochi/gitwt"
	"github.com/mochi-dev/mochi/workspace"
)

// gitFlags are the git set-up opt-outs of workspace create and up.
type gitFlags struct{ noCredentials, noConfig bool }

func (g *gitFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&g.noCredentials, "no-git-credentials", false, "do not let git in the workspace ask the host's git for credentials")
	fs.BoolVar(&g.noConfig, "no-git-config", false, "do not copy the host's git user.name and user.email into the workspace")
}

func (g gitFlags) options() workspace.GitOptions {
	return workspace.GitOptions{Credentials: !g.noCredentials, Config: !g.noConfig}
}

// followNamed makes the provider of a command on the named workspace its own, unless
// --provider says otherwise.
func (c *common) followNamed(ios *IOStreams, name string) {
	if c.provider != "" {
		return
	}
	home, err := mochiHome(ios)
	if err != nil {
		return
	}
	if ns, err := workspace.OpenNamedStore(home); err == nil {
		if n, err := ns.Get(name); err == nil && n.Provider != "" {
			c.provider = n.Provider
			return
		}
	}
	if st, err := workspace.OpenStore(home); err == nil {
		if r, err := st.Get(name); err == nil && r.Provider != "" {
			c.provider = r.Provider
		}
	}
}

// namedResult is what workspace create and up print.
type namedResult struct {
	*workspace.UpResult
	Branch   string `json:"branch,omitempty"`
	Worktree string `json:"worktree,omitempty"`
	SSHHost  string `json:"sshHost,omitempty"`
}

func newWorkspaceCmd(ios *IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workspace",
		Short: "Named workspaces, one per git worktree: create, up, stop, down, rm, list",
	}
	cmd.AddCommand(newWorkspaceCreateCmd(ios), newWorkspaceUpCmd(ios), newWorkspaceStopCmd(ios, false),
		newWorkspaceStopCmd(ios, true), newWorkspaceRmCmd(ios), newWorkspaceListCmd(ios))
	return cmd
}

func newWorkspaceCreateCmd(ios *IOStreams) *cobra.Command {
	var (
		o        workspace.CreateOptions
		c        common
		gf       gitFlags
		agent    bool
		noServer bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a git worktree for a branch and a workspace named NAME for it",
		Long: "create adds a git worktree of the repository (--repo, default the current folder) under\n" +
			"$MOCHI_HOME/worktrees/NAME (or --path) checking out --branch, or a new branch (--new-branch,\n" +
			"default NAME), and brings up a workspace named NAME for it, reachable as NAME.mochi. The\n" +
			"repository's git folder is mounted at the same path so git works inside. On failure\n" +
			"nothing is left behind.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Branch != "" && o.NewBranch != "" {
				return errors.New("give --branch or --new-branch, not both")
			}
			o.Name = args[0]
			if o.Branch == "" && o.NewBranch == "" {
				o.NewBranch = o.Name
			}
			if agent {
				sock, ok := ios.LookupEnv("SSH_AUTH_SOCK")
				if !ok || sock == "" {
					return errors.New("--forward-ssh-agent: SSH_AUTH_SOCK is not set (start an ssh-agent first)")
				}
				o.SSHAuthSock = sock
			}
			repo := o.Repo
			if repo == "" {
				repo = "."
			}
			c.loc = &workspace.Locate{WorkspaceFolder: repo}
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			o.Provider = c.provider
			o.Up.Secrets = c.secrets
			o.Git = gf.options()
			n, res, err := eng.CreateNamed(cmd.Context(), o)
			if err != nil {
				return err
			}
			expose(cmd.Context(), ios, eng, log, n.Name, noServer)
			return printJSON(ios, namedResult{UpResult: res, Branch: n.Branch, Worktree: n.Worktree, SSHHost: n.Name + ".mochi"})
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.registerSecrets(fs)
	gf.register(fs)
	registerHooks(fs, &o.Up.HookOptions)
	fs.StringVar(&o.Repo, "repo", "", "a folder of the git repository (default: current directory)")
	fs.StringVar(&o.Branch, "branch", "", "existing branch to check out")
	fs.StringVar(&o.NewBranch, "new-branch", "", "branch to create from HEAD (default NAME when --branch is not given)")
	fs.StringVar(&o.Path, "path", "", "worktree folder (default $MOCHI_HOME/worktrees/NAME)")
	fs.StringArrayVar(&o.Up.Mounts, "mount", nil, "extra mount type=(bind|volume),source=…,target=…; repeatable")
	fs.BoolVar(&agent, "forward-ssh-agent", false, "bind-mount the host's ssh-agent ($SSH_AUTH_SOCK) into the workspace")
	fs.BoolVar(&noServer, "no-server", false, "do not start mochi's server or write ssh config entries (also MOCHI_NO_SERVER=1)")
	return cmd
}

// expose makes a workspace reachable over SSH unless the user opted out.
func expose(ctx context.Context, ios *IOStreams, eng *workspace.Engine, log interface{ Warn(string, ...any) }, name string, noServer bool) {
	if v, _ := ios.LookupEnv("MOCHI_NO_SERVER"); v != "" && v != "0" {
		noServer = true
	}
	if noServer {
		return
	}
	if err := exposeWorkspace(ctx, ios, eng, name); err != nil {
		log.Warn("workspace is up but not reachable over SSH: " + err.Error())
	}
}

func newWorkspaceUpCmd(ios *IOStreams) *cobra.Command {
	var (
		o        workspace.UpOptions
		c        common
		gf       gitFlags
		noServer bool
	)
	cmd := &cobra.Command{
		Use:   "up NAME",
		Short: "Create or start the container of a worktree workspace",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.followNamed(ios, args[0])
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			o.Secrets = c.secrets
			g := gf.options()
			res, err := eng.UpNamed(cmd.Context(), args[0], o, g)
			if err != nil {
				return err
			}
			expose(cmd.Context(), ios, eng, log, args[0], noServer)
			nr := namedResult{UpResult: res, SSHHost: args[0] + ".mochi"}
			if ns, err := eng.Named(); err == nil {
				if n, err := ns.Get(args[0]); err == nil {
					nr.Branch, nr.Worktree = n.Branch, n.Worktree
				}
			}
			return printJSON(ios, nr)
		},
	}
	fs := cmd.Flags()
	c.register(fs)
	c.registerSecrets(fs)
	gf.register(fs)
	registerHooks(fs, &o.HookOptions)
	fs.BoolVar(&o.RemoveExisting, "remove-existing-container", false, "remove the existing container first")
	fs.BoolVar(&noServer, "no-server", false, "do not start mochi's server or write ssh config entries (also MOCHI_NO_SERVER=1)")
	return cmd
}

func newWorkspaceStopCmd(ios *IOStreams, down bool) *cobra.Command {
	var c common
	use, short := "stop NAME", "Stop the container of a named workspace"
	if down {
		use, short = "down NAME", "Stop and remove the container of a named workspace (the worktree stays)"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.followNamed(ios, args[0])
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			res, err := eng.StopNamed(cmd.Context(), args[0], down)
			if err != nil {
				return err
			}
			if down {
				rewriteSSHConfig(ios, eng, log)
			}
			return printJSON(ios, res)
		},
	}
	c.register(cmd.Flags())
	return cmd
}

// rewriteSSHConfig drops removed workspaces from $MOCHI_HOME/ssh_config.
func rewriteSSHConfig(ios *IOStreams, eng *workspace.Engine, log interface{ Warn(string, ...any) }) {
	home, err := mochiHome(ios)
	if err != nil {
		return
	}
	if _, err := os.Stat(filepath.Join(home, "ssh_config")); err != nil {
		return
	}
	_, optedOut := os.Stat(filepath.Join(home, noIncludeFile))
	if _, err := newGatewayFiles(home).writeSSHConfig(eng, optedOut == nil); err != nil {
		log.Warn("could not update the ssh config: " + err.Error())
	}
}

func newWorkspaceRmCmd(ios *IOStreams) *cobra.Command {
	var (
		c     common
		force bool
	)
	cmd := &cobra.Command{
		Use:   "rm NAME",
		Short: "Remove a worktree workspace: its container and its worktree (the branch stays)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.followNamed(ios, args[0])
			eng, log, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			if err := eng.RemoveNamed(cmd.Context(), args[0], force, gitwt.Git{}); err != nil {
				return err
			}
			rewriteSSHConfig(ios, eng, log)
			_, err = fmt.Fprintf(ios.Out, "removed workspace %s\n", args[0])
			return err
		},
	}
	c.register(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "remove even when the worktree has uncommitted changes (they are lost)")
	return cmd
}

// workspaceLine is one workspace of `mochi workspace list --json`.
type workspaceLine struct {
	workspace.NamedEntry
	SSHHost string   `json:"sshHost"`
	Ports   []string `json:"ports"`
}

func newWorkspaceListCmd(ios *IOStreams) *cobra.Command {
	var (
		c      common
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List named workspaces: branch, provider, state, ssh host and forwarded ports",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng, _, _, err := c.engine(ios)
			if err != nil {
				return err
			}
			home, err := mochiHome(ios)
			if err != nil {
				return err
			}
			entries, err := eng.ListNamed(cmd.Context(), gitwt.Git{})
			if err != nil {
				return err
			}
			fillForeignStates(cmd.Context(), ios, entries)
			lines := make([]workspaceLine, 0, len(entries))
			for _, e := range entries {
				lines = append(lines, workspaceLine{NamedEntry: e, SSHHost: e.Name + ".mochi", Ports: forwardedPorts(home, e.Name)})
			}
			if asJSON {
				return printJSON(ios, lines)
			}
			tw := tabwriter.NewWriter(ios.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tBRANCH\tPROVIDER\tSTATE\tSSH HOST\tPORTS")
			for _, l := range lines {
				ports := strings.Join(l.Ports, ",")
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, dash(l.Branch), l.Provider, l.State, l.SSHHost, dash(ports))
			}
			return tw.Flush()
		},
	}
	c.register(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// fillForeignStates asks each other provider's engine for the state of its workspaces.
func fillForeignStates(ctx context.Context, ios *IOStreams, entries []workspace.NamedEntry) {
	states := map[string]map[string]string{}
	for i, e := range entries {
		if e.State != "" {
			continue
		}
		m, ok := states[e.Provider]
		if !ok {
			m = map[string]string{}
			c := common{provider: e.Provider, logLevel: "info", logFormat: "text"}
			quiet := *ios
			quiet.ErrOut = io.Discard
			if eng, _, _, err := c.engine(&quiet); err == nil {
				if list, err := eng.ListNamed(ctx, gitwt.Git{}); err == nil {
					for _, l := range list {
						m[l.Name] = l.State
					}
				}
			}
			states[e.Provider] = m
		}
		entries[i].State = m[e.Name]
		if entries[i].State == "" {
			entries[i].State = "unknown"
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// forwardedPorts reads the server's $MOCHI_HOME/ports/NAME.json: "port->local address".
func forwardedPorts(home, name string) []string {
	data, err := os.ReadFile(filepath.Join(home, "ports", name+".json"))
	if err != nil {
		return nil
	}
	var ps portState
	if json.Unmarshal(data, &ps) != nil {
		return nil
	}
	var out []string
	for _, f := range ps.Forwards {
		if f.LocalAddr != "" {
			out = append(out, fmt.Sprintf("%d->%s", f.Port, f.LocalAddr))
		}
	}
	return out
}
