package workspace

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mochi-dev/mochi/providers"
)

// passwd is one /etc/passwd entry.
type passwd struct {
	name, uid, gid, home, shell string
}

func parsePasswd(line string) *passwd {
	f := strings.Split(strings.TrimRight(line, "\n"), ":")
	if len(f) < 7 {
		return nil
	}
	return &passwd{name: f[0], uid: f[2], gid: f[3], home: f[5], shell: f[6]}
}

// rootScript runs as root once per session: it patches /etc/environment (container env,
// given on stdin) and /etc/profile once per container, as the reference does, and prints the
// remote user's passwd entry.
const rootScript = `U="$1"; SYS="$2"; PATCH="$3"
once() { test ! -f "$1" && (set -o noclobber; mkdir -p "$SYS" && { > "$1" ; } 2>/dev/null); }
if [ "$PATCH" = 1 ]; then
  if once "$SYS/.patchEtcEnvironmentMarker"; then cat >> /etc/environment; fi
  if once "$SYS/.patchEtcProfileMarker"; then
    sed -i -E 's/((^|\s)PATH=)([^\$]*)$/\1${PATH:-\3}/g' /etc/profile 2>/dev/null || true
  fi
fi
line=$(getent passwd "$U" 2>/dev/null) || line=$(awk -F: -v u="$U" '$1==u || $3==u {print; exit}' /etc/passwd 2>/dev/null)
printf 'PASSWD:%s\n' "$line"
`

// rootPrepare runs rootScript and returns the user's passwd entry (nil if none).
func (e *Engine) rootPrepare(ctx context.Context, inst *providers.Instance, user string, cenv map[string]string, sysDir string, patch bool) (*passwd, error) {
	if sysDir == "" {
		sysDir = "/var/devcontainer"
	}
	var envFile strings.Builder
	for _, kv := range inst.Env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&envFile, "\n%s=\"%s\"", k, v)
	}
	envFile.WriteString("\n")
	p := "0"
	if patch {
		p = "1"
	}
	out, _, err := e.run(ctx, inst, "", providers.ExecSpec{
		Cmd:   []string{"/bin/sh", "-c", rootScript, "mochi-setup", user, sysDir, p},
		User:  "root",
		Stdin: strings.NewReader(envFile.String()),
	})
	if err != nil {
		return nil, fmt.Errorf("prepare container as root: %w", err)
	}
	_, line, _ := strings.Cut(out, "PASSWD:")
	pw := parsePasswd(line)
	if pw == nil {
		e.log.Warn(fmt.Sprintf("User %s not found with 'getent passwd'.", user))
	}
	return pw, nil
}

// homeFolder applies the reference's rule: $HOME from the container env when it matches the
// passwd entry (or the user is root), else the passwd home, else /root.
func homeFolder(cenv map[string]string, pw *passwd) string {
	if h := cenv["HOME"]; h != "" {
		if pw == nil || h == pw.home || pw.uid == "0" {
			return h
		}
	}
	if pw != nil && pw.home != "" {
		return pw.home
	}
	return "/root"
}

// probeUserEnv runs the user's shell the way userEnvProbe asks and returns its environment.
func (e *Engine) probeUserEnv(ctx context.Context, s *session, probe, cacheDir string) (map[string]string, error) {
	if probe == "none" {
		return map[string]string{}, nil
	}
	cache := ""
	if cacheDir != "" {
		cache = strings.TrimSuffix(cacheDir, "/") + "/env-" + probe + ".json"
		if out, _, err := e.run(ctx, s.inst, s.shell, providers.ExecSpec{Cmd: []string{"cat", cache}, User: s.user}); err == nil {
			var m map[string]string
			if json.Unmarshal([]byte(out), &m) == nil {
				return m, nil
			}
		}
	}
	flag := map[string]string{"loginInteractiveShell": "-lic", "loginShell": "-lc", "interactiveShell": "-ic"}[probe]
	if flag == "" {
		flag = "-c"
	}
	var mark [16]byte
	_, _ = rand.Read(mark[:])
	m := hex.EncodeToString(mark[:])
	env := e.runProbe(ctx, s, flag, m, "cat /proc/self/environ", "\x00")
	if env == nil {
		env = e.runProbe(ctx, s, flag, m, "printenv", "\n")
	}
	if env == nil {
		env = map[string]string{}
	}
	if cache != "" {
		data, _ := json.MarshalIndent(env, "", "\t")
		script := fmt.Sprintf("mkdir -p '%s' && cat > '%s'", strings.TrimSuffix(cacheDir, "/"), cache)
		if _, _, err := e.run(ctx, s.inst, s.shell, providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", script}, User: s.user, Stdin: bytes.NewReader(data)}); err != nil {
			e.log.Warn("Failed to cache user env", "error", err)
		}
	}
	return env, nil
}

func (e *Engine) runProbe(ctx context.Context, s *session, flag, mark, cmd, sep string) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	script := fmt.Sprintf("echo -n %s; %s; echo -n %s", mark, cmd, mark)
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			e.log.Warn("userEnvProbe is taking longer than 2 seconds. Avoid waiting for user input in your shell's startup scripts.")
		}
	}()
	_, err := e.execer(ctx, s.inst, s.shell).Exec(ctx, s.inst.ID, providers.ExecSpec{Cmd: []string{s.shell, flag, script}, User: s.user, Stdout: &out})
	close(done)
	if err != nil {
		e.log.Debug("userEnvProbe failed", "error", err)
		return nil
	}
	parts := strings.Split(out.String(), mark)
	if len(parts) < 3 {
		return nil
	}
	env := map[string]string{}
	for _, kv := range strings.Split(parts[1], sep) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || k == "PWD" {
			continue
		}
		env[k] = v
	}
	return env
}

func sortStrings(s []string) { sort.Strings(s) }
