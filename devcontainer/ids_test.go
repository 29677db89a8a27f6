package devcontainer

import (
	"regexp"
	"testing"
)

// The golden ids were produced by the reference CLI 0.89.0: containers were created with
// these labels and `devcontainer read-configuration --id-label ...` printed a config whose
// name was "${devcontainerId}".
func TestDevcontainerIDGolden(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{map[string]string{"a": "b"}, "1mqafr5h2iu6dhh3k1m4vtnuhml2uiec4s7bntt1v0f25ao63i1n"},
		{IDLabels("/home/user/proj", "/home/user/proj/.devcontainer/devcontainer.json"), "17lm1qiejea4sikebnfe3bsdiueeed44rk7kqhetqup8ndnjubjp"},
		{IDLabels("/tmp/idtest", "/tmp/idtest/.devcontainer/devcontainer.json"), "1o2j1fcuij6p1ivom5cicodigomccd9rv9p9osl7udttehv7s8v1"},
		{IDLabels("/tmp/ph3", "/tmp/ph3/.devcontainer/devcontainer.json"), "014uo2c1od9r25pfercki0kftur8csr898suagtdebco9vgitc66"},
		{map[string]string{
			LabelLocalFolder: "/home/user/proj",
			LabelConfigFile:  "/home/user/proj/.devcontainer/devcontainer.json",
			"x":              "ü\"\\",
		}, "1dv2hvhq94k36jf3phik58orb3jton0f6v9ukl20bhv6b1n42ac2"},
	}
	for _, tt := range tests {
		if got := DevcontainerID(tt.labels); got != tt.want {
			t.Errorf("DevcontainerID(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}

func TestDevcontainerIDShape(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-v]{52}$`)
	a := DevcontainerID(map[string]string{"k1": "v1", "k2": "v2"})
	b := DevcontainerID(map[string]string{"k2": "v2", "k1": "v1"})
	c := DevcontainerID(map[string]string{"k1": "v1", "k2": "v2", "k3": "v3"})
	if !shape.MatchString(a) || !shape.MatchString(DevcontainerID(nil)) {
		t.Errorf("ids %q %q do not match %s", a, DevcontainerID(nil), shape)
	}
	if a != b {
		t.Error("id depends on map order")
	}
	if a == c {
		t.Error("an extra label does not change the id")
	}
}

// The golden image name comes from `devcontainer build --workspace-folder /tmp/Img_Test..X`
// with the reference CLI 0.89.0.
func TestImageName(t *testing.T) {
	if got, want := ImageName("/tmp/Img_Test..X"), "vsc-img_test.x-8e1f12c4d574a2b1011ed6c25029ecc225b894497adea3daed0157cfda5cda49"; got != want {
		t.Errorf("ImageName = %s, want %s", got, want)
	}
}

// Expected values were computed by running the reference's toDockerImageName expression in
// node.
func TestDockerImageName(t *testing.T) {
	tests := map[string]string{
		"vsc-My Project-1":   "vsc-myproject-1",
		"a..b":               "a.b",
		"a._-b":              "a.b",
		"a_.b":               "a_b",
		"a__-x":              "a__x",
		"a---.b":             "a---b",
		"a-b_c.d":            "a-b_c.d",
		"ÜBER/ns:tag":        "bernstag",
		"x.-_.-y":            "x.y",
		"a___b":              "a__b",
		"vsc-ä-ö-0123abcdef": "vsc---0123abcdef",
		"-._x":               "-x",
		"a__.__b":            "a__b",
		"İx":                 "ix",
	}
	for in, want := range tests {
		if got := DockerImageName(in); got != want {
			t.Errorf("DockerImageName(%q) = %q, want %q", in, got, want)
		}
	}
}
