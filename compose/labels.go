package compose

// The labels Docker Compose v2 puts on the resources of a project; mochi writes the same
// ones so that a project started by either tool is found and reused by the other.
const (
	LabelProject         = "com.docker.compose.project"
	LabelService         = "com.docker.compose.service"
	LabelConfigHash      = "com.docker.compose.config-hash"
	LabelContainerNumber = "com.docker.compose.container-number"
	LabelVolume          = "com.docker.compose.volume"
	LabelNetwork         = "com.docker.compose.network"
	LabelWorkingDir      = "com.docker.compose.project.working_dir"
	LabelConfigFiles     = "com.docker.compose.project.config_files"
	LabelEnvironmentFile = "com.docker.compose.project.environment_file"
	LabelOneoff          = "com.docker.compose.oneoff"
	LabelImage           = "com.docker.compose.image"
	LabelDependsOn       = "com.docker.compose.depends_on"
	LabelVersion         = "com.docker.compose.version"
	LabelReplace         = "com.docker.compose.replace"
)

// ComposeVersion is the Docker Compose release whose behaviour (names, labels, hashes) mochi
// reproduces; it is written into the com.docker.compose.version label.
const ComposeVersion = "2.40.3"

// separator joins project, service and index in resource names, as Compose >= 2.8 does.
const separator = "-"
