package features

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
)

// tokenAuth makes the registry behave like the common token-auth registries: /v2/ requests
// without a bearer token get 401 with a WWW-Authenticate challenge naming a token endpoint,
// which hands out a token only for the right basic credentials.
func tokenAuth(user, pass, token string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				u, p, ok := r.BasicAuth()
				if !ok || u != user || p != pass {
					http.Error(w, "bad credentials", http.StatusUnauthorized)
					return
				}
				json.NewEncoder(w).Encode(map[string]string{"token": token})
				return
			}
			if r.Header.Get("Authorization") != "Bearer "+token {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test",scope="repository:mochi/features/hello:pull"`, r.Host))
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestTokenAuthWithDockerConfigCredentials(t *testing.T) {
	reg := newTestRegistry(t, tokenAuth("alice", "s3cret", "tok123"))
	dockerConfig := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.host, auth)
	if err := os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dockerConfig)

	// Publish and resolve with the default keychain, which reads $DOCKER_CONFIG/config.json.
	pub := &Resolver{CacheDir: t.TempDir(), Keychain: authn.DefaultKeychain}
	if _, err := pub.Publish(context.Background(), copyCollection(t, reg.host), reg.host, "mochi/features"); err != nil {
		t.Fatal(err)
	}
	ws, file := workspace(t)
	ref := reg.host + "/mochi/features/hello:1.0.0"
	in := Input{ConfigFile: file, WorkspaceFolder: ws, Features: []Requested{{ID: ref, Options: map[string]any{}}}}
	r := &Resolver{CacheDir: t.TempDir()}
	set, err := r.Resolve(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if set.Features[0].ID != "hello" {
		t.Errorf("resolved %+v", set.Features[0])
	}

	// Without credentials the registry refuses, and the error names the feature.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	r2 := &Resolver{CacheDir: t.TempDir()}
	_, err = r2.Resolve(context.Background(), in)
	t.Log(err)
	if err == nil || !strings.Contains(err.Error(), `feature "`+ref+`"`) {
		t.Errorf("anonymous resolve: %v", err)
	}
}
