package devcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/tailscale/hujson"
)

// Parse decodes devcontainer.json content. file names the file in errors (as given) and,
// made absolute, becomes Config.File. Comments and trailing commas are allowed; unknown
// properties are kept in Raw and otherwise ignored, as the reference does.
func Parse(file string, data []byte) (*Config, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	return parse(file, abs, data)
}

// Load reads and parses the devcontainer.json at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load dev container config: %w", err)
	}
	return Parse(path, data)
}

// LoadOverride reads the content of overridePath (--override-config) in place of
// configPath's, while the configuration keeps configPath as its File, so relative paths
// resolve against configPath's directory as the reference does. configPath need not exist.
func LoadOverride(configPath, overridePath string) (*Config, error) {
	data, err := os.ReadFile(overridePath)
	if err != nil {
		return nil, fmt.Errorf("load dev container config override: %w", err)
	}
	abs, err := filepath.Abs(configPath)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", overridePath, err)
	}
	return parse(overridePath, abs, data)
}

var bom = []byte("\xef\xbb\xbf")

// msgNotObject is the problem with a file whose value is not an object (the reference's
// "must contain a JSON object literal").
const msgNotObject = "dev container config must contain a JSON object literal"

// eofMessages rewrites hujson's end-of-input errors into plain words.
var eofMessages = map[string]string{
	"parsing value: unexpected EOF":              "unexpected end of file, expecting a value",
	"parsing string: unexpected EOF":             "unterminated string",
	"parsing comment: unexpected EOF":            "unterminated comment",
	"parsing object after name: unexpected EOF":  "unexpected end of file in object, expecting ':'",
	"parsing object after value: unexpected EOF": "unexpected end of file in object, expecting ',' or '}'",
	"parsing array after value: unexpected EOF":  "unexpected end of file in array, expecting ',' or ']'",
}

// hujsonPos matches the position prefix of hujson's syntax errors.
var hujsonPos = regexp.MustCompile(`^hujson: line (\d+), column (\d+): `)

// parseTree parses JSONC data into a node tree; name is used in errors.
func parseTree(name string, data []byte) (*node, error) {
	v, err := hujson.Parse(data)
	if err != nil {
		if _, err2 := hujson.Parse(append(data[:len(data):len(data)], '0')); err2 == nil {
			// Only whitespace and comments: there is no value at all.
			return nil, &Error{File: name, Line: 1, Col: 1, Msg: msgNotObject, kind: ErrInvalid}
		}
		return nil, syntaxError(name, err)
	}
	root, err := fromHuJSON(&v)
	if err != nil {
		return nil, &Error{File: name, Line: 1, Col: 1, Msg: err.Error(), kind: ErrSyntax}
	}
	return root, nil
}

func parse(name, abs string, data []byte) (*Config, error) {
	if len(data) == 0 {
		// The reference treats an empty file as a missing one.
		return nil, &NotFoundError{Path: abs}
	}
	data = bytes.TrimPrefix(data, bom)
	root, err := parseTree(name, data)
	if err != nil {
		return nil, err
	}
	if root.kind != '{' {
		line, col := lineCol(data, root.off)
		return nil, &Error{File: name, Line: line, Col: col, Msg: msgNotObject, kind: ErrInvalid}
	}
	migrateLegacy(root)
	c := &Config{File: abs}
	d := &decoder{file: name, src: data}
	d.config(c, root)
	if d.err != nil {
		return nil, d.err
	}
	c.tree = root
	c.Raw = root.value().(map[string]any)
	c.src = data
	c.name = name
	return c, nil
}

// syntaxError turns a hujson error into an *Error with the file's line and column.
func syntaxError(name string, err error) error {
	msg := err.Error()
	line, col := 1, 1
	if m := hujsonPos.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		col, _ = strconv.Atoi(m[2])
		msg = msg[len(m[0]):]
	}
	if plain, ok := eofMessages[msg]; ok {
		msg = plain
	}
	return &Error{File: name, Line: line, Col: col, Msg: msg, kind: ErrSyntax, err: errors.Unwrap(err)}
}

// lineCol converts a byte offset into a 1-based line and byte column.
func lineCol(data []byte, off int) (line, col int) {
	if off > len(data) {
		off = len(data)
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = 1 + off - (bytes.LastIndexByte(data[:off], '\n') + 1)
	return line, col
}

// Error is a problem at a place in a configuration file. It prints as
// FILE:LINE:COL: MESSAGE and matches ErrSyntax or ErrInvalid with errors.Is.
type Error struct {
	File      string
	Line, Col int
	// Path is the JSON path of the value at fault ("runArgs", "build.args.X", "mounts[2]"),
	// "" for syntax errors.
	Path string
	Msg  string
	kind error
	err  error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Is reports whether target is the error's kind (ErrSyntax or ErrInvalid).
func (e *Error) Is(target error) bool { return target == e.kind }

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.err }

// migrateLegacy moves the top-level extensions, settings and devPort into
// customizations.vscode exactly as the reference's updateFromOldProperties: extensions are
// appended, settings are merged with customizations.vscode.settings winning, devPort only
// moves when customizations.vscode.devPort is unset.
func migrateLegacy(root *node) {
	ext, settings, devPort := root.get("extensions"), root.get("settings"), root.get("devPort")
	if !truthy(ext) && !truthy(settings) && devPort == nil {
		return
	}
	cust := root.get("customizations")
	if !truthy(cust) {
		cust = &node{kind: '{', off: root.off, vals: map[string]*node{}}
		root.set("customizations", cust)
	}
	if cust.kind != '{' {
		return // not an object: the decoder reports it
	}
	vscode := cust.get("vscode")
	if !truthy(vscode) {
		vscode = &node{kind: '{', off: cust.off, vals: map[string]*node{}}
		cust.set("vscode", vscode)
	}
	if vscode.kind != '{' {
		return
	}
	if truthy(ext) {
		list := &node{kind: '[', off: ext.off}
		if prev := vscode.get("extensions"); truthy(prev) {
			list.off = prev.off
			list.elem = append(list.elem, concatItems(prev)...)
		}
		list.elem = append(list.elem, concatItems(ext)...)
		vscode.set("extensions", list)
		root.del("extensions")
	}
	if truthy(settings) {
		merged := &node{kind: '{', off: settings.off, vals: map[string]*node{}}
		for _, src := range []*node{settings, vscode.get("settings")} {
			if src != nil && src.kind == '{' {
				for _, k := range src.jsKeys() {
					merged.set(k, src.vals[k])
				}
			}
		}
		vscode.set("settings", merged)
		root.del("settings")
	}
	if devPort != nil && vscode.get("devPort") == nil {
		vscode.set("devPort", devPort)
		root.del("devPort")
	}
}

// concatItems is what Array.prototype.concat adds for n: an array's elements, else n.
func concatItems(n *node) []*node {
	if n.kind == '[' {
		return n.elem
	}
	return []*node{n}
}

// truthy is JavaScript truthiness for a JSON value (nil is undefined).
func truthy(n *node) bool {
	if n == nil {
		return false
	}
	switch n.kind {
	case 'n', 'f':
		return false
	case '"':
		return n.str != ""
	case '0':
		f, _ := strconv.ParseFloat(n.str, 64)
		return f != 0
	}
	return true
}
