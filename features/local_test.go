package features

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalFeatureErrors(t *testing.T) {
	ws, cfg := workspace(t)
	dc := filepath.Dir(cfg)
	os.MkdirAll(filepath.Join(dc, "broken"), 0o755)
	os.WriteFile(filepath.Join(dc, "broken", MetadataFile), []byte(`{"id": "broken", "options": {"x": {"type": "number"}}}`), 0o644)
	os.MkdirAll(filepath.Join(dc, "nometa"), 0o755)
	os.MkdirAll(filepath.Join(ws, "outside"), 0o755)
	os.WriteFile(filepath.Join(dc, "dep", MetadataFile), nil, 0o644)
	os.MkdirAll(filepath.Join(dc, "dep"), 0o755)
	os.WriteFile(filepath.Join(dc, "dep", MetadataFile), []byte(`{"id": "dep", "dependsOn": {"./missing": {}}}`), 0o644)
	for _, tc := range []struct {
		ref  string
		is   error
		want string
	}{
		{"./missing", ErrFetch, `feature "./missing": folder ` + filepath.Join(dc, "missing") + ` does not exist`},
		{"./nometa", ErrInvalidMetadata, `feature "./nometa": devcontainer-feature.json not found in ` + filepath.Join(dc, "nometa")},
		{"./broken", ErrInvalidMetadata, `feature "./broken": invalid devcontainer-feature.json: ` + filepath.Join(dc, "broken", MetadataFile) + `: property "options.x.type": expected "string" or "boolean", got "number"`},
		{"../outside", ErrInvalidRef, `invalid feature reference "../outside": a local feature must be inside ` + dc + ` (resolved to ` + filepath.Join(ws, "outside") + `)`},
		{"./dep", ErrFetch, `feature "./missing": folder ` + filepath.Join(dc, "missing") + ` does not exist (in dependsOn of "./dep")`},
	} {
		_, err := (&Resolver{CacheDir: t.TempDir()}).Resolve(context.Background(), Input{
			ConfigFile: cfg, WorkspaceFolder: ws, Features: []Requested{{ID: tc.ref, Options: map[string]any{}}},
		})
		if !errors.Is(err, tc.is) || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.ref, err, tc.want)
		}
	}
}
