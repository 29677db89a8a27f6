package devcontainer

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// Layout is where the workspace lives in the container.
type Layout struct {
	// HostSource is the host folder the default mount binds: the Git root or the workspace
	// folder; "" for compose configurations.
	HostSource string
	// WorkspaceMount is the --mount string for the workspace, "" for none.
	WorkspaceMount string
	// WorkspaceFolder is the container path processes start in.
	WorkspaceFolder string

	// mount tells JSON how the reference would print workspaceMount.
	mount mountState
}

type mountState int

const (
	mountString mountState = iota // a string (possibly "")
	mountAbsent                   // undefined: compose
	mountNull                     // the configuration says null
)

// ComputeLayout computes the workspace mount and folder for c opened from the host folder
// localFolder, as the reference's getWorkspaceConfiguration: the mounted host folder is the
// Git root when mountGitRoot is set and localFolder is inside a repository (found with
// `git rev-parse --show-cdup`, which keeps symlinked paths), else localFolder; it is bound
// at /workspaces/<its basename> and the workspace folder is that joined with localFolder's
// path below it. workspaceFolder and workspaceMount from c win. Compose configurations get
// no mount and "/" as default folder.
func ComputeLayout(c *Config, localFolder string, mountGitRoot bool) (Layout, error) {
	local, err := filepath.Abs(localFolder)
	if err != nil {
		return Layout{}, fmt.Errorf("compute workspace layout: %w", err)
	}
	if c.hasCompose {
		l := Layout{WorkspaceFolder: c.WorkspaceFolder, mount: mountAbsent}
		if l.WorkspaceFolder == "" {
			l.WorkspaceFolder = "/"
		}
		return l, nil
	}
	l := Layout{WorkspaceFolder: c.WorkspaceFolder}
	mountSet := c.WorkspaceMount != nil
	if mountSet {
		l.WorkspaceMount = *c.WorkspaceMount
		if n := c.tree.get("workspaceMount"); n != nil && n.kind == 'n' {
			l.mount = mountNull
		}
	}
	if c.WorkspaceFolder != "" && mountSet {
		return l, nil
	}
	host := local
	if mountGitRoot {
		if root := gitRoot(local); root != "" {
			host = root
		}
	}
	l.HostSource = host
	target := path.Join("/workspaces", posixBase(filepath.ToSlash(host)))
	if c.WorkspaceFolder == "" {
		rel, err := filepath.Rel(host, local)
		if err != nil {
			return Layout{}, fmt.Errorf("compute workspace layout: %w", err)
		}
		l.WorkspaceFolder = path.Join(target, filepath.ToSlash(rel))
	}
	if !mountSet {
		l.WorkspaceMount = "type=bind," + quoteComma("source="+host, host) + "," + quoteComma("target="+target, target)
	}
	return l, nil
}

// quoteComma wraps field in double quotes when value contains a comma, as the reference does.
func quoteComma(field, value string) string {
	if strings.Contains(value, ",") {
		return `"` + field + `"`
	}
	return field
}

// gitRoot returns the root of the Git work tree holding dir, or "". Like the reference it
// asks git (`rev-parse --show-cdup`); without a git binary it walks up looking for
// .git/config, the reference's fallback.
func gitRoot(dir string) string {
	if _, err := exec.LookPath("git"); err != nil {
		for cur, prev := dir, ""; cur != prev; prev, cur = cur, filepath.Dir(cur) {
			if isFile(filepath.Join(cur, ".git", "config")) {
				return cur
			}
		}
		return ""
	}
	cmd := exec.Command("git", "rev-parse", "--show-cdup")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, strings.TrimSpace(string(out)))
}

// Apply makes the values of the substituted configuration sc win as the reference does
// after substitution: a workspaceFolder string (even "") and a present workspaceMount.
func (l Layout) Apply(sc *Config) Layout {
	if n := sc.tree.get("workspaceFolder"); n != nil && n.kind == '"' {
		l.WorkspaceFolder = n.str
	}
	if sc.WorkspaceMount != nil {
		l.WorkspaceMount = *sc.WorkspaceMount
		l.mount = mountString
		if n := sc.tree.get("workspaceMount"); n != nil && n.kind == 'n' {
			l.mount = mountNull
		}
	}
	return l
}

// JSON is the "workspace" object `devcontainer read-configuration` prints for l.
func (l Layout) JSON() []byte {
	var b bytes.Buffer
	b.WriteString(`{"workspaceFolder":`)
	b.Write(jsString(l.WorkspaceFolder))
	switch l.mount {
	case mountString:
		b.WriteString(`,"workspaceMount":`)
		b.Write(jsString(l.WorkspaceMount))
	case mountNull:
		b.WriteString(`,"workspaceMount":null`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// ResolveLocal is the reference's read step for a workspace: the layout from the
// unsubstituted configuration, the local substitution phase (host environment lookup,
// local and container workspace folders), then the substituted workspaceFolder and
// workspaceMount win. ${devcontainerId} and ${containerEnv:...} stay for later phases.
func ResolveLocal(c *Config, localFolder string, mountGitRoot bool, lookupEnv func(string) (string, bool)) (*Config, Layout, error) {
	l, err := ComputeLayout(c, localFolder, mountGitRoot)
	if err != nil {
		return nil, Layout{}, err
	}
	local, _ := filepath.Abs(localFolder)
	sc, err := c.Substitute(SubstContext{
		LocalWorkspaceFolder:     local,
		ContainerWorkspaceFolder: l.WorkspaceFolder,
		LookupEnv:                lookupEnv,
	})
	if err != nil {
		return nil, Layout{}, err
	}
	return sc, l.Apply(sc), nil
}
