package lxc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// Published ports are served by a small forwarder process that outlives the mochi command
// that started the container: the running executable started again with forwarderEnv set.
// The init function below turns such a start into the forwarder before main runs, so any
// binary linking this package (mochi, or a test binary) can serve as one.
const (
	forwarderEnv     = "MOCHI_LXC_PORT_FORWARDER" // the container's name
	forwarderTargets = "MOCHI_LXC_PORT_TARGETS"   // JSON list of ip:port, one per inherited listener
)

func init() {
	if os.Getenv(forwarderEnv) != "" {
		os.Exit(runForwarder())
	}
}

// parsePorts parses `docker run -p` values: [ip:][hostPort:]containerPort[/tcp].
func parsePorts(specs []string) ([]portMap, error) {
	var out []portMap
	for _, s := range specs {
		spec, proto, _ := strings.Cut(s, "/")
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" {
			return nil, fmt.Errorf("%w: port %s: the lxc provider forwards tcp only", providers.ErrUnsupported, s)
		}
		parts := strings.Split(spec, ":")
		var ip, host, ctr string
		switch len(parts) {
		case 1:
			ctr = parts[0]
		case 2:
			host, ctr = parts[0], parts[1]
		case 3:
			ip, host, ctr = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("port %s: expected [ip:][hostPort:]containerPort[/tcp]", s)
		}
		m := portMap{HostIP: ip, Proto: proto}
		if m.HostIP == "" {
			m.HostIP = "0.0.0.0"
		}
		if net.ParseIP(m.HostIP) == nil {
			return nil, fmt.Errorf("port %s: bad host address %q", s, ip)
		}
		var err error
		if m.ContainerPort, err = strconv.Atoi(ctr); err != nil || m.ContainerPort < 1 || m.ContainerPort > 65535 {
			return nil, fmt.Errorf("port %s: bad container port %q", s, ctr)
		}
		if host != "" {
			if m.HostPort, err = strconv.Atoi(host); err != nil || m.HostPort < 1 || m.HostPort > 65535 {
				return nil, fmt.Errorf("port %s: bad host port %q (ranges are not supported)", s, host)
			}
			m.Fixed = true
		}
		out = append(out, m)
	}
	return out, nil
}

// startForwarder listens on the published ports and hands the listeners to a detached
// forwarder process, recording its pid and the ports chosen.
func (p *Provider) startForwarder(rec *record) error {
	if len(rec.Ports) == 0 {
		return nil
	}
	var files []*os.File
	var targets []string
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for i := range rec.Ports {
		pm := &rec.Ports[i]
		port := 0
		if pm.Fixed {
			port = pm.HostPort
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(pm.HostIP, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("publish port %d: %w", pm.ContainerPort, err)
		}
		pm.HostPort = ln.Addr().(*net.TCPAddr).Port
		f, err := ln.(*net.TCPListener).File()
		ln.Close()
		if err != nil {
			return fmt.Errorf("publish port %d: %w", pm.ContainerPort, err)
		}
		files = append(files, f)
		targets = append(targets, net.JoinHostPort(rec.IP, strconv.Itoa(pm.ContainerPort)))
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("start port forwarder: %w", err)
	}
	tj, _ := json.Marshal(targets)
	logf, err := os.OpenFile(filepath.Join(p.dir(rec.Name), "forwarder.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start port forwarder: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), forwarderEnv+"="+rec.Name, forwarderTargets+"="+string(tj))
	cmd.ExtraFiles = files
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start port forwarder: %w", err)
	}
	rec.Forwarder = cmd.Process.Pid
	go cmd.Wait() // reap it should it exit while this process lives
	return nil
}

// stopForwarder ends rec's forwarder, checking that the pid is still that forwarder.
func (p *Provider) stopForwarder(rec *record) {
	if rec.Forwarder <= 0 {
		return
	}
	env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", rec.Forwarder))
	if err == nil && strings.Contains("\x00"+string(env)+"\x00", "\x00"+forwarderEnv+"="+rec.Name+"\x00") {
		if err := syscall.Kill(rec.Forwarder, syscall.SIGTERM); err != nil {
			p.log.Debug("stop port forwarder", "container", rec.Name, "pid", rec.Forwarder, "err", err)
		}
	}
	rec.Forwarder = 0
}

// runForwarder is the forwarder process: it relays every connection on inherited listener i
// (file descriptor 3+i) to target i until it is killed.
func runForwarder() int {
	var targets []string
	if err := json.Unmarshal([]byte(os.Getenv(forwarderTargets)), &targets); err != nil {
		fmt.Fprintln(os.Stderr, "port forwarder:", err)
		return 2
	}
	var wg sync.WaitGroup
	for i, target := range targets {
		ln, err := net.FileListener(os.NewFile(uintptr(3+i), "listener"))
		if err != nil {
			fmt.Fprintln(os.Stderr, "port forwarder:", err)
			return 2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveForward(ln, target)
		}()
	}
	wg.Wait()
	return 0
}

func serveForward(ln net.Listener, target string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			fmt.Fprintln(os.Stderr, "port forwarder: accept:", err)
			return
		}
		go relay(c, target)
	}
}

func relay(c net.Conn, target string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "port forwarder: dial", target+":", err)
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
