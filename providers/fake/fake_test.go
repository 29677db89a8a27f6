package fake

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/providertest"
)

// hostExec runs the process on the host, standing in for a container in the conformance run.
func hostExec(ctx context.Context, inst *providers.Instance, spec providers.ExecSpec) (int, error) {
	cmd := exec.CommandContext(ctx, spec.Cmd[0], spec.Cmd[1:]...)
	cmd.Env = append(append([]string{"PATH=/usr/bin:/bin"}, inst.Env...), spec.Env...)
	cmd.Dir = spec.WorkDir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	user := spec.User
	if user == "" {
		user = inst.User
	}
	if user != "" {
		uid, gid, _ := strings.Cut(user, ":")
		u, err1 := strconv.ParseUint(uid, 10, 32)
		g, err2 := strconv.ParseUint(gid, 10, 32)
		if err1 != nil || (gid != "" && err2 != nil) {
			return -1, errors.New("hostExec: numeric users only")
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u), Gid: uint32(g)}}
	}
	err := cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exitErr.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

func TestConformance(t *testing.T) {
	p := New()
	p.ExecFunc = hostExec
	p.AddImage(providers.ImageInfo{Ref: "example.com/busybox:1"})
	user := "1234:1234"
	if os.Geteuid() != 0 {
		user = "" // switching users on the host needs root
	}
	providertest.Run(t, p, providertest.Options{Image: "example.com/busybox:1", User: user})
}

func TestCreateRecordsSpecAndMergesImage(t *testing.T) {
	p := New()
	p.AddImage(providers.ImageInfo{Ref: "img", User: "dev", Env: []string{"PATH=/bin", "A=image"}})
	ctx := context.Background()
	spec := providers.CreateSpec{
		Image: "img", Env: []string{"A=spec", "B=2"}, Ports: []string{"127.0.0.1:8080:80", "9000/udp"},
		RunArgs: []string{"--anything"}, AgentPath: "/opt/mochi",
	}
	inst, err := p.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"PATH=/bin", "A=spec", "B=2"}, inst.Env); d != "" {
		t.Errorf("env (-want +got):\n%s", d)
	}
	if inst.User != "dev" {
		t.Errorf("user = %q, want the image's", inst.User)
	}
	if d := cmp.Diff([]string{"127.0.0.1:8080->80/tcp", "0.0.0.0:32768->9000/udp"}, inst.Ports); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
	if len(inst.Mounts) != 1 || inst.Mounts[0].Target != providers.AgentTarget || !inst.Mounts[0].ReadOnly {
		t.Errorf("mounts = %+v", inst.Mounts)
	}
	got, err := p.Spec(inst.ID)
	if err != nil || !cmp.Equal(got.RunArgs, spec.RunArgs) {
		t.Errorf("Spec = %+v, %v", got, err)
	}
	if _, err := p.Create(ctx, providers.CreateSpec{Image: "img", Name: inst.Name}); err == nil {
		t.Error("Create with a name in use succeeded")
	}
	if _, err := p.Create(ctx, providers.CreateSpec{Image: "unknown"}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("Create from an unknown image: %v", err)
	}
	if byPrefix, err := p.Inspect(ctx, inst.ID[:12]); err != nil || byPrefix.ID != inst.ID {
		t.Errorf("Inspect by id prefix = %v, %v", byPrefix, err)
	}
}

func TestExecRecordsCalls(t *testing.T) {
	p := New()
	p.AddImage(providers.ImageInfo{Ref: "img"})
	ctx := context.Background()
	inst, _ := p.Create(ctx, providers.CreateSpec{Image: "img"})
	if _, err := p.Exec(ctx, inst.ID, providers.ExecSpec{Cmd: []string{"true"}}); err == nil {
		t.Error("Exec in a created (not running) instance succeeded")
	}
	if err := p.Start(ctx, inst.ID); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Exec(ctx, inst.ID, providers.ExecSpec{Cmd: []string{"true"}, User: "root"}); code != 0 || err != nil {
		t.Errorf("Exec without ExecFunc = %d, %v", code, err)
	}
	p.ExecFunc = func(_ context.Context, _ *providers.Instance, spec providers.ExecSpec) (int, error) {
		io.WriteString(spec.Stdout, "scripted "+spec.Cmd[0])
		return 42, nil
	}
	var out bytes.Buffer
	code, err := p.Exec(ctx, inst.Name, providers.ExecSpec{Cmd: []string{"probe"}, Stdout: &out})
	if code != 42 || err != nil || out.String() != "scripted probe" {
		t.Errorf("scripted Exec = %d, %v, %q", code, err, out.String())
	}
	execs := p.Execs()
	if len(execs) != 2 || execs[0].Spec.User != "root" || execs[1].Spec.Cmd[0] != "probe" || execs[1].ID != inst.ID {
		t.Errorf("recorded execs = %+v", execs)
	}
}

func TestImages(t *testing.T) {
	p := New()
	ctx := context.Background()
	if err := p.PullImage(ctx, "example.com/x:1", io.Discard); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("default PullImage: %v", err)
	}
	p.PullFunc = func(context.Context, string, io.Writer) error { return nil }
	if err := p.PullImage(ctx, "example.com/x:1", io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := p.InspectImage(ctx, "example.com/x:1"); err != nil {
		t.Errorf("pulled image not inspectable: %v", err)
	}
	info, err := p.BuildImage(ctx, providers.BuildSpec{Tags: []string{"a:1", "b:1"}, Labels: map[string]string{"l": "v"}, Args: map[string]string{"X": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"a:1", "b:1", info.ID} {
		got, err := p.InspectImage(ctx, ref)
		if err != nil || got.ID != info.ID || got.Labels["l"] != "v" {
			t.Errorf("InspectImage(%s) = %+v, %v", ref, got, err)
		}
	}
	if b := p.Builds(); len(b) != 1 || b[0].Args["X"] != "1" {
		t.Errorf("Builds = %+v", b)
	}
	if err := p.RemoveImage(ctx, "a:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.InspectImage(ctx, "a:1"); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("removed image: %v", err)
	}
}
