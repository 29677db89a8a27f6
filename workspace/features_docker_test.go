package workspace_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mochi-dev/mochi/workspace"
)

var featureFiles = map[string]string{
	".devcontainer/devcontainer.json": `{
		"image": "mochi-test/debian:bookworm",
		"features": {"./featb": {"greeting": "hola"}, "./feata": {}},
		"postCreateCommand": "echo config >> /tmp/order"
	}`,
	".devcontainer/feata/devcontainer-feature.json": `{"id": "feata", "version": "1.0.0",
		"containerEnv": {"A_HOME": "/opt/a", "PATH": "/opt/a/bin:${PATH}"},
		"postCreateCommand": "echo feata >> /tmp/order"}`,
	".devcontainer/feata/install.sh": "#!/bin/sh\nset -e\necho installing-feata\nmkdir -p /opt/a/bin\necho a >> /tmp/install-order\n",
	".devcontainer/featb/devcontainer-feature.json": `{"id": "featb", "version": "2.1.0", "installsAfter": ["./feata"],
		"options": {"greeting": {"type": "string", "default": "hi"}},
		"postCreateCommand": "echo featb >> /tmp/order"}`,
	".devcontainer/featb/install.sh": "#!/bin/sh\necho installing-featb\necho \"b $GREETING $_REMOTE_USER\" >> /tmp/install-order\n",
}

func TestLocalFeatures(t *testing.T) {
	h := newHarness(t, featureFiles, true)
	for _, f := range []string{"feata", "featb"} {
		// A line unique to this run keeps an earlier run's layers out of the first build.
		p := filepath.Join(h.folder, ".devcontainer", f, "install.sh")
		data, _ := os.ReadFile(p)
		if err := os.WriteFile(p, append(data, []byte("# run "+h.folder+"\n")...), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.up(workspace.UpOptions{}); err != nil {
		t.Fatalf("up: %v\n%s", err, h.out)
	}
	if !strings.Contains(h.out.String(), "installing-feata") {
		t.Fatalf("first build did not run the feature installers:\n%s", h.out)
	}
	out, code := h.exec("sh", "-c", "cat /tmp/install-order /tmp/order; echo $A_HOME; echo $PATH")
	want := "a\nb hola root\nfeata\nfeatb\nconfig\n/opt/a\n/opt/a/bin:"
	if code != 0 || !strings.HasPrefix(out, want) {
		t.Errorf("features in the container:\n%s\nwant prefix:\n%s", out, want)
	}
	if _, err := os.Stat(filepath.Join(h.folder, ".devcontainer", "devcontainer-lock.json")); err != nil {
		t.Errorf("no lockfile written: %v", err)
	}

	// A rebuild with the same features reuses the cached feature layers.
	h.out.Reset()
	if _, err := h.up(workspace.UpOptions{RemoveExisting: true}); err != nil {
		t.Fatalf("second up: %v\n%s", err, h.out)
	}
	if strings.Contains(h.out.String(), "installing-feata") {
		t.Errorf("second build ran the installers again instead of using the layer cache:\n%s", h.out)
	}
}

func TestFeatureBadOption(t *testing.T) {
	files := map[string]string{}
	for k, v := range featureFiles {
		files[k] = v
	}
	files[".devcontainer/devcontainer.json"] = `{"image": "mochi-test/debian:bookworm", "features": {"./featb": {"colour": "red"}}}`
	h := newHarness(t, files, true)
	_, err := h.up(workspace.UpOptions{})
	if err == nil || !strings.Contains(err.Error(), `feature "./featb"`) || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("up error = %v, want one naming the feature and the option", err)
	}
	if insts, _ := h.be.List(context.Background(), map[string]string{"devcontainer.local_folder": h.folder}); len(insts) != 0 {
		t.Errorf("a bad feature option left %d containers", len(insts))
	}
}
