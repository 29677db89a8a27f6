package devcontainer

import (
	"strconv"
	"strings"
)

// Position returns where a property's value stands in the file: path is a property as
// errors name it ("image", "appPort[0]", "mounts[1].target", "build.args.X"). ok is false
// when the config was not read from a file or the property is absent.
func (c *Config) Position(path string) (line, col int, ok bool) {
	if c == nil || c.tree == nil || c.src == nil {
		return 0, 0, false
	}
	n := c.tree
	for _, part := range splitPath(path) {
		if n == nil {
			return 0, 0, false
		}
		if i, err := strconv.Atoi(part); err == nil && n.kind == '[' {
			if i < 0 || i >= len(n.elem) {
				return 0, 0, false
			}
			n = n.elem[i]
			continue
		}
		n = n.get(part)
	}
	if n == nil {
		return 0, 0, false
	}
	line, col = lineCol(c.src, n.off)
	return line, col, true
}

// At prefixes a message with FILE:LINE:COL of the property (or just FILE when unknown), the
// form every configuration error takes.
func (c *Config) At(path string) string {
	if line, col, ok := c.Position(path); ok {
		return c.File + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
	}
	return c.File
}

// splitPath splits "a.b[2].c" into a, b, 2, c.
func splitPath(p string) []string {
	p = strings.ReplaceAll(p, "[", ".")
	p = strings.ReplaceAll(p, "]", "")
	return strings.FieldsFunc(p, func(r rune) bool { return r == '.' })
}
