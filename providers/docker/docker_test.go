package docker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/providertest"
)

const testImage = "mochi-test/busybox:latest"

var testLabels = map[string]string{"mochi.test": "1"}

// engine returns a provider on the local engine, or skips/fails per MOCHI_TEST_ENGINES.
func engine(t testing.TB) *Provider {
	t.Helper()
	var p *Provider
	testenv.RequireEngine(t, "docker", func() error {
		var err error
		p, err = New(Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			return err
		}
		_, err = p.InspectImage(ctx, testImage)
		return err
	})
	t.Cleanup(func() { p.Close() })
	return p
}

func TestConformance(t *testing.T) {
	p := engine(t)
	providertest.Run(t, p, providertest.Options{Image: testImage, Labels: testLabels, User: "1234:1234"})
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// createTest creates a container with the test label and removes it at cleanup.
func createTest(t testing.TB, p *Provider, spec providers.CreateSpec) *providers.Instance {
	t.Helper()
	if spec.Image == "" {
		spec.Image = testImage
	}
	if spec.Labels == nil {
		spec.Labels = map[string]string{}
	}
	for k, v := range testLabels {
		spec.Labels[k] = v
	}
	inst, err := p.Create(testCtx(t), spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Remove(context.Background(), inst.ID, true); err != nil && !errors.Is(err, providers.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	})
	return inst
}

var keepAlive = []string{"/bin/sh", "-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"}

func TestStartExitingContainerReportsLogs(t *testing.T) {
	p := engine(t)
	inst := createTest(t, p, providers.CreateSpec{Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "echo boom-marker >&2; exit 7"}})
	err := p.Start(testCtx(t), inst.ID)
	if err == nil || !strings.Contains(err.Error(), "boom-marker") || !strings.Contains(err.Error(), "code 7") {
		t.Fatalf("Start of a container exiting at once: error = %v, want its exit code and log tail", err)
	}
}

func TestCreateAppliesRunArgs(t *testing.T) {
	p := engine(t)
	inst := createTest(t, p, providers.CreateSpec{
		Entrypoint: []string{keepAlive[0]}, Cmd: keepAlive[1:],
		Env:     []string{"A=spec"},
		RunArgs: []string{"-e", "A=runargs", "-l", "mochi.runargs=yes", "--hostname", "runargs-host", "-w", "/etc", "--init"},
	})
	if inst.Labels["mochi.runargs"] != "yes" {
		t.Errorf("labels = %v", inst.Labels)
	}
	if err := p.Start(testCtx(t), inst.ID); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := p.Exec(testCtx(t), inst.ID, providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", "echo $A $(cat /etc/hostname) $PWD"}, Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v", code, err)
	}
	if got := strings.TrimSpace(out.String()); got != "runargs runargs-host /etc" {
		t.Errorf("got %q", got)
	}
}

func TestAttachCopiesMissingAgent(t *testing.T) {
	p := engine(t)
	// A stand-in agent: a script that echoes its stdin, copied in because the container,
	// like one made by another tool, has nothing at AgentTarget.
	agent := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho agent-ready\nexec /bin/cat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p.agentBin = agent
	inst := createTest(t, p, providers.CreateSpec{Entrypoint: []string{keepAlive[0]}, Cmd: keepAlive[1:]})
	if err := p.Start(testCtx(t), inst.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second Attach finds the agent in place
		rwc, err := p.Attach(testCtx(t), inst.ID, []string{providers.AgentTarget, "agent", "serve", "--stdio"})
		if err != nil {
			t.Fatalf("Attach %d: %v", i, err)
		}
		if _, err := io.WriteString(rwc, "hello"); err != nil {
			t.Fatal(err)
		}
		rwc.(interface{ CloseWrite() error }).CloseWrite()
		got, err := io.ReadAll(rwc)
		rwc.Close()
		if err != nil || string(got) != "agent-ready\nhello" {
			t.Errorf("Attach %d read %q, %v", i, got, err)
		}
	}
}

func TestAgentBindMount(t *testing.T) {
	p := engine(t)
	agent := filepath.Join(t.TempDir(), "mochi")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\necho bound-agent\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	inst := createTest(t, p, providers.CreateSpec{Entrypoint: []string{keepAlive[0]}, Cmd: keepAlive[1:], AgentPath: agent})
	if err := p.Start(testCtx(t), inst.ID); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := p.Exec(testCtx(t), inst.ID, providers.ExecSpec{Cmd: []string{providers.AgentTarget}, Stdout: &out})
	if err != nil || code != 0 || out.String() != "bound-agent\n" {
		t.Errorf("run bound agent: %d %v %q", code, err, out.String())
	}
	code, _ = p.Exec(testCtx(t), inst.ID, providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", "echo x > " + providers.AgentTarget}})
	if code == 0 {
		t.Error("agent bind mount is writable")
	}
}

func TestPullUnreachableRegistryNamesImage(t *testing.T) {
	p := engine(t)
	ref := "127.0.0.1:9/mochi-test/unreachable:1"
	err := p.PullImage(testCtx(t), ref, io.Discard)
	if err == nil || !strings.Contains(err.Error(), ref) {
		t.Fatalf("PullImage = %v, want an error naming %s", err, ref)
	}
}

func TestBuildImage(t *testing.T) {
	p := engine(t)
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".dockerignore": "secret.txt\n",
		"secret.txt":    "do not send",
		"hello.txt":     "hello from context\n",
	})
	tag := "mochi-test/build:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	var log bytes.Buffer
	info, err := p.BuildImage(testCtx(t), providers.BuildSpec{
		ContextDir:        dir,
		DockerfileContent: []byte("ARG BASE\nFROM $BASE AS base\nFROM base\nARG GREETING\nCOPY hello.txt extra/feature.sh /opt/\nRUN [ ! -e /secret.txt ] && echo \"$GREETING\" > /opt/greeting\nUSER 1000\nENV MOCHI_BUILT=1\n"),
		ExtraFiles:        map[string][]byte{"extra/feature.sh": []byte("#!/bin/sh\n")},
		Tags:              []string{tag},
		Args:              map[string]string{"BASE": testImage, "GREETING": "hi"},
		Labels:            testLabels,
		Options:           []string{"--label", "mochi.build.option=1"},
		Output:            &log,
	})
	if err != nil {
		t.Fatalf("BuildImage: %v\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := p.RemoveImage(context.Background(), tag); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	if info.User != "1000" || info.Labels["mochi.build.option"] != "1" || info.Labels["mochi.test"] != "1" {
		t.Errorf("image info = %+v", info)
	}
	if !strings.Contains(log.String(), "Step 1/") {
		t.Errorf("build log lacks steps:\n%s", log.String())
	}
	inst := createTest(t, p, providers.CreateSpec{Image: tag, Entrypoint: []string{keepAlive[0]}, Cmd: keepAlive[1:]})
	if err := p.Start(testCtx(t), inst.ID); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := p.Exec(testCtx(t), inst.ID, providers.ExecSpec{Cmd: []string{"/bin/cat", "/opt/greeting", "/opt/hello.txt", "/opt/feature.sh"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if want := "hi\nhello from context\n#!/bin/sh\n"; out.String() != want {
		t.Errorf("built files = %q, want %q", out.String(), want)
	}
}

func TestBuildFailureNamesStep(t *testing.T) {
	p := engine(t)
	_, err := p.BuildImage(testCtx(t), providers.BuildSpec{
		DockerfileContent: []byte("FROM " + testImage + "\nRUN echo step-output && exit 3\n"),
		Labels:            testLabels,
		Output:            io.Discard,
	})
	if err == nil || !strings.Contains(err.Error(), "RUN echo step-output && exit 3") || !strings.Contains(err.Error(), "non-zero code: 3") {
		t.Fatalf("BuildImage of a failing RUN: error = %v", err)
	}
}

func BenchmarkExecTrue(b *testing.B) {
	p := engine(b)
	inst := createTest(b, p, providers.CreateSpec{Entrypoint: []string{keepAlive[0]}, Cmd: keepAlive[1:]})
	ctx := testCtx(b)
	if err := p.Start(ctx, inst.ID); err != nil {
		b.Fatal(err)
	}
	spec := providers.ExecSpec{Cmd: []string{"/bin/sh", "-c", "true"}}
	b.ResetTimer()
	for b.Loop() {
		if code, err := p.Exec(ctx, inst.ID, spec); err != nil || code != 0 {
			b.Fatalf("exec true: %d %v", code, err)
		}
	}
}
