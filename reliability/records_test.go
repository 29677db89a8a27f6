package reliability

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
)

// record is the part of $MOCHI_HOME/workspaces/NAME.json these tests check.
type record struct {
	Name        string `json:"name"`
	Folder      string `json:"folder"`
	ContainerID string `json:"containerId"`
}

func readRecord(e *env, name string) (*record, error) {
	data, err := os.ReadFile(filepath.Join(e.mochi, "workspaces", name+".json"))
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// records returns every workspace record of the env.
func records(e *env) ([]*record, error) {
	files, err := filepath.Glob(filepath.Join(e.mochi, "workspaces", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*record
	for _, f := range files {
		r, err := readRecord(e, strings.TrimSuffix(filepath.Base(f), ".json"))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}
