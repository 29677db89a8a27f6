package agent

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const (
	rootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	userPath = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
)

// account resolves a session user (empty: the default user, then the agent's own).
func (a *conn) account(name string) (Account, error) {
	if name == "" {
		name = a.opts.User
	}
	if name == "" {
		name = strconv.Itoa(os.Getuid())
	}
	acct, err := LookupAccount(name, a.opts.PasswdFile, a.opts.GroupFile)
	if err != nil {
		return acct, err
	}
	if fi, err := os.Stat(acct.Shell); acct.Shell == "" || err != nil || fi.IsDir() {
		acct.Shell = "/bin/sh"
	}
	return acct, nil
}

// credential returns what the child needs to run as acct, or an error when the agent
// cannot become acct.
func credential(acct Account) (*syscall.Credential, error) {
	if os.Getuid() != 0 {
		if uint32(os.Getuid()) != acct.UID {
			return nil, ErrUserSwitch
		}
		return nil, nil
	}
	return &syscall.Credential{Uid: acct.UID, Gid: acct.GID, Groups: acct.Groups}, nil
}

// envList is an environment where a later Set replaces an earlier one in place.
type envList struct {
	keys []string
	vals map[string]string
}

func (e *envList) Set(k, v string) {
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.vals[k] = v
}

func (e *envList) SetAll(kvs []string) {
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			e.Set(k, v)
		}
	}
}

func (e *envList) List() []string {
	out := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		out = append(out, k+"="+e.vals[k])
	}
	return out
}

// loginEnv is what login(1)/sshd give every session before anything else.
func loginEnv(acct Account) *envList {
	e := &envList{}
	e.Set("HOME", acct.Home)
	e.Set("USER", acct.Name)
	e.Set("LOGNAME", acct.Name)
	e.Set("SHELL", acct.Shell)
	if acct.UID == 0 {
		e.Set("PATH", rootPath)
	} else {
		e.Set("PATH", userPath)
	}
	return e
}

// plainEnv is what `docker exec` starts a process with before the container's env: a default
// PATH, HOSTNAME and the user's HOME.
func plainEnv(acct Account) *envList {
	e := &envList{}
	e.Set("PATH", rootPath)
	if h, err := os.Hostname(); err == nil {
		e.Set("HOSTNAME", h)
	}
	e.Set("HOME", acct.Home)
	return e
}

var defaultAcceptEnv = []string{"LANG", "LANGUAGE", "LC_*", "TERM", "COLORTERM", "TZ", "GIT_PROTOCOL", "MOCHI_*"}

// acceptEnv says whether an env request for name is honoured. LD_*, PATH and the like
// are never accepted from clients.
func (a *conn) acceptEnv(name string) bool {
	for _, pats := range [][]string{defaultAcceptEnv, a.opts.AcceptEnv} {
		for _, p := range pats {
			if ok, _ := filepath.Match(p, name); ok {
				return true
			}
		}
	}
	return false
}

// workDir returns dir if it is a directory, else the home, else "/", as sshd falls
// back when it cannot chdir.
func workDir(dir, home string) string {
	for _, d := range []string{dir, home} {
		if d == "" {
			continue
		}
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return "/"
}

// Get returns the value of k ("" if unset).
func (e *envList) Get(k string) string { return e.vals[k] }
