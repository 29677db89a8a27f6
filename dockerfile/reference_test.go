package dockerfile

import (
	"encoding/json"
	"os"
	"testing"
)

// testdata/reference/results.json records what the reference CLI resolved for each Dockerfile
// of cases.json: the base image it inspected and the image user it passed to its Features
// build (the test images have no Config.User, so "root" means "no USER found"). Regenerate with
// testdata/reference/refresh.py.
func TestReferenceResolution(t *testing.T) {
	var cases []struct {
		Name       string            `json:"name"`
		Dockerfile string            `json:"dockerfile"`
		Args       map[string]string `json:"args"`
		Target     string            `json:"target"`
	}
	var results map[string]struct {
		BaseImage string `json:"baseImage"`
		ImageUser string `json:"imageUser"`
	}
	readJSON(t, "testdata/reference/cases.json", &cases)
	readJSON(t, "testdata/reference/results.json", &results)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	// The reference ran on linux/amd64 and built for it.
	host := Platform{OS: "linux", Arch: "amd64"}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			want, ok := results[c.Name]
			if !ok {
				t.Fatal("no reference result; run refresh.py")
			}
			f, err := Parse([]byte(c.Dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			args := Args{Build: c.Args, Platform: PlatformArgs(host, host)}
			base, err := f.BaseImage(c.Target, args)
			if err != nil {
				t.Fatal(err)
			}
			user, found := f.User(c.Target, args)
			if !found {
				user = "root"
			}
			if base != want.BaseImage || user != want.ImageUser {
				t.Errorf("got base %q user %q, reference %q %q", base, user, want.BaseImage, want.ImageUser)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestReferenceDeviations pins the cases where this package deliberately reads a Dockerfile as
// Docker does and the reference CLI (whose line-by-line regular expressions were checked with
// refresh.py-style runs) does not.
func TestReferenceDeviations(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		want, reference  string
	}{
		{
			name:       "USER text inside a continued RUN is not an instruction",
			dockerfile: "FROM img AS base\nARG U=alice\nUSER $U\nFROM base\nRUN echo hi \\\nUSER bob\n",
			want:       "alice", reference: "bob",
		},
		{
			name:       "quotes in USER are removed",
			dockerfile: "FROM img\nUSER \"quoted\"\n",
			want:       "quoted", reference: `"quoted"`,
		},
		{
			name:       "variables inside ${VAR:+word} are expanded",
			dockerfile: "ARG REPO=example\nFROM img\nUSER ${REPO:+$REPO-user}\n",
			want:       "example-user", reference: "$REPO-user",
		},
		{
			name:       "here-document bodies are not instructions",
			dockerfile: "FROM img\nUSER real\nCOPY <<EOF /etc/x\nUSER fake\nEOF\n",
			want:       "real", reference: "fake",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.dockerfile))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := f.User("", Args{})
			if got != tt.want {
				t.Errorf("User = %q, want %q (the reference says %q)", got, tt.want, tt.reference)
			}
		})
	}
}
