package features

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Paths used by the generated build.
const (
	// ContextDir is the folder of the build context that holds everything features need.
	ContextDir = ".mochi-features"
	// DockerfilePath is where WriteTar puts the generated Dockerfile in the build context.
	DockerfilePath = ContextDir + "/Dockerfile"
	// TargetStage is the stage to build.
	TargetStage = "dev_containers_target_stage"
	// InstallDir is where feature folders are copied in the image.
	InstallDir = "/tmp/dev-container-features"

	builtinEnvFile = "devcontainer-features.builtin.env"
)

// Users are the users the features build needs: ContainerUser and RemoteUser become
// _CONTAINER_USER and _REMOTE_USER (and their homes, looked up in the image); ImageUser is
// the base image's user, restored after the features are installed (root if empty).
type Users struct {
	ContainerUser string
	RemoteUser    string
	ImageUser     string
}

// DockerfileOptions says what to build features onto.
type DockerfileOptions struct {
	// BaseImage is the image (or, with Prefix, the stage) the features are installed onto.
	BaseImage string
	// Prefix is Dockerfile text placed before the features stage, e.g. the user's Dockerfile
	// whose last stage BaseImage names. It must not contain a "# syntax=" line.
	Prefix string
	Users  Users
	// ContainerEnv is devcontainer.json's containerEnv, written as ENV lines at the end.
	ContainerEnv []EnvVar
	// Metadata are the devcontainer.metadata entries (JSON objects) for the image label; none
	// means no LABEL line.
	Metadata []json.RawMessage
}

// BuildContext is a generated build: the Dockerfile and the files it copies. Dirs maps a
// context path to a folder on the host and Files a context path to generated content; a file
// in Files replaces the same path from Dirs.
type BuildContext struct {
	Dockerfile []byte
	Dirs       map[string]string
	Files      map[string][]byte
}

var (
	envEscape      = regexp.MustCompile(`["\\]`)
	envEscapeValue = regexp.MustCompile(`["\\$]`)
)

// EnvLines renders ENV instructions like the reference CLI: one per variable, the value in
// double quotes with '"' and '\' escaped, and also '$' when escapeDollar is set (used for
// devcontainer.json's containerEnv; features' containerEnv may refer to ${PATH}).
func EnvLines(env []EnvVar, escapeDollar bool) string {
	re := envEscape
	if escapeDollar {
		re = envEscapeValue
	}
	lines := make([]string, len(env))
	for i, e := range env {
		lines[i] = fmt.Sprintf("ENV %s=\"%s\"", e.Name, re.ReplaceAllString(e.Value, `\$0`))
	}
	return strings.Join(lines, "\n")
}

// MetadataLabel renders the LABEL instruction for devcontainer.metadata like the reference:
// one entry per line, '"', '\' and '$' escaped. Entries are re-serialised compactly with their
// key order kept.
func MetadataLabel(entries []json.RawMessage) (string, error) {
	if len(entries) == 0 {
		return "", nil
	}
	parts := make([]string, len(entries))
	for i, e := range entries {
		v, err := decodeOrdered(e)
		if err != nil {
			return "", fmt.Errorf("metadata entry %d: %w", i, err)
		}
		parts[i] = " \\\n" + envEscapeValue.ReplaceAllString(stringify(v, 0), `\$0`)
	}
	return `LABEL devcontainer.metadata="[` + strings.Join(parts, ",") + " \\\n]\"", nil
}

// getentCommand prints a user's passwd line with getent, or from /etc/passwd without it.
func getentCommand(user string) string {
	shell := regexp.MustCompile(`['\\]`).ReplaceAllString(user, `\$0`)
	rx := strings.ReplaceAll(regexp.QuoteMeta(user), "'", `\'`)
	return fmt.Sprintf(` (command -v getent >/dev/null 2>&1 && getent passwd '%s' || grep -E '^%s|^[^:]*:[^:]*:%s:' /etc/passwd || true)`, shell, rx, rx)
}

// GenerateDockerfile returns the build that installs set onto opts.BaseImage with the classic
// builder (no BuildKit, no syntax directive, no extra build contexts): the builtin env file is
// copied and completed with the users' homes, then each feature in install order gets its
// containerEnv as ENV lines, a COPY of its folder and one RUN of its install wrapper as root.
// Everything is under ContextDir with stable names and is written deterministically by
// WriteTar, so Docker's layer cache is reused when nothing changed.
func GenerateDockerfile(set *Set, opts DockerfileOptions) (*BuildContext, error) {
	if opts.BaseImage == "" {
		return nil, fmt.Errorf("generate features Dockerfile: no base image")
	}
	if strings.Contains(opts.Prefix, "# syntax=") || strings.Contains(opts.Prefix, "#syntax=") {
		return nil, fmt.Errorf("generate features Dockerfile: the prefix has a syntax directive")
	}
	containerUser := firstNonEmpty(opts.Users.ContainerUser, "root")
	remoteUser := firstNonEmpty(opts.Users.RemoteUser, containerUser)
	imageUser := firstNonEmpty(opts.Users.ImageUser, "root")
	bc := &BuildContext{Dirs: map[string]string{}, Files: map[string][]byte{}}
	bc.Files[ContextDir+"/"+builtinEnvFile] = []byte("_CONTAINER_USER=" + containerUser + "\n_REMOTE_USER=" + remoteUser + "\n")

	var b strings.Builder
	fmt.Fprintf(&b, "ARG _DEV_CONTAINERS_BASE_IMAGE=%s\n\n", opts.BaseImage)
	if opts.Prefix != "" {
		b.WriteString(strings.TrimRight(opts.Prefix, "\n") + "\n\n")
	}
	if len(set.Features) == 0 {
		// Like the reference without features: only the metadata label is added.
		fmt.Fprintf(&b, "FROM $_DEV_CONTAINERS_BASE_IMAGE AS %s\n", TargetStage)
		label, err := MetadataLabel(opts.Metadata)
		if err != nil {
			return nil, fmt.Errorf("generate features Dockerfile: %w", err)
		}
		if label != "" {
			b.WriteString(label + "\n")
		}
		bc.Files = map[string][]byte{}
		bc.Dockerfile = []byte(b.String())
		bc.Files[DockerfilePath] = bc.Dockerfile
		return bc, nil
	}
	builtin := InstallDir + "/" + builtinEnvFile
	fmt.Fprintf(&b, `FROM $_DEV_CONTAINERS_BASE_IMAGE AS %s

USER root

COPY --chown=0:0 %s/%s %s
RUN chmod -R 0755 %s \
&& echo "_CONTAINER_USER_HOME=$(%s | cut -d: -f6)" >> %s \
&& echo "_REMOTE_USER_HOME=$(%s | cut -d: -f6)" >> %s

`, TargetStage, ContextDir, builtinEnvFile, builtin, InstallDir, getentCommand(containerUser), builtin, getentCommand(remoteUser), builtin)

	for _, f := range set.Features {
		cid := f.ConsecutiveID()
		src := ContextDir + "/" + cid
		dst := InstallDir + "/" + cid
		bc.Dirs[src] = f.Dir
		bc.Files[src+"/devcontainer-features.env"] = f.EnvFile()
		bc.Files[src+"/devcontainer-features-install.sh"] = InstallWrapper(f)
		if env := EnvLines(f.Metadata.ContainerEnv, false); env != "" {
			b.WriteString(env + "\n")
		}
		fmt.Fprintf(&b, `COPY --chown=0:0 %s %s
RUN chmod -R 0755 %s \
&& cd %s \
&& chmod +x ./devcontainer-features-install.sh \
&& ./devcontainer-features-install.sh

`, src, dst, dst, dst)
	}
	fmt.Fprintf(&b, "ARG _DEV_CONTAINERS_IMAGE_USER=%s\nUSER $_DEV_CONTAINERS_IMAGE_USER\n", imageUser)
	label, err := MetadataLabel(opts.Metadata)
	if err != nil {
		return nil, fmt.Errorf("generate features Dockerfile: %w", err)
	}
	if label != "" {
		b.WriteString("\n" + label + "\n")
	}
	if env := EnvLines(opts.ContainerEnv, true); env != "" {
		b.WriteString("\n" + env + "\n")
	}
	bc.Dockerfile = []byte(b.String())
	bc.Files[DockerfilePath] = bc.Dockerfile
	return bc, nil
}
