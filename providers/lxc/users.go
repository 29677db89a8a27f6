package lxc

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// account is a resolved user.
type account struct {
	uid, gid int
	home     string
}

// readRootFile reads a file of a container's root without following a symlink at its place
// (which would be resolved against the host); a missing or symlinked file reads as empty.
func readRootFile(root, rel string) string {
	p := filepath.Join(root, rel)
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	if fi, err := os.Lstat(filepath.Dir(p)); err != nil || !fi.IsDir() {
		return ""
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return string(b)
}

// resolveUser resolves "user[:group]" (names or numbers) against the passwd and group files
// of root, like the Docker engine: a numeric user missing from passwd is fine (gid 0, home /).
func resolveUser(root, spec string) (account, error) {
	acc := account{home: "/"}
	if spec == "" {
		spec = "0"
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	passwd := parseColonFile(readRootFile(root, "etc/passwd"))
	found := false
	for _, f := range passwd {
		if len(f) < 6 {
			continue
		}
		if f[0] == user || f[2] == user {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				continue
			}
			acc = account{uid: uid, gid: gid, home: f[5]}
			found = true
			break
		}
	}
	if !found {
		uid, err := strconv.Atoi(user)
		if err != nil {
			return acc, fmt.Errorf("user %q: no such user in the image's /etc/passwd", user)
		}
		acc.uid = uid
	}
	if hasGroup {
		gid, err := strconv.Atoi(group)
		if err != nil {
			gid = -1
			for _, f := range parseColonFile(readRootFile(root, "etc/group")) {
				if len(f) >= 3 && f[0] == group {
					gid, err = strconv.Atoi(f[2])
					if err != nil {
						gid = -1
					}
					break
				}
			}
			if gid < 0 {
				return acc, fmt.Errorf("group %q: no such group in the image's /etc/group", group)
			}
		}
		acc.gid = gid
	}
	return acc, nil
}

func parseColonFile(s string) [][]string {
	var out [][]string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
