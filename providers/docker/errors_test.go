package docker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/client"

	"github.com/mochi-dev/mochi/providers"
)

func providerFor(t *testing.T, opts ...client.Opt) *Provider {
	t.Helper()
	c, err := client.NewClientWithOpts(append(opts, client.WithAPIVersionNegotiation())...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{Logger: slog.New(slog.DiscardHandler), Client: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestUnreachableEngineIsUnavailable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "no-daemon.sock")
	p := providerFor(t, client.WithHost("unix://"+sock))
	_, err := p.Inspect(context.Background(), "anything")
	if !errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("Inspect with no daemon: %v, want ErrUnavailable", err)
	}
	if !strings.Contains(err.Error(), "start dockerd") || !strings.Contains(err.Error(), sock) {
		t.Errorf("error does not say what to do or where: %v", err)
	}
}

// TestEngineErrorsTranslated runs the provider against a stand-in engine that answers every
// request with one status, and checks the sentinel each status becomes.
func TestEngineErrorsTranslated(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusNotFound, providers.ErrNotFound},
		{http.StatusNotImplemented, providers.ErrUnsupported},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Api-Version", "1.41")
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/_ping" {
				w.Write([]byte("OK"))
				return
			}
			w.WriteHeader(tt.status)
			w.Write([]byte(`{"message":"stand-in says no"}`))
		}))
		p := providerFor(t, client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")))
		ctx := context.Background()
		_, err := p.Inspect(ctx, "x")
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), "inspect container x") || !strings.Contains(err.Error(), "stand-in says no") {
			t.Errorf("status %d: Inspect error = %v, want %v", tt.status, err, tt.want)
		}
		if _, err := p.InspectImage(ctx, "img"); !errors.Is(err, tt.want) {
			t.Errorf("status %d: InspectImage error = %v, want %v", tt.status, err, tt.want)
		}
		if err := p.Stop(ctx, "x", 0); !errors.Is(err, tt.want) {
			t.Errorf("status %d: Stop error = %v, want %v", tt.status, err, tt.want)
		}
		srv.Close()
	}
}
