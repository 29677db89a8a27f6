package devcontainer

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The default id labels the reference puts on every dev container (the metadata label is
// MetadataLabel).
const (
	// LabelLocalFolder holds the absolute host workspace folder.
	LabelLocalFolder = "devcontainer.local_folder"
	// LabelConfigFile holds the absolute path of the configuration file.
	LabelConfigFile = "devcontainer.config_file"
)

// DevcontainerID is the reference's ${devcontainerId} for a set of id labels: the SHA-256
// of the labels as compact JSON with sorted keys, written in base 32 (digits 0-9a-v) and
// left-padded with zeros to 52 characters.
func DevcontainerID(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsString(k))
		b.WriteByte(':')
		b.Write(jsString(labels[k]))
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	id := new(big.Int).SetBytes(sum[:]).Text(32)
	return strings.Repeat("0", 52-len(id)) + id
}

// IDLabels are the default id labels for a workspace folder and configuration file (both
// absolute), which the reference uses to find a workspace's container.
func IDLabels(localFolder, configFile string) map[string]string {
	return map[string]string{LabelLocalFolder: localFolder, LabelConfigFile: configFile}
}

// ImageName is the name the reference gives an image it builds for a workspace folder:
// vsc-<basename>-<sha256 hex of the path>, sanitised like its toDockerImageName.
func ImageName(localFolder string) string {
	sum := sha256.Sum256([]byte(localFolder))
	return DockerImageName("vsc-" + filepath.Base(localFolder) + "-" + hex.EncodeToString(sum[:]))
}

var (
	imageNameInvalid  = regexp.MustCompile(`[^a-z0-9._-]+`)
	imageNameSepRun   = regexp.MustCompile(`(\.[._-]|_[.-]|__[._-]|-+[._])[._-]*`)
	imageNameSepFirst = regexp.MustCompile(`^(\.[._-]|_[.-]|__[._-]|-+[._])`)
)

// DockerImageName lower-cases name, drops characters Docker does not allow and collapses
// separator runs the way the reference's toDockerImageName does.
func DockerImageName(name string) string {
	name = imageNameInvalid.ReplaceAllString(strings.ToLower(name), "")
	return imageNameSepRun.ReplaceAllStringFunc(name, func(m string) string {
		a := imageNameSepFirst.FindString(m)
		return a[:len(a)-1]
	})
}
