package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/sshgate"
	"github.com/mochi-dev/mochi/workspace"
)

// gatewayFiles are where mochi keeps the gateway's and the user's SSH files.
type gatewayFiles struct {
	home      string // $MOCHI_HOME
	dataDir   string // gateway host key and granted keys
	userKey   string // the user's key for the gateway
	sshConfig string // $MOCHI_HOME/ssh_config
	pidFile   string
	addrFile  string
	logFile   string
}

func newGatewayFiles(home string) gatewayFiles {
	return gatewayFiles{
		home:      home,
		dataDir:   filepath.Join(home, "gateway"),
		userKey:   filepath.Join(home, "id_ed25519"),
		sshConfig: filepath.Join(home, "ssh_config"),
		pidFile:   filepath.Join(home, "server.pid"),
		addrFile:  filepath.Join(home, "server.addr"),
		logFile:   filepath.Join(home, "server.log"),
	}
}

// buildFile records which build of mochi the running server is.
func (g gatewayFiles) buildFile() string { return filepath.Join(g.home, "server.build") }

// serverAddr is the gateway's address: the running server's, else the default.
func (g gatewayFiles) serverAddr() string {
	if b, err := os.ReadFile(g.addrFile); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	return sshgate.DefaultAddr
}

// grantUser creates the user's key on first use and grants it the workspace.
func (g gatewayFiles) grantUser(ws string) error {
	signer, err := sshgate.GenerateUserKey(g.userKey, "mochi user key")
	if err != nil {
		return err
	}
	return g.grant(ws, signer.PublicKey(), "mochi user key")
}

func (g gatewayFiles) grant(ws string, key ssh.PublicKey, comment string) error {
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return fmt.Errorf("create gateway folder: %w", err)
	}
	ks := sshgate.OpenKeyStore(g.dataDir)
	if ok, err := ks.Authorized(ws, key); err == nil && ok {
		return nil
	}
	return ks.Add(ws, key, comment)
}

// writeSSHConfig writes $MOCHI_HOME/ssh_config with one Host NAME.mochi per workspace and,
// unless noInclude, the Include line at the top of ~/.ssh/config.
func (g gatewayFiles) writeSSHConfig(eng *workspace.Engine, noInclude bool) (string, error) {
	st, err := eng.Records()
	if err != nil {
		return "", err
	}
	recs, err := st.List()
	if err != nil {
		return "", err
	}
	host, port, err := splitAddr(g.serverAddr())
	if err != nil {
		return "", err
	}
	hostKey, err := sshgate.LoadOrCreateHostKey(g.dataDir)
	if err != nil {
		return "", err
	}
	var hosts []sshgate.Host
	for _, r := range recs {
		hosts = append(hosts, sshgate.Host{Workspace: r.Name, HostName: host, Port: port, IdentityFile: g.userKey})
	}
	written, err := sshgate.WriteSSHConfig(g.home, hostKey.PublicKey(), hosts)
	if err != nil {
		return "", err
	}
	if err := os.Rename(written, g.sshConfig); err != nil {
		return "", fmt.Errorf("write %s: %w", g.sshConfig, err)
	}
	if !noInclude {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find home folder for ~/.ssh/config: %w", err)
		}
		if _, err := sshgate.EnsureInclude(home, g.sshConfig); err != nil {
			return "", err
		}
	}
	return g.sshConfig, nil
}

func splitAddr(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("gateway address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("gateway address %q: bad port", addr)
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return h, port, nil
}

// serverRunning reports whether a gateway answers at the recorded address.
func (g gatewayFiles) serverRunning(ctx context.Context) (int, bool) {
	pid := 0
	if b, err := os.ReadFile(g.pidFile); err == nil {
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", g.serverAddr())
	if err != nil {
		return pid, false
	}
	c.Close()
	return pid, pid > 0
}

var errServerNotRunning = errors.New("the mochi server is not running (start it with mochi server start)")

// noIncludeFile, when present in $MOCHI_HOME, says the user opted out of the Include line.
const noIncludeFile = "no-ssh-include"

// exposeWorkspace makes a workspace reachable as NAME.mochi: the user's key is granted, the
// ssh config is written and the gateway is started if it is not running.
func exposeWorkspace(ctx context.Context, ios *IOStreams, eng *workspace.Engine, name string) error {
	home, err := mochiHome(ios)
	if err != nil {
		return err
	}
	g := newGatewayFiles(home)
	if err := g.grantUser(name); err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(home, noIncludeFile))
	if _, err := g.writeSSHConfig(eng, statErr == nil); err != nil {
		return err
	}
	return ensureServer(ctx, g)
}
