package lxc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mochi-dev/mochi/internal/testenv"
	"github.com/mochi-dev/mochi/providers"
	"github.com/mochi-dev/mochi/providers/docker"
	"github.com/mochi-dev/mochi/providers/lxc"
)

func dockerProvider(t testing.TB) *docker.Provider {
	t.Helper()
	testenv.RequireEngine(t, "docker", nil)
	d, err := docker.New(docker.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// An image built by the Docker provider (as Dockerfiles and Features are) runs on LXC.
func TestBuildThroughDocker(t *testing.T) {
	d := dockerProvider(t)
	state := t.TempDir()
	p, err := lxc.New(lxc.Options{StateDir: state, Builder: d})
	if err != nil {
		t.Fatal(err)
	}
	testenv.RequireEngine(t, "lxc", p.Check)
	if !p.Capabilities().BuildsImages {
		t.Error("BuildsImages = false with a builder")
	}
	ctx := context.Background()
	dir := t.TempDir()
	dockerfile := "FROM " + testImage + "\nRUN echo built-for-lxc > /built\nENV BUILT=yes\nLABEL from.image=yes given=0\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("mochi-test/lxc-build:%d", time.Now().UnixNano())
	info, err := p.BuildImage(ctx, providers.BuildSpec{ContextDir: dir, Dockerfile: "Dockerfile", Tags: []string{tag}, Labels: map[string]string{"mochi.test": "1"}})
	if err != nil {
		t.Fatalf("BuildImage: %v", err)
	}
	t.Cleanup(func() { d.RemoveImage(context.Background(), tag) })
	got, err := p.InspectImage(ctx, tag)
	if err != nil || got.ID != info.ID {
		t.Fatalf("InspectImage(%s) = %+v, %v; want ID %s", tag, got, err, info.ID)
	}
	inst := create(t, p, providers.CreateSpec{Image: tag, Labels: map[string]string{"given": "1"}})
	// Like Docker, an instance carries its image's labels under the given ones.
	if inst.Labels["mochi.test"] != "1" || inst.Labels["given"] != "1" || inst.Labels["from.image"] != "yes" {
		t.Errorf("labels of the instance: %v", inst.Labels)
	}
	if err := p.Start(ctx, inst.ID); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if code, out := run(t, p, inst.ID, "cat /built; echo $BUILT"); code != 0 || out != "built-for-lxc\nyes\n" {
		t.Errorf("in the built image: code %d output %q", code, out)
	}

	plain, err := lxc.New(lxc.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.BuildImage(ctx, providers.BuildSpec{ContextDir: dir}); err == nil || plain.Capabilities().BuildsImages {
		t.Errorf("BuildImage without a builder: %v", err)
	}
}

// BenchmarkCreateStart times create+start+remove of a busybox workspace with the image
// already cached, on LXC and on Docker, for a rough comparison (run with -bench and
// MOCHI_TEST_ENGINES=docker,lxc).
func BenchmarkCreateStart(b *testing.B) {
	spec := providers.CreateSpec{
		Image: testImage, Labels: map[string]string{"mochi.test": "1"}, Entrypoint: []string{"/bin/sh"},
		Cmd:    []string{"-c", "trap 'exit 0' TERM; sleep 2147483647 & wait"},
		Mounts: []providers.Mount{{Type: "bind", Source: b.TempDir(), Target: "/workspaces/w"}},
	}
	lx, err := lxc.New(lxc.Options{StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	testenv.RequireEngine(b, "lxc", lx.Check)
	for _, tc := range []struct {
		name string
		p    providers.Provider
	}{{"lxc", lx}, {"docker", dockerProvider(b)}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			if _, err := lx.InspectImage(ctx, testImage); err != nil {
				b.Fatal(err)
			}
			var create, start time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				inst, err := tc.p.Create(ctx, spec)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				err = tc.p.Start(ctx, inst.ID)
				t2 := time.Now()
				create, start = create+t1.Sub(t0), start+t2.Sub(t1)
				b.StopTimer()
				if rerr := tc.p.Remove(ctx, inst.ID, true); rerr != nil {
					b.Fatal(rerr)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(create.Milliseconds())/float64(b.N), "create-ms/op")
			b.ReportMetric(float64(start.Milliseconds())/float64(b.N), "start-ms/op")
		})
	}
}
