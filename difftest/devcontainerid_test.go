package difftest

import "testing"

// TestDevcontainerID checks the harness's own ${devcontainerId} computation, which it uses to
// normalise observations, against the values in the project's research notes (computed there
// by an independent implementation). The devcontainer-id case checks it against the reference.
func TestDevcontainerID(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"a": "b"}, "1mqafr5h2iu6dhh3k1m4vtnuhml2uiec4s7bntt1v0f25ao63i1n"},
		{map[string]string{
			"devcontainer.local_folder": "/home/user/proj",
			"devcontainer.config_file":  "/home/user/proj/.devcontainer/devcontainer.json",
		}, "17lm1qiejea4sikebnfe3bsdiueeed44rk7kqhetqup8ndnjubjp"},
	}
	for _, tt := range tests {
		if got := devcontainerID(tt.labels); got != tt.want {
			t.Errorf("devcontainerID(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}
