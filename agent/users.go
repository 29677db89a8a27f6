package agent

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Account is a user of the workspace as /etc/passwd and /etc/group describe it. The agent
// parses those files itself: os/user needs cgo or NSS in some builds, and the agent is a
// static binary running inside images it does not control.
type Account struct {
	Name   string
	UID    uint32
	GID    uint32
	Groups []uint32 // supplementary groups, the primary group included
	Home   string
	Shell  string
}

// LookupAccount finds name (a user name or a numeric uid) in the passwd file and collects
// its groups from the group file. A numeric uid that is not in the passwd file gets gid =
// uid, home "/" and /bin/sh, as container tools do for `--user 1234`.
func LookupAccount(name, passwdFile, groupFile string) (Account, error) {
	acct, found, err := findPasswd(name, passwdFile)
	if err != nil {
		return Account{}, err
	}
	if !found {
		n, convErr := strconv.ParseUint(name, 10, 32)
		if convErr != nil {
			return Account{}, fmt.Errorf("look up user %q in %s: %w", name, passwdFile, ErrUnknownUser)
		}
		acct = Account{Name: name, UID: uint32(n), GID: uint32(n), Home: "/", Shell: "/bin/sh"}
	}
	groups, err := findGroups(acct.Name, acct.GID, groupFile)
	if err != nil {
		return Account{}, err
	}
	acct.Groups = groups
	return acct, nil
}

func findPasswd(name, file string) (Account, bool, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return Account{}, false, nil
	}
	if err != nil {
		return Account{}, false, fmt.Errorf("read users: %w", err)
	}
	defer f.Close()
	var byUID *Account
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// name:password:uid:gid:gecos:home:shell
		fields := strings.Split(line, ":")
		if len(fields) < 7 {
			continue
		}
		uid, err1 := strconv.ParseUint(fields[2], 10, 32)
		gid, err2 := strconv.ParseUint(fields[3], 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		a := Account{Name: fields[0], UID: uint32(uid), GID: uint32(gid), Home: fields[5], Shell: fields[6]}
		if a.Name == name {
			return a, true, nil
		}
		if byUID == nil && fields[2] == name {
			byUID = &a
		}
	}
	if err := sc.Err(); err != nil {
		return Account{}, false, fmt.Errorf("read %s: %w", file, err)
	}
	if byUID != nil {
		return *byUID, true, nil
	}
	return Account{}, false, nil
}

func findGroups(name string, primary uint32, file string) ([]uint32, error) {
	groups := []uint32{primary}
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return groups, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// name:password:gid:member,member
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 4 {
			continue
		}
		gid, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil || uint32(gid) == primary {
			continue
		}
		for _, m := range strings.Split(fields[3], ",") {
			if strings.TrimSpace(m) == name {
				groups = append(groups, uint32(gid))
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return groups, nil
}
