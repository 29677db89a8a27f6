package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// entry is one hand-made tar entry.
type entry struct {
	name     string
	typ      byte
	body     string
	link     string
	mode     int64
	uid, gid int
}

func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) entry {
	return entry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func symlink(name, to string) entry  { return entry{name: name, typ: tar.TypeSymlink, link: to} }
func hardlink(name, to string) entry { return entry{name: name, typ: tar.TypeLink, link: to} }
func whiteout(name string) entry {
	return file(filepath.Join(filepath.Dir(name), ".wh."+filepath.Base(name)), "")
}
func opaque(dirName string) entry { return file(dirName+"/.wh..wh..opq", "") }

func layerTar(t *testing.T, entries ...entry) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Size: int64(len(e.body)),
			Uid: e.uid, Gid: e.gid, ModTime: time.Unix(1700000000, 0)}
		if hdr.Mode == 0 {
			hdr.Mode = 0o777
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// tree lists root as "path" (folders end in /, symlinks show their target, files their body).
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out = append(out, rel+" -> "+target)
		case fi.IsDir():
			out = append(out, rel+"/")
		default:
			b, _ := os.ReadFile(p)
			out = append(out, rel+"="+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func apply(t *testing.T, root string, layers ...[]entry) {
	t.Helper()
	for i, l := range layers {
		if _, err := ApplyLayer(root, layerTar(t, l...)); err != nil {
			t.Fatalf("layer %d: %v", i+1, err)
		}
	}
}

func TestApplyLayerWhiteouts(t *testing.T) {
	root := t.TempDir()
	apply(t, root,
		[]entry{dir("etc"), file("etc/keep", "k"), file("etc/gone", "g"), dir("opt"), dir("opt/sub"),
			file("opt/sub/old", "o"), file("opt/old", "o"), dir("var"), file("var/x", "x")},
		[]entry{whiteout("etc/gone"), opaque("opt"), file("opt/new", "n"), dir("opt/sub"),
			whiteout("var"), file("etc/keep", "k2")},
	)
	want := []string{"etc/", "etc/keep=k2", "opt/", "opt/new=n", "opt/sub/"}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("tree after whiteouts (-want +got):\n%s", diff)
	}
}

// An opaque marker listed after the folder's new content must not delete that content.
func TestApplyLayerOpaqueAfterContent(t *testing.T) {
	root := t.TempDir()
	apply(t, root,
		[]entry{dir("d"), file("d/lower", "l")},
		[]entry{dir("d"), file("d/upper", "u"), opaque("d")},
	)
	if diff := cmp.Diff([]string{"d/", "d/upper=u"}, tree(t, root)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestApplyLayerHardlinks(t *testing.T) {
	root := t.TempDir()
	apply(t, root,
		[]entry{dir("bin"), file("bin/a", "same"), hardlink("bin/b", "bin/a")},
		// Replacing one name must not change the other (never write through a link).
		[]entry{file("bin/a", "new")},
	)
	if diff := cmp.Diff([]string{"bin/", "bin/a=new", "bin/b=same"}, tree(t, root)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	root2 := t.TempDir()
	apply(t, root2, []entry{file("a", "x"), hardlink("b", "a")})
	fa, _ := os.Stat(filepath.Join(root2, "a"))
	fb, _ := os.Stat(filepath.Join(root2, "b"))
	if !os.SameFile(fa, fb) {
		t.Error("b is not a hard link of a")
	}
}

func TestApplyLayerModesAndOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("owners need root")
	}
	root := t.TempDir()
	e := file("suid", "s")
	e.mode, e.uid, e.gid = 0o4755, 1234, 5678
	d := dir("ro")
	d.mode, d.uid = 0o555, 42
	apply(t, root, []entry{e, d})
	fi, err := os.Stat(filepath.Join(root, "suid"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want setuid 0755", fi.Mode())
	}
	uid, gid := owner(t, filepath.Join(root, "suid"))
	if uid != 1234 || gid != 5678 {
		t.Errorf("owner = %d:%d, want 1234:5678", uid, gid)
	}
	di, _ := os.Stat(filepath.Join(root, "ro"))
	if di.Mode().Perm() != 0o555 {
		t.Errorf("folder mode = %v, want 0555", di.Mode())
	}
	if u, _ := owner(t, filepath.Join(root, "ro")); u != 42 {
		t.Errorf("folder owner = %d, want 42", u)
	}
}

func TestApplyLayerRejectsEscapes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []entry
	}{
		{"absolute name", []entry{file("/etc/evil", "x")}},
		{"dotdot name", []entry{file("a/../../evil", "x")}},
		{"dotdot symlink", []entry{symlink("up", "../outside")}},
		{"deep dotdot symlink", []entry{dir("a"), symlink("a/up", "../../outside")}},
		{"absolute hardlink", []entry{hardlink("h", "/etc/passwd")}},
		{"dotdot hardlink", []entry{hardlink("h", "../outside")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			root := filepath.Join(parent, "root")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := ApplyLayer(root, layerTar(t, tc.entries...))
			if !errors.Is(err, ErrUnsafePath) {
				t.Errorf("error = %v, want ErrUnsafePath", err)
			}
			for _, p := range tree(t, parent) {
				if !strings.HasPrefix(p, "root") {
					t.Errorf("written outside the root: %s", p)
				}
			}
		})
	}
}

// Writing through an absolute symlink (usrmerge style, or hostile) stays inside the root.
func TestApplyLayerAbsoluteSymlinkStaysInside(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	outside := filepath.Join(parent, "outside")
	for _, d := range []string{root, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	apply(t, root,
		[]entry{dir("usr"), dir("usr/bin"), symlink("bin", "/usr/bin"), symlink("esc", outside), symlink("up", "/../../..")},
		[]entry{file("bin/tool", "t"), file("esc/evil", "e"), file("up/top", "u")},
	)
	for rel, body := range map[string]string{"usr/bin/tool": "t", "top": "u", filepath.Join(outside, "evil"): "e"} {
		if b, err := os.ReadFile(filepath.Join(root, rel)); err != nil || string(b) != body {
			t.Errorf("%s inside the root: %q, %v; want %q", rel, b, err, body)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written outside the root: %v", entries)
	}
}

func TestApplyLayerReplacesTypes(t *testing.T) {
	root := t.TempDir()
	apply(t, root,
		[]entry{dir("a"), file("a/x", "x"), file("b", "file"), symlink("c", "b")},
		[]entry{file("a", "now a file"), dir("b"), file("c", "now a file")},
	)
	want := []string{"a=now a file", "b/", "c=now a file"}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func owner(t *testing.T, p string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// Within one layer, a folder replaced by a symlink (and back) redirects later entries.
func TestApplyLayerFolderBecomesSymlink(t *testing.T) {
	root := t.TempDir()
	apply(t, root, []entry{
		dir("a"), file("a/one", "1"), dir("target"),
		symlink("a", "/target"), file("a/two", "2"),
		dir("a"), file("a/three", "3"),
	})
	want := []string{"a/", "a/three=3", "target/", "target/two=2"}
	if diff := cmp.Diff(want, tree(t, root)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
