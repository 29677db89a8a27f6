package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/mochi-dev/mochi/agent"
	"github.com/mochi-dev/mochi/portfwd"
)

// portAttrs are the portsAttributes that change forwarding.
type portAttrs struct {
	Label            string `json:"label"`
	OnAutoForward    string `json:"onAutoForward"`
	RequireLocalPort bool   `json:"requireLocalPort"`
	ElevateIfNeeded  bool   `json:"elevateIfNeeded"`
}

// parsePort parses one forwardPorts entry: a number (localhost) or "host:port".
func parsePort(v any) (string, int, error) {
	host, p := "localhost", ""
	switch x := v.(type) {
	case float64:
		p = strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		p = strconv.Itoa(x)
	case json.Number:
		p = x.String()
	case string:
		h, port, ok := strings.Cut(x, ":")
		if !ok {
			h, port = "localhost", x
		}
		host, p = h, port
	default:
		return "", 0, fmt.Errorf("forwardPorts entry %v: want a port number or \"host:port\"", v)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("forwardPorts entry %v: %w", v, portfwd.ErrPortRange)
	}
	return host, n, nil
}

// attrsFor finds the portsAttributes entry for port (exact, "a-b" range or regex key), else
// otherPortsAttributes.
func attrsFor(all map[string]any, other any, port int) portAttrs {
	var a portAttrs
	decode := func(v any) portAttrs {
		var pa portAttrs
		b, _ := json.Marshal(v)
		_ = json.Unmarshal(b, &pa)
		return pa
	}
	ps := strconv.Itoa(port)
	if v, ok := all[ps]; ok {
		return decode(v)
	}
	for k, v := range all {
		if lo, hi, ok := strings.Cut(k, "-"); ok {
			l, e1 := strconv.Atoi(lo)
			h, e2 := strconv.Atoi(hi)
			if e1 == nil && e2 == nil && port >= l && port <= h {
				return decode(v)
			}
			continue
		}
		if re, err := regexp.Compile("^(?:" + k + ")$"); err == nil && re.MatchString(ps) {
			return decode(v)
		}
	}
	if other != nil {
		a = decode(other)
	}
	return a
}

// checkPorts validates forwardPorts and portsAttributes at up: a bad entry, an unknown
// compose service or elevateIfNeeded is an error.
func checkPorts(values []any, attrs map[string]any, services []string) error {
	for _, v := range values {
		host, _, err := parsePort(v)
		if err != nil {
			return err
		}
		if host != "localhost" && host != "127.0.0.1" && services != nil && !contains(services, host) {
			return fmt.Errorf("forwardPorts entry %q: no compose service %q", v, host)
		}
	}
	for k, v := range attrs {
		if m, ok := v.(map[string]any); ok && m["elevateIfNeeded"] == true {
			return fmt.Errorf("portsAttributes %q: elevateIfNeeded is not supported: mochi never forwards as root; pick a port above 1023", k)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// manualPorts is $MOCHI_HOME/ports/NAME.manual.json: forwards added by hand and ports the
// user unforwarded.
type manualPorts struct {
	Add      []portfwd.Spec `json:"add"`
	Suppress []int          `json:"suppress"`
}

func (e *Engine) manualFile(name string) string {
	return filepath.Join(e.home, "ports", name+".manual.json")
}

// ReadManualPorts returns the hand-made forwards of a workspace.
func (e *Engine) ReadManualPorts(name string) (manualPorts, error) {
	var m manualPorts
	data, err := os.ReadFile(e.manualFile(name))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(data, &m)
}

// ForwardPort adds a forward by hand (local port 0: the same as the workspace port).
func (e *Engine) ForwardPort(name string, local, remote int) error {
	m, err := e.ReadManualPorts(name)
	if err != nil {
		return err
	}
	m.Suppress = removeInt(m.Suppress, remote)
	m.Add = append(m.Add, portfwd.Spec{Host: "localhost", Port: remote, LocalPort: local, Origin: portfwd.OriginManual})
	return e.writeManual(name, m)
}

// UnforwardPort removes a forward (by workspace or local port) and keeps it from coming back.
func (e *Engine) UnforwardPort(name string, port int) error {
	m, err := e.ReadManualPorts(name)
	if err != nil {
		return err
	}
	var keep []portfwd.Spec
	for _, s := range m.Add {
		if s.Port != port && s.LocalPort != port {
			keep = append(keep, s)
		}
	}
	m.Add = keep
	m.Suppress = append(removeInt(m.Suppress, port), port)
	return e.writeManual(name, m)
}

func removeInt(l []int, v int) []int {
	var out []int
	for _, x := range l {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func (e *Engine) writeManual(name string, m manualPorts) error {
	if err := os.MkdirAll(filepath.Join(e.home, "ports"), 0o700); err != nil {
		return err
	}
	data, _ := json.MarshalIndent(m, "", "  ")
	return writeFileAtomic(e.manualFile(name), data, 0o600)
}

// RunningIDs returns the ids of the running instances of the engine's provider that carry
// the devcontainer labels (every workspace's does), in one call to the provider.
func (e *Engine) RunningIDs(ctx context.Context) (map[string]bool, error) {
	insts, err := e.be.List(ctx, map[string]string{labelLocalFolder: ""})
	if err != nil {
		return nil, fmt.Errorf("list running workspaces: %w", err)
	}
	ids := map[string]bool{}
	for _, in := range insts {
		if in.Running() {
			ids[in.ID] = true
		}
	}
	return ids, nil
}

// PortPlan returns the forwards a running workspace wants now (forwardPorts, ports found
// listening inside it unless onAutoForward says ignore, and hand-made ones) and the dialer
// that reaches them through its agent.
func (e *Engine) PortPlan(ctx context.Context, name string) ([]portfwd.Spec, portfwd.Dialer, error) {
	st, err := e.store()
	if err != nil {
		return nil, nil, err
	}
	rec, err := st.Get(name)
	if err != nil {
		return nil, nil, err
	}
	inst, err := e.be.Inspect(ctx, rec.ContainerID)
	if err != nil {
		return nil, nil, err
	}
	if !inst.Running() {
		return nil, nil, fmt.Errorf("workspace %s is %s", name, inst.State)
	}
	x := e.execer(ctx, inst, "")
	ax, ok := x.(*agentExecer)
	if !ok {
		return nil, nil, fmt.Errorf("workspace %s has no agent socket (made by another tool?): no port forwarding", name)
	}
	r := &resolved{folder: rec.Folder, idLabels: rec.IDLabels}
	entries, err := containerEntries(r, inst)
	if err != nil {
		return nil, nil, err
	}
	m, err := e.merge(r, entries, envMap(inst.Env))
	if err != nil {
		return nil, nil, err
	}
	manual, err := e.ReadManualPorts(name)
	if err != nil {
		return nil, nil, err
	}
	suppressed := map[int]bool{}
	for _, p := range manual.Suppress {
		suppressed[p] = true
	}
	var want []portfwd.Spec
	seen := map[int]bool{}
	for _, v := range m.ForwardPorts {
		host, port, err := parsePort(v)
		if err != nil || suppressed[port] {
			continue
		}
		a := attrsFor(m.PortsAttributes, nil, port)
		want = append(want, portfwd.Spec{Host: host, Port: port, Label: a.Label, Origin: portfwd.OriginConfig, RequireLocalPort: a.RequireLocalPort})
		if host == "localhost" {
			seen[port] = true
		}
	}
	for _, s := range manual.Add {
		want = append(want, s)
		seen[s.Port] = true
	}
	listening, err := ax.client.ListPorts(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range listening {
		if seen[p.Port] || suppressed[p.Port] {
			continue
		}
		a := attrsFor(m.PortsAttributes, m.OtherPortsAttributes, p.Port)
		if a.OnAutoForward == "ignore" {
			continue
		}
		seen[p.Port] = true
		want = append(want, portfwd.Spec{Host: "localhost", Port: p.Port, Label: a.Label, Origin: portfwd.OriginAuto, RequireLocalPort: a.RequireLocalPort})
	}
	return want, agentDialer{ax.client}, nil
}

// agentDialer dials inside a workspace through its agent link.
type agentDialer struct{ c *agent.Client }

func (d agentDialer) Dial(ctx context.Context, host string, port int) (net.Conn, error) {
	// The socket itself when the agent can hand it over: the forwarder then copies between
	// two sockets in the kernel.
	c, err := d.c.DialHandedOver(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err == nil || !errors.Is(err, agent.ErrNoFDPassing) {
		return c, err
	}
	payload := ssh.Marshal(struct {
		Host       string
		Port       uint32
		OriginHost string
		OriginPort uint32
	}{host, uint32(port), "127.0.0.1", 0})
	ch, reqs, err := d.c.Conn().OpenChannel("direct-tcpip", payload)
	if err != nil {
		return nil, fmt.Errorf("dial %s:%d in the workspace: %w", host, port, err)
	}
	go ssh.DiscardRequests(reqs)
	return &chanConn{Channel: ch}, nil
}

// chanConn is an SSH channel as a net.Conn (deadlines are not supported).
type chanConn struct{ ssh.Channel }

func (c *chanConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *chanConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *chanConn) SetDeadline(t time.Time) error      { return nil }
func (c *chanConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *chanConn) SetWriteDeadline(t time.Time) error { return nil }

// checkConfigPorts validates the config's forwardPorts and portsAttributes (services: the
// compose services forwardPorts may name, nil when not a compose config).
func (e *Engine) checkConfigPorts(r *resolved, services []string) error {
	attrs, _ := r.raw.Raw["portsAttributes"].(map[string]any)
	if err := checkPorts(r.cfg.ForwardPortValues(), attrs, services); err != nil {
		return fmt.Errorf("%s: %w", r.configPath, err)
	}
	return nil
}
