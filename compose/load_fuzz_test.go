package compose

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoad loads arbitrary compose files: no panic (compose-go's included), every rejection
// names the compose file, and an accepted project converts every service to a container spec
// without panicking.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"services:\n  app:\n    image: example.com/app\n    volumes: [\"../..:/host\", \"data:/data\"]\nvolumes:\n  data: {}\n",
		"services:\n  app:\n    build: {context: ., dockerfile: ../../Dockerfile}\n    depends_on: [db]\n  db:\n    image: x\n    healthcheck: {test: [\"CMD\", \"true\"], interval: 1s}\n",
		"services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [a]\n",
		"services:\n  app:\n    image: ${IMG:-x}\n    ports: [\"127.0.0.1:8080:80\", \"99999:1\"]\n    environment: {A: \"$(id)\"}\n",
		"services: []\n", "services:\n  app: 1\n", "x: &a [*a]\n", "services:\n  app:\n    image: x\n    secrets: [s]\n",
		"services:\n  app:\n    image: x\n    network_mode: host\n    cap_add: [ALL]\n    privileged: true\n",
		"\t", "{", "services:\n  \"$(id)\":\n    image: x\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "docker-compose.yml")
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := Load(ctx, LoadOptions{Files: []string{file}, WorkspaceFolder: dir, Env: map[string]string{}})
		if err != nil {
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error does not name the compose file: %q", err)
			}
			return
		}
		for _, name := range p.ServiceNames() {
			s, err := p.Service(name)
			if err != nil {
				t.Fatalf("service %s listed but not found: %v", name, err)
			}
			_, _ = p.containerSpec(s, p.ImageName(name), "sha256:0")
			_, _ = ServiceHash(s)
		}
	})
}
