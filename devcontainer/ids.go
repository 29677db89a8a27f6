package devcontainer

// Default id label names the reference puts on every dev container.
const (
	LabelLocalFolder = "devcontainer.local_folder"
	LabelConfigFile  = "devcontainer.config_file"
	LabelMetadata    = "devcontainer.metadata"
)

// DevcontainerID is the reference's ${devcontainerId} for a set of id labels.
func DevcontainerID(labels map[string]string) string {
	return ""
}

// IDLabels are the default id labels for a workspace folder and configuration file.
func IDLabels(localFolder, configFile string) map[string]string {
	return map[string]string{LabelLocalFolder: localFolder, LabelConfigFile: configFile}
}

// ImageName is the reference's image name for a workspace folder: vsc-<basename>-<sha256>.
func ImageName(localFolder string) string {
	return ""
}
