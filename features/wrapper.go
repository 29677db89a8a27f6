package features

import (
	"fmt"
	"strings"
)

// shellSingle escapes s for use inside single quotes.
func shellSingle(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

// InstallWrapper returns devcontainer-features-install.sh for a feature: a POSIX sh script
// that prints a banner (name, description, id, version, documentation, options and any
// deprecation or rename warning), sources ../devcontainer-features.builtin.env and
// ./devcontainer-features.env with auto-export, runs ./install.sh, and on failure prints
// `ERROR: Feature "<name>" (<id>) failed to install!` with the documentation link.
func InstallWrapper(f *Feature) []byte {
	m := f.Metadata
	id := shellSingle(WithoutVersion(f.UserID))
	name := shellSingle(firstNonEmpty(m.Name, "Unknown"))
	doc := shellSingle(m.DocumentationURL)
	var opts []string
	for _, line := range strings.Split(string(f.EnvFile()), "\n") {
		if line != "" {
			opts = append(opts, "    "+line)
		}
	}
	var warn string
	if m.Deprecated {
		warn += fmt.Sprintf("(!) WARNING: Using the deprecated Feature \"%s\". This Feature will no longer receive any further updates/support.\n", shellSingle(m.ID))
	}
	if len(m.LegacyIDs) > 0 && m.CurrentID != "" && m.ID != m.CurrentID {
		warn += fmt.Sprintf("(!) WARNING: This feature has been renamed. Please update the reference in devcontainer.json to \"%s\".", shellSingle(m.CurrentID))
	}
	echoWarn := ""
	if warn != "" {
		echoWarn = "echo '" + warn + "'"
	}
	trouble := ""
	if doc != "" {
		trouble = " Look at the documentation at " + doc + " for help troubleshooting this error."
	}
	var b strings.Builder
	fmt.Fprintf(&b, `#!/bin/sh
set -e

on_exit () {
	[ $? -eq 0 ] && exit
	echo 'ERROR: Feature "%s" (%s) failed to install!%s'
}

trap on_exit EXIT

echo ===========================================================================
%s
echo 'Feature       : %s'
echo 'Description   : %s'
echo 'Id            : %s'
echo 'Version       : %s'
echo 'Documentation : %s'
echo 'Options       :'
echo '%s'
echo ===========================================================================

set -a
. ../devcontainer-features.builtin.env
. ./devcontainer-features.env
set +a

chmod +x ./install.sh
./install.sh
`, name, id, trouble, echoWarn, name, shellSingle(m.Description), id, shellSingle(m.Version), doc, shellSingle(strings.Join(opts, "\n")))
	return []byte(b.String())
}
