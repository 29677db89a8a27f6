package devcontainer

import (
	"path"
	"regexp"
	"strings"
)

// ContainerUsers returns the container user and the remote user as the reference computes
// them before a build (findContainerUsers): containerUser is the merged containerUser, else the
// compose service's user, else the image user; remoteUser is the merged remoteUser, else
// containerUser. imageUser is the last USER of the Dockerfile's target stage, else the base
// image's Config.User, else "root".
func ContainerUsers(m *Merged, composeServiceUser, imageUser string) (containerUser, remoteUser string) {
	containerUser = firstNonEmpty(m.ContainerUser, composeServiceUser, imageUser)
	remoteUser = firstNonEmpty(m.RemoteUser, containerUser)
	return containerUser, remoteUser
}

// ExecUser returns the user and group hooks and exec run as in a created container
// (createContainerProperties): the merged remoteUser, else the container's Config.User, else
// "root"; a "user:group" value is split and the user "0" is reported as "root".
func ExecUser(remoteUser, containerConfigUser string) (user, group string) {
	spec := firstNonEmpty(remoteUser, containerConfigUser, "root")
	user, group, _ = strings.Cut(spec, ":")
	if user == "0" {
		user = "root"
	}
	return user, group
}

// RunArgsUser returns the user a runArgs list sets with -u/--user (the last one), or "".
func RunArgsUser(runArgs []string) string {
	for i := len(runArgs) - 1; i >= 0; i-- {
		a := runArgs[i]
		if (a == "-u" || a == "--user") && i+1 < len(runArgs) {
			return runArgs[i+1]
		}
		if v, ok := strings.CutPrefix(a, "-u="); ok {
			return v
		}
		if v, ok := strings.CutPrefix(a, "--user="); ok {
			return v
		}
	}
	return ""
}

// UIDUpdate modes of --update-remote-user-uid-default.
const (
	UIDUpdateOn    = "on"
	UIDUpdateOff   = "off"
	UIDUpdateNever = "never"
)

var numericUser = regexp.MustCompile(`^\d+$`)

// UIDUpdateUser decides whether the image must get a UID/GID-synchronising layer before the
// container is created (getRemoteUserUIDUpdateDetails) and for which user. It only applies on
// Linux hosts (hostOS as runtime.GOOS), never with mode "never", and otherwise when
// updateRemoteUserUID is true or unset with mode "on". The user is the merged remoteUser, else
// runArgsUser (the -u of runArgs, else the container user), else the image user (else root);
// root and numeric users are never changed. ok is false when nothing is to be done.
func UIDUpdateUser(m *Merged, mode, hostOS, runArgsUser, imageUser string) (user string, ok bool) {
	enabled := mode == UIDUpdateOn
	if m.UpdateRemoteUserUID != nil {
		enabled = *m.UpdateRemoteUserUID
	}
	if mode == UIDUpdateNever || !enabled || hostOS != "linux" {
		return "", false
	}
	user = firstNonEmpty(m.RemoteUser, runArgsUser, imageUser, "root")
	if user == "root" || numericUser.MatchString(user) {
		return "", false
	}
	return user, true
}

// PasswdEntry is one line of /etc/passwd (or of getent passwd output).
type PasswdEntry struct {
	Name, UID, GID, Home, Shell string
}

// ParsePasswdLine splits a passwd line (name:password:uid:gid:gecos:home:shell). Missing
// fields are empty, as with the reference; ok is false for a blank line.
func ParsePasswdLine(line string) (PasswdEntry, bool) {
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if strings.TrimSpace(line) == "" {
		return PasswdEntry{}, false
	}
	f := strings.Split(line, ":")
	field := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	return PasswdEntry{Name: field(0), UID: field(2), GID: field(3), Home: field(5), Shell: field(6)}, true
}

// LookupPasswd finds userOrID in passwd file content the way `getent passwd` does: by name,
// else by numeric uid. The first match wins.
func LookupPasswd(passwd string, userOrID string) (PasswdEntry, bool) {
	var byID *PasswdEntry
	for _, line := range strings.Split(passwd, "\n") {
		e, ok := ParsePasswdLine(line)
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if e.Name == userOrID {
			return e, true
		}
		if byID == nil && e.UID == userOrID && numericUser.MatchString(userOrID) {
			byID = &e
		}
	}
	if byID != nil {
		return *byID, true
	}
	return PasswdEntry{}, false
}

// PasswdLookupCommand returns a POSIX shell command printing the passwd line of userOrID:
// getent where the image has it, else an exact-field match in /etc/passwd (busybox images
// often lack getent), by name first and then by uid. It prints nothing for an unknown user
// and always exits 0. The result starts with a space so it never joins a preceding "$((".
func PasswdLookupCommand(userOrID string) string {
	q := shellQuote(userOrID)
	return ` (command -v getent >/dev/null 2>&1 && getent passwd ` + q +
		` || awk -F: -v u=` + q + ` '$1 == u { print; done = 1; exit } $3 == u && id == "" { id = $0 } END { if (!done && id != "") print id }' /etc/passwd || true)`
}

// shellQuote quotes s for a POSIX shell with single quotes.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// HomeFolder chooses the remote user's home folder as the reference does (getHomeFolder):
// $HOME from the container environment when it equals the passwd home, or the user has uid 0,
// or usable(HOME) reports that it does not exist or is writable; otherwise the passwd home,
// else "/root". usable is only called when needed (it usually runs a test in the container);
// pw may be nil when the user is not in the passwd database.
func HomeFolder(containerEnv map[string]string, pw *PasswdEntry, usable func(home string) bool) string {
	if home := containerEnv["HOME"]; home != "" {
		if pw != nil && (home == pw.Home || pw.UID == "0") {
			return home
		}
		if usable != nil && usable(home) {
			return home
		}
	}
	if pw != nil && pw.Home != "" {
		return pw.Home
	}
	return "/root"
}

// HomeUsableCommand is the shell test HomeFolder's usable callback runs in the container: it
// succeeds when home does not exist or is writable by the user.
func HomeUsableCommand(home string) string {
	q := shellQuote(home)
	return "[ ! -e " + q + " ] || [ -w " + q + " ]"
}

// UserShell is the shell used for the user environment probe: $SHELL from the container
// environment, else the passwd shell, else /bin/sh.
func UserShell(containerEnv map[string]string, pw *PasswdEntry) string {
	if s := containerEnv["SHELL"]; s != "" {
		return s
	}
	if pw != nil && pw.Shell != "" {
		return pw.Shell
	}
	return "/bin/sh"
}

// UserDataFolder is where per-user state (lifecycle markers, env probe cache) lives:
// containerDataFolder (--container-data-folder, default ".devcontainer") resolved against home.
func UserDataFolder(home, containerDataFolder string) string {
	if containerDataFolder == "" {
		containerDataFolder = ".devcontainer"
	}
	if path.IsAbs(containerDataFolder) {
		return path.Clean(containerDataFolder)
	}
	return path.Join("/", home, containerDataFolder)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// UpdateUIDBuildArgs are the build arguments of UpdateUIDDockerfile.
func UpdateUIDBuildArgs(remoteUser, newUID, newGID, imageUser string) map[string]string {
	return map[string]string{"REMOTE_USER": remoteUser, "NEW_UID": newUID, "NEW_GID": newGID, "IMAGE_USER": imageUser}
}

// UpdateUIDDockerfile returns a Dockerfile that layers on baseImage a change of REMOTE_USER's
// UID and GID to NEW_UID and NEW_GID (the host user's, so bind-mounted files keep their owner)
// and then switches back to IMAGE_USER; see UpdateUIDBuildArgs. Built as <image>-uid.
//
// The change is skipped when the user is not in /etc/passwd, already has both ids, or another
// user owns NEW_UID; when another group owns NEW_GID the user keeps its GID. Otherwise the
// passwd entry (and the entries of groups with the old GID when it changes) is rewritten and
// the home folder (unless it is "/") is chowned. It needs only sh, awk and chown in the image.
func UpdateUIDDockerfile(baseImage string) string {
	return "FROM " + baseImage + "\n" + updateUIDSteps
}

const updateUIDSteps = `USER root
ARG REMOTE_USER
ARG NEW_UID
ARG NEW_GID
RUN set -e; \
	entry="$(awk -F: -v u="$REMOTE_USER" '$1 == u { print; exit }' /etc/passwd)"; \
	if [ -z "$entry" ]; then echo "User $REMOTE_USER not found in /etc/passwd, not changing its UID."; exit 0; fi; \
	old_uid="$(echo "$entry" | awk -F: '{ print $3 }')"; \
	old_gid="$(echo "$entry" | awk -F: '{ print $4 }')"; \
	home="$(echo "$entry" | awk -F: '{ print $6 }')"; \
	if [ "$old_uid" = "$NEW_UID" ] && [ "$old_gid" = "$NEW_GID" ]; then echo "User $REMOTE_USER already has UID $NEW_UID and GID $NEW_GID."; exit 0; fi; \
	taken="$(awk -F: -v id="$NEW_UID" -v u="$REMOTE_USER" '$3 == id && $1 != u { print $1; exit }' /etc/passwd)"; \
	if [ -n "$taken" ]; then echo "UID $NEW_UID is used by $taken, not changing the UID of $REMOTE_USER."; exit 0; fi; \
	new_gid="$NEW_GID"; \
	if [ "$old_gid" != "$NEW_GID" ]; then \
		group="$(awk -F: -v id="$NEW_GID" '$3 == id { print $1; exit }' /etc/group 2>/dev/null || true)"; \
		if [ -n "$group" ]; then echo "GID $NEW_GID is used by group $group, keeping GID $old_gid for $REMOTE_USER."; new_gid="$old_gid"; fi; \
	fi; \
	echo "Changing UID of $REMOTE_USER from $old_uid to $NEW_UID and GID from $old_gid to $new_gid."; \
	awk -F: -v OFS=: -v u="$REMOTE_USER" -v uid="$NEW_UID" -v gid="$new_gid" '$1 == u { $3 = uid; $4 = gid } { print }' /etc/passwd > /etc/passwd.mochi-uid; \
	cat /etc/passwd.mochi-uid > /etc/passwd; rm -f /etc/passwd.mochi-uid; \
	if [ "$new_gid" != "$old_gid" ] && [ -f /etc/group ]; then \
		awk -F: -v OFS=: -v old="$old_gid" -v gid="$new_gid" '$3 == old { $3 = gid } { print }' /etc/group > /etc/group.mochi-uid; \
		cat /etc/group.mochi-uid > /etc/group; rm -f /etc/group.mochi-uid; \
	fi; \
	if [ -n "$home" ] && [ "$home" != "/" ] && [ -d "$home" ]; then chown -R "$NEW_UID:$new_gid" "$home"; fi
ARG IMAGE_USER
USER $IMAGE_USER
`
