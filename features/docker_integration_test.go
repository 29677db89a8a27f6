package features

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-cmp/cmp"
	"github.com/mochi-dev/mochi/internal/testenv"
)

// TestDockerBuildMatchesReference builds the comparison configuration (two local features
// with options, installsAfter and containerEnv) with the classic builder on
// mochi-test/debian:bookworm and checks that what the features' install.sh saw (working
// folder, environment, env files, builtin users and homes) and the image's environment are
// exactly what the reference CLI's build produced. A second build must come entirely from
// Docker's layer cache.
func TestDockerBuildMatchesReference(t *testing.T) {
	ctx := context.Background()
	var cli *client.Client
	testenv.RequireEngine(t, "docker", func() error {
		var err error
		if cli, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err != nil {
			return err
		}
		_, err = cli.ImageInspect(ctx, "mochi-test/debian:bookworm")
		return err
	})
	t.Cleanup(func() { cli.Close() })

	_, bc := comparisonBuild(t)
	tag := fmt.Sprintf("mochi-test/features-it:%d", time.Now().UnixNano())
	buildOnce := func() string {
		var ctxTar bytes.Buffer
		if err := bc.WriteTar(&ctxTar); err != nil {
			t.Fatal(err)
		}
		resp, err := cli.ImageBuild(ctx, &ctxTar, build.ImageBuildOptions{
			Dockerfile: DockerfilePath, Tags: []string{tag}, Labels: map[string]string{"mochi.test": "1"},
			Version: build.BuilderV1, Remove: true, ForceRemove: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, &out, 0, false, nil); err != nil {
			t.Fatalf("build: %v\n%s", err, out.String())
		}
		return out.String()
	}
	first := buildOnce()
	t.Cleanup(func() {
		cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true})
	})
	if !strings.Contains(first, "Feature       : Feature A") {
		t.Errorf("the install wrapper banner is missing from the build output:\n%s", first)
	}
	if second := buildOnce(); strings.Contains(second, "Running in") {
		t.Errorf("second build ran steps instead of using the layer cache:\n%s", second)
	}

	inspect, err := cli.ImageInspect(ctx, tag)
	if err != nil {
		t.Fatal(err)
	}
	var refEnv []string
	data, _ := os.ReadFile("testdata/dockerfile/reference-image-env.json")
	if err := json.Unmarshal(data, &refEnv); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(refEnv, inspect.Config.Env); diff != "" {
		t.Errorf("image env (-reference +mochi):\n%s", diff)
	}

	created, err := cli.ContainerCreate(ctx, &container.Config{Image: tag, Labels: map[string]string{"mochi.test": "1"}, Cmd: []string{"true"}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
	})
	rc, _, err := cli.CopyFromContainer(ctx, created.ID, "/opt/record")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = string(b)
	}
	want, _ := os.ReadFile("testdata/dockerfile/reference-record.txt")
	if diff := cmp.Diff(string(want), files["record/featB.txt"]+files["record/featA.txt"]); diff != "" {
		t.Errorf("what install.sh saw (-reference +mochi):\n%s", diff)
	}
}
