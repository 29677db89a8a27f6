package devcontainer

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
)

// The functions below are the metadata API over plain maps (map[string]any as decoded by
// encoding/json or Config.Raw). Go maps forget key order; where exact bytes matter use the
// MetadataEntry forms (ParseMetadataEntries, Config.MetadataEntry, FeatureEntry,
// EncodeMetadataEntries).

// ParseMetadataLabel decodes a devcontainer.metadata label value: a JSON array of objects, or
// a single object (older images). Array elements that are not objects are skipped. Numbers
// decode as float64, as with encoding/json.
func ParseMetadataLabel(value string) ([]map[string]any, error) {
	var v any
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		return nil, fmt.Errorf("parse %s label: %w", MetadataLabel, err)
	}
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}, nil
	case []any:
		out := make([]map[string]any, 0, len(t))
		for _, e := range t {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("parse %s label: %w: not an array or object", MetadataLabel, ErrInvalid)
}

// EncodeMetadataLabel renders entries as the label value the reference gives a container
// (docker run -l devcontainer.metadata=…): JSON.stringify of the array, empty entries left
// out. Keys are written in the canonical order of NewMetadataEntry.
func EncodeMetadataLabel(entries []map[string]any) string {
	return EncodeMetadataEntries(entriesFromMaps(entries))
}

// MetadataLabelInstruction renders entries as the LABEL instruction the reference appends to
// generated Dockerfiles (see MetadataEntriesInstruction); keys in NewMetadataEntry's order.
func MetadataLabelInstruction(entries []map[string]any) string {
	return MetadataEntriesInstruction(entriesFromMaps(entries))
}

func entriesFromMaps(entries []map[string]any) []MetadataEntry {
	out := make([]MetadataEntry, len(entries))
	for i, e := range entries {
		out[i] = NewMetadataEntry(e)
	}
	return out
}

// ConfigMetadataEntry picks the properties of a devcontainer.json that go into its metadata
// entry (the reference's pickConfigProperties). raw must be the configuration before variable
// substitution (Config.Raw): the label keeps ${localEnv:…} and friends so they are evaluated
// again on every use. omit names properties to leave out (the reference's hidden
// --omit-config-remote-env-from-metadata omits "remoteEnv").
func ConfigMetadataEntry(raw map[string]any, omit ...string) map[string]any {
	return pick(raw, configProperties, omit)
}

// FeatureMetadataEntry builds a Feature's metadata entry (the reference's
// pickFeatureProperties): "id" is the Feature reference as the user wrote it, the other
// properties come from devcontainer-feature.json, whose legacy top-level "extensions" and
// "settings" move into customizations.vscode first. omit names properties to leave out
// (--skip-persisting-customizations-from-features omits "customizations").
func FeatureMetadataEntry(id string, feature map[string]any, omit ...string) map[string]any {
	e := pick(migrateFeatureLegacy(feature), featureProperties, omit)
	e["id"] = id
	return e
}

// UpdateableConfigEntry picks from devcontainer.json the properties that still apply to an
// existing container: remoteUser, userEnvProbe and remoteEnv.
func UpdateableConfigEntry(raw map[string]any) map[string]any {
	return pick(raw, updateableProperties, nil)
}

// ContainerMetadata returns the metadata entries that describe an existing container
// (getImageMetadataFromContainer), before substitution:
//   - the container has a devcontainer.metadata label and every id label: the label's entries
//     followed by UpdateableConfigEntry(raw), since everything else is fixed at creation;
//   - it has the label but not all id labels: the label's entries, then features, then
//     ConfigMetadataEntry(raw);
//   - it has no label: features, then ConfigMetadataEntry(raw).
//
// idLabels are the names of the id labels (their values are not compared, as in the
// reference). Empty entries are dropped.
func ContainerMetadata(labels map[string]string, idLabels []string, raw map[string]any, features []map[string]any) ([]map[string]any, error) {
	var out []map[string]any
	add := func(es ...map[string]any) {
		for _, e := range es {
			if len(e) > 0 {
				out = append(out, e)
			}
		}
	}
	value := labels[MetadataLabel]
	if value == "" {
		add(features...)
		add(ConfigMetadataEntry(raw))
		return out, nil
	}
	entries, err := ParseMetadataLabel(value)
	if err != nil {
		return nil, err
	}
	add(entries...)
	hasIDs := idLabels != nil
	for _, l := range idLabels {
		if labels[l] == "" {
			hasIDs = false
		}
	}
	if hasIDs {
		add(UpdateableConfigEntry(raw))
		return out, nil
	}
	add(features...)
	add(ConfigMetadataEntry(raw))
	return out, nil
}

// pick copies the keys of src listed in keys (null values included, as JavaScript's "in"
// operator sees them), except those in omit.
func pick(src map[string]any, keys, omit []string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := src[k]; ok && !slices.Contains(omit, k) {
			out[k] = v
		}
	}
	return out
}

// migrateFeatureLegacy moves a Feature's top-level extensions and settings into
// customizations.vscode as the reference does for Features (extensions appended,
// customizations.vscode.settings winning over top-level settings). feature is not modified.
func migrateFeatureLegacy(feature map[string]any) map[string]any {
	ext, settings := feature["extensions"], feature["settings"]
	if !jsTruthy(ext) && !jsTruthy(settings) {
		return feature
	}
	f := make(map[string]any, len(feature))
	for k, v := range feature {
		f[k] = v
	}
	cust, _ := f["customizations"].(map[string]any)
	cust = cloneMap(cust)
	vscode, _ := cust["vscode"].(map[string]any)
	vscode = cloneMap(vscode)
	if jsTruthy(ext) {
		var list []any
		list = append(list, concatValues(vscode["extensions"])...)
		vscode["extensions"] = append(list, concatValues(ext)...)
		delete(f, "extensions")
	}
	if jsTruthy(settings) {
		merged := map[string]any{}
		for _, src := range []any{settings, vscode["settings"]} {
			if m, ok := src.(map[string]any); ok {
				for k, v := range m {
					merged[k] = v
				}
			}
		}
		vscode["settings"] = merged
		delete(f, "settings")
	}
	cust["vscode"] = vscode
	f["customizations"] = cust
	return f
}

// concatValues is what Array.prototype.concat adds for v: an array's elements, else v
// (nothing for undefined).
func concatValues(v any) []any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		return t
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// jsTruthy is JavaScript truthiness of a decoded JSON value (nil is null/undefined).
func jsTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0 && !math.IsNaN(t)
	case int:
		return t != 0
	case int64:
		return t != 0
	case json.Number:
		f, err := t.Float64()
		return err != nil || f != 0
	}
	return true
}
