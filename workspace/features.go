package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/mochi-dev/mochi/devcontainer"
	"github.com/mochi-dev/mochi/features"
	"github.com/mochi-dev/mochi/providers"
)

// FeatureOptions are the feature flags of up and build.
type FeatureOptions struct {
	// Additional is --additional-features: a JSON object like "features", merged after the
	// config's (the config wins on a clash) and never written to the lockfile.
	Additional     string
	NoLockfile     bool
	FrozenLockfile bool
	// Offline resolves features from the lockfile and the cache only.
	Offline bool
}

// requestedFeatures lists the config's features followed by the additional ones (the
// config wins on a clash), and the user ids that came only from --additional-features.
func requestedFeatures(cfg *devcontainer.Config, additional string) ([]features.Requested, []string, error) {
	var req []features.Requested
	seen := map[string]bool{}
	for _, f := range cfg.Features {
		opts := f.Value
		if raw, err := json.Marshal(f.Value); err == nil {
			opts = json.RawMessage(raw)
		}
		req = append(req, features.Requested{ID: f.ID, Options: opts})
		seen[f.ID] = true
	}
	if additional == "" {
		return req, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(additional)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("--additional-features: want a JSON object like \"features\"")
	}
	var extra []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("--additional-features: %w", err)
		}
		id, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("--additional-features: feature %q: %w", id, err)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		req = append(req, features.Requested{ID: id, Options: v})
		extra = append(extra, id)
	}
	return req, extra, nil
}

// hasFeatures reports whether up/build must build a features layer.
func hasFeatures(cfg *devcontainer.Config, fo FeatureOptions) bool {
	return len(cfg.Features) > 0 || (fo.Additional != "" && fo.Additional != "{}")
}

// featuresTag is the name the reference gives the image with Features of an image or
// Dockerfile configuration.
func featuresTag(r *resolved) string { return devcontainer.ImageName(r.folder) + "-features" }

// buildFeatures resolves the features (cache first, lockfile honoured) and builds them onto
// base as one image layer per feature, labelled with the metadata entries and tagged with
// tags (the first names the result).
func (e *Engine) buildFeatures(ctx context.Context, r *resolved, base *preparedImage, fo FeatureOptions, noCache bool, tags []string) (*preparedImage, []map[string]any, error) {
	if e.home == "" {
		return nil, nil, errors.New("features need mochi's data folder (MOCHI_HOME)")
	}
	req, extra, err := requestedFeatures(r.cfg, fo.Additional)
	if err != nil {
		return nil, nil, err
	}
	lockPath := features.LockfilePath(r.configPath)
	lock, _, err := features.ReadLockfile(lockPath)
	if err != nil {
		return nil, nil, err
	}
	res := e.FeatureResolver(fo.Offline)
	set, err := res.Resolve(ctx, features.Input{
		ConfigFile: r.configPath, WorkspaceFolder: r.folder, Features: req,
		OverrideOrder: r.cfg.OverrideFeatureInstallOrder, Lock: lock,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%s: features: %w", r.configPath, err)
	}
	// Frozen: fail before building when the lockfile would change; otherwise it is written
	// only once the build succeeded, so a failed up leaves the workspace as it was.
	if fo.FrozenLockfile && !fo.NoLockfile {
		if _, err := features.WriteLockfile(lockPath, set.LockfileFor(extra...), true); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", lockPath, err)
		}
	}

	// Users the feature scripts see: merged containerUser/remoteUser, else the image's.
	pre, err := e.merge(r, append(append([]map[string]any(nil), base.entries...), devcontainer.ConfigMetadataEntry(r.raw.Raw)), nil)
	if err != nil {
		return nil, nil, err
	}
	users := features.Users{ContainerUser: pre.ContainerUser, RemoteUser: pre.RemoteUser, ImageUser: base.info.User}
	if users.ContainerUser == "" {
		users.ContainerUser = base.info.User
	}
	entries := append([]map[string]any(nil), base.entries...)
	for _, f := range set.Features {
		entries = append(entries, f.Metadata.MetadataEntry(f.UserID))
	}
	label := append(append([]map[string]any(nil), entries...), devcontainer.ConfigMetadataEntry(r.raw.Raw))
	var rawLabel []json.RawMessage
	for _, en := range label {
		b, err := json.Marshal(en)
		if err != nil {
			return nil, nil, fmt.Errorf("encode metadata: %w", err)
		}
		rawLabel = append(rawLabel, b)
	}
	var cenv []features.EnvVar
	for _, k := range sortedKeys(r.cfg.ContainerEnv) {
		cenv = append(cenv, features.EnvVar{Name: k, Value: r.cfg.ContainerEnv[k]})
	}
	bc, err := features.GenerateDockerfile(set, features.DockerfileOptions{
		BaseImage: base.ref, Users: users, ContainerEnv: cenv, Metadata: rawLabel,
	})
	if err != nil {
		return nil, nil, err
	}
	tag := tags[0]
	e.log.Info("Building features.", "count", len(set.Features), "tag", tag)
	info, err := e.be.BuildImage(ctx, providers.BuildSpec{
		DockerfileContent: bc.Dockerfile,
		ExtraFiles:        bc.Files,
		ExtraDirs:         bc.Dirs,
		Target:            features.TargetStage,
		Tags:              tags,
		NoCache:           noCache,
		Output:            e.out,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("build features: %w", err)
	}
	if !fo.NoLockfile && !fo.FrozenLockfile {
		if _, err := features.WriteLockfile(lockPath, set.LockfileFor(extra...), false); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", lockPath, err)
		}
	}
	return &preparedImage{ref: tag, info: info, entries: entries, built: true, labelled: true}, label, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// ResolveFeatures resolves the workspace's features (for `features resolve-dependencies`)
// without building anything or writing the lockfile.
func (e *Engine) ResolveFeatures(ctx context.Context, loc Locate, fo FeatureOptions) (*features.Set, error) {
	r, err := e.resolve(ctx, loc)
	if err != nil {
		return nil, err
	}
	req, _, err := requestedFeatures(r.cfg, fo.Additional)
	if err != nil {
		return nil, err
	}
	lock, _, err := features.ReadLockfile(features.LockfilePath(r.configPath))
	if err != nil {
		return nil, err
	}
	return e.FeatureResolver(fo.Offline).Resolve(ctx, features.Input{
		ConfigFile: r.configPath, WorkspaceFolder: r.folder, Features: req,
		OverrideOrder: r.cfg.OverrideFeatureInstallOrder, Lock: lock,
	})
}

// FeatureResolver returns a resolver on mochi's feature cache.
func (e *Engine) FeatureResolver(offline bool) *features.Resolver {
	return &features.Resolver{CacheDir: filepath.Join(e.home, "cache", "features"), Logger: e.log, Offline: offline}
}
