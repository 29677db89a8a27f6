package workspace

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/mochi-dev/mochi/devcontainer"
)

// execHost runs commands on the host with os/exec.
type execHost struct{}

func (execHost) Run(ctx context.Context, dir string, argv []string, env []string, out io.Writer) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	return cmd.Run()
}

// runInitialize runs initializeCommand on the host, in the workspace folder, on every up.
func (e *Engine) runInitialize(ctx context.Context, r *resolved) error {
	c := r.cfg.InitializeCommand
	if c == nil || c.IsEmpty() {
		return nil
	}
	fmt.Fprintf(e.out, "Running the initializeCommand from devcontainer.json...\n\n")
	env := os.Environ()
	run := func(argv []string, out io.Writer) error {
		err := e.runHost.Run(ctx, r.folder, argv, env, out)
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 130 {
			return nil
		}
		return err
	}
	var err error
	if c.Form != devcontainer.ParallelForm {
		err = run(argv(c), e.out)
	} else {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, en := range c.Parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var b strings.Builder
				rerr := run(argv(en.Command), &b)
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(e.out, "Running %s of initializeCommand from devcontainer.json...\n%s\n", en.Name, b.String())
				if rerr != nil && err == nil {
					err = rerr
				}
			}()
		}
		wg.Wait()
	}
	if err != nil {
		return fmt.Errorf("The initializeCommand in the devcontainer.json failed: %w", err)
	}
	return nil
}

// checkHostRequirements checks cpus, memory and storage against this machine.
func checkHostRequirements(h *devcontainer.HostRequirements) error {
	if h == nil {
		return nil
	}
	if h.CPUs > 0 && h.CPUs > runtime.NumCPU() {
		return fmt.Errorf("hostRequirements.cpus: %d CPUs required, this machine has %d", h.CPUs, runtime.NumCPU())
	}
	if h.Memory != "" {
		want, err := parseBytes(h.Memory)
		if err != nil {
			return fmt.Errorf("hostRequirements.memory: %w", err)
		}
		if have := totalMemory(); have > 0 && want > have {
			return fmt.Errorf("hostRequirements.memory: %s required, this machine has %d bytes", h.Memory, have)
		}
	}
	if h.Storage != "" {
		want, err := parseBytes(h.Storage)
		if err != nil {
			return fmt.Errorf("hostRequirements.storage: %w", err)
		}
		// The engine's storage is usually on the root filesystem.
		var st syscall.Statfs_t
		if syscall.Statfs("/", &st) == nil {
			if have := st.Bavail * uint64(st.Bsize); want > have {
				return fmt.Errorf("hostRequirements.storage: %s required, %d bytes free", h.Storage, have)
			}
		}
	}
	return nil
}

// gpuRequired reports whether the config requires (not just prefers) a GPU.
func gpuRequired(h *devcontainer.HostRequirements) bool {
	if h == nil || h.GPU == nil {
		return false
	}
	switch g := h.GPU.(type) {
	case bool:
		return g
	case string:
		return false
	}
	return true
}

// parseBytes parses the schema's size form: digits with an optional tb/gb/mb/kb suffix.
func parseBytes(s string) (uint64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := uint64(1)
	for suf, m := range map[string]uint64{"tb": 1 << 40, "gb": 1 << 30, "mb": 1 << 20, "kb": 1 << 10} {
		if strings.HasSuffix(s, suf) {
			mult, s = m, strings.TrimSuffix(s, suf)
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size like 8gb", s)
	}
	return n * mult, nil
}

// totalMemory reads MemTotal from /proc/meminfo (0 if unknown).
func totalMemory() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
