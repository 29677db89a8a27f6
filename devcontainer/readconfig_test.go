package devcontainer

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The read-configuration goldens under testdata/readconfig and testdata/corpus-readconfig
// hold the exact output of the reference CLI (`devcontainer read-configuration`), with the
// temporary workspace path replaced by $WS. Regenerate them from the reference with
//
//	MOCHI_REFCLI=/path/to/devcontainer go test ./devcontainer -run ReadConfiguration -update-ref
var updateRef = flag.Bool("update-ref", false, "regenerate read-configuration goldens with the reference CLI named by $MOCHI_REFCLI")

// readConfigCase describes one case directory (testdata/readconfig/NAME/case.json).
type readConfigCase struct {
	// Git runs `git init` at the workspace root before opening it.
	Git bool `json:"git"`
	// Open is the folder passed as --workspace-folder, relative to the workspace root.
	Open string `json:"open"`
	// Config is --config, relative to the workspace root.
	Config string `json:"config"`
	// Override is --override-config, relative to the workspace root.
	Override string `json:"override"`
	// NoGitRoot passes --mount-workspace-git-root=false.
	NoGitRoot bool `json:"noGitRoot"`
	// Env are host variables visible to ${localEnv:...}.
	Env map[string]string `json:"env"`
}

// caseHome is the HOME both mochi and the reference see in these tests.
const caseHome = "/home/mochi-test"

// lookup is the host environment mochi sees: HOME plus what the case sets.
func (rc readConfigCase) lookup(name string) (string, bool) {
	if v, ok := rc.Env[name]; ok {
		return v, ok
	}
	if name == "HOME" {
		return caseHome, true
	}
	return "", false
}

// copyTree copies the files under src (but not case.json/want.json) to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "case.json" || rel == "want.json" {
			return nil
		}
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// prepare lays a case's files out in a fresh workspace root named after the case.
func (rc readConfigCase) prepare(t *testing.T, name string, files func(root string)) (root string) {
	t.Helper()
	root = filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	files(root)
	if rc.Git {
		cmd := exec.Command("git", "init", "-q", root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	return root
}

// mochiReadConfiguration is what mochi's read-configuration prints for the case, as the
// configuration and workspace objects.
func (rc readConfigCase) mochi(t *testing.T, root string) (configuration, workspace []byte) {
	t.Helper()
	folder := filepath.Join(root, rc.Open)
	var cfgPath string
	if rc.Config != "" {
		cfgPath = filepath.Join(root, rc.Config)
	}
	var c *Config
	var err error
	if rc.Override != "" {
		p, derr := Discover(folder, cfgPath)
		if derr != nil {
			p = DefaultPath(folder)
			if cfgPath != "" {
				p = cfgPath
			}
		}
		c, err = LoadOverride(p, filepath.Join(root, rc.Override))
	} else {
		var p string
		if p, err = Discover(folder, cfgPath); err == nil {
			c, err = Load(p)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	sc, l, err := ResolveLocal(c, folder, !rc.NoGitRoot, rc.lookup)
	if err != nil {
		t.Fatal(err)
	}
	return sc.Result(rc.Config != ""), l.JSON()
}

// reference runs the reference CLI's read-configuration for the case and returns its
// configuration and workspace objects, byte for byte.
func (rc readConfigCase) reference(t *testing.T, refcli, root string) (configuration, workspace []byte) {
	t.Helper()
	args := []string{"read-configuration", "--workspace-folder", filepath.Join(root, rc.Open)}
	if rc.Config != "" {
		args = append(args, "--config", filepath.Join(root, rc.Config))
	}
	if rc.Override != "" {
		args = append(args, "--override-config", filepath.Join(root, rc.Override))
	}
	if rc.NoGitRoot {
		args = append(args, "--mount-workspace-git-root=false")
	}
	cmd := exec.Command(refcli, args...)
	cmd.Dir = root
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + caseHome}
	for k, v := range rc.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference: %v\n%s", err, stderr.Bytes())
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reference output: %v\n%s", err, out)
	}
	return res["configuration"], res["workspace"]
}

// golden renders the two objects as the golden file's content, with root replaced by $WS.
func golden(root string, configuration, workspace []byte) []byte {
	s := `{"configuration":` + string(configuration) + `,"workspace":` + string(workspace) + "}\n"
	return []byte(strings.ReplaceAll(s, root, "$WS"))
}

// checkReadConfiguration compares mochi with the golden file (regenerated from the
// reference with -update-ref).
func checkReadConfiguration(t *testing.T, rc readConfigCase, name, wantFile string, files func(root string)) {
	t.Helper()
	root := rc.prepare(t, name, files)
	if *updateRef {
		refcli := os.Getenv("MOCHI_REFCLI")
		if refcli == "" {
			t.Fatal("-update-ref needs MOCHI_REFCLI")
		}
		c, w := rc.reference(t, refcli, root)
		if err := os.WriteFile(wantFile, golden(root, c, w), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(wantFile)
	if err != nil {
		t.Fatal(err)
	}
	c, w := rc.mochi(t, root)
	if got := golden(root, c, w); !bytes.Equal(got, want) {
		t.Errorf("read-configuration differs from the reference\n got: %s\nwant: %s", got, want)
	}
}

func TestReadConfigurationCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "readconfig", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			var rc readConfigCase
			if data, err := os.ReadFile(filepath.Join(dir, "case.json")); err == nil {
				if err := json.Unmarshal(data, &rc); err != nil {
					t.Fatal(err)
				}
			}
			checkReadConfiguration(t, rc, name, filepath.Join(dir, "want.json"), func(root string) {
				copyTree(t, dir, root)
			})
		})
	}
}

// corpusDir is the shared corpus of real configurations beside the repository.
var corpusDir = filepath.Join("..", "..", "shared", "corpus")

// corpusFiles lists the devcontainer.json files of the corpus, skipping the test when the
// corpus is not there.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not present at %s", corpusDir)
	}
	var files []string
	for _, sub := range []string{"templates", "images"} {
		m, err := filepath.Glob(filepath.Join(corpusDir, sub, "*.devcontainer.json"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("corpus has no devcontainer.json files")
	}
	return files
}

// corpusName is the golden name of a corpus file: templates-go, images-rust, ...
func corpusName(file string) string {
	return filepath.Base(filepath.Dir(file)) + "-" + strings.TrimSuffix(filepath.Base(file), ".devcontainer.json")
}

// TestReadConfigurationCorpus compares mochi with the reference CLI, run live, on every
// configuration of the shared corpus. The outputs are not kept as goldens: they name
// public registries. Run with MOCHI_REFCLI=/path/to/devcontainer.
func TestReadConfigurationCorpus(t *testing.T) {
	files := corpusFiles(t)
	refcli := os.Getenv("MOCHI_REFCLI")
	if refcli == "" {
		t.Skip("set MOCHI_REFCLI to the reference devcontainer CLI to compare with it")
	}
	for _, file := range files {
		name := corpusName(file)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			rc := readConfigCase{}
			root := rc.prepare(t, name, func(root string) {
				writeFile(t, filepath.Join(root, ".devcontainer", "devcontainer.json"), data)
			})
			wc, ww := rc.reference(t, refcli, root)
			gc, gw := rc.mochi(t, root)
			if got, want := golden(root, gc, gw), golden(root, wc, ww); !bytes.Equal(got, want) {
				t.Errorf("read-configuration differs from the reference\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// writeFile writes data to p, creating its directory.
func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
