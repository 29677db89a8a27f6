package initcfg

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Render returns the text of a starter devcontainer.json (JSON with comments) for a project
// named name.
func Render(name, image string, lang Language, marker string, features []string) string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("// Dev container for %s, written by `mochi init`.\n", name)
	if marker != "" {
		w("// Detected: %s (found %s).\n", lang.Name, marker)
	} else {
		w("// No language detected: a generic starting point.\n")
	}
	w("// The image is a plain name that your engine resolves with its own registry settings; no\n")
	w("// registry host is written here. Language tooling is suggested below as comments: add a\n")
	w("// feature with the registry you use in front of the suggested path, or pick an image\n")
	w("// that already has the tools.\n")
	w("// Reference: the Dev Container specification (devcontainer.json properties).\n")
	w("{\n")
	w("  \"name\": %s,\n", quote(name))
	w("  \"image\": %s,\n", quote(image))
	if len(features) > 0 {
		w("  \"features\": {\n")
		for i, f := range features {
			sep := ","
			if i == len(features)-1 {
				sep = ""
			}
			w("    %s: {}%s\n", quote(f), sep)
		}
		w("  },\n")
	}
	if lang.Feature != "" {
		w("  // %s tooling: add the feature \"<registry>/%s\" to \"features\", e.g.\n", lang.Name, lang.Feature)
		w("  // \"features\": { \"<registry>/%s\": {} },\n", lang.Feature)
	}
	if len(lang.Ports) > 0 {
		ports := make([]string, len(lang.Ports))
		for i, p := range lang.Ports {
			ports[i] = fmt.Sprint(p)
		}
		w("  // \"forwardPorts\": [%s],\n", strings.Join(ports, ", "))
	} else {
		w("  // \"forwardPorts\": [],\n")
	}
	if lang.PostCreate != "" {
		w("  // \"postCreateCommand\": %s,\n", quote(lang.PostCreate))
	} else {
		w("  // \"postCreateCommand\": \"\",\n")
	}
	if len(lang.Extensions) > 0 {
		ext := make([]string, len(lang.Extensions))
		for i, e := range lang.Extensions {
			ext[i] = quote(e)
		}
		w("  // \"customizations\": { \"vscode\": { \"extensions\": [%s] } },\n", strings.Join(ext, ", "))
	}
	w("  // \"remoteUser\": \"root\"\n")
	w("}\n")
	return b.String()
}

func quote(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}
