package dockerfile

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// physLine is one physical line of the file: its text without the line break and the byte range
// [start, end) it occupies in the input (end includes the line break).
type physLine struct {
	text       string
	start, end int
}

// splitLines cuts data into physical lines. A "\r" before "\n" is not part of the text; a UTF-8
// byte-order mark at the start is skipped.
func splitLines(data []byte) []physLine {
	var lines []physLine
	pos := 0
	if bytes.HasPrefix(data, utf8BOM) {
		pos = len(utf8BOM)
	}
	for pos < len(data) {
		end := len(data)
		next := len(data)
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			end = pos + i
			next = end + 1
		}
		text := strings.TrimSuffix(string(data[pos:end]), "\r")
		lines = append(lines, physLine{text: text, start: pos, end: next})
		pos = next
	}
	return lines
}

// directiveRE matches the text of a parser directive after its leading "#".
var directiveRE = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`)

// knownDirectives are the directives BuildKit honours; any other "# key=value" line ends the
// directive block, like any comment, blank line or instruction.
var knownDirectives = map[string]bool{"syntax": true, "escape": true, "check": true}

// directiveAt reports whether line is a parser directive and returns its lower-case name and value.
// Leading white space before "#" is tolerated (the reference CLI tolerates it as well).
func directiveAt(line string) (name, value string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), "#")
	if !ok {
		return "", "", false
	}
	m := directiveRE.FindStringSubmatch(strings.TrimLeft(rest, " \t"))
	if m == nil || !knownDirectives[strings.ToLower(m[1])] {
		return "", "", false
	}
	return strings.ToLower(m[1]), m[2], true
}

// directiveBlock returns the index of the first line after the directive block (a "#!" first line
// is skipped, as BuildKit does when it looks for the syntax directive).
func directiveBlock(lines []physLine) (first, end int) {
	if len(lines) > 0 && strings.HasPrefix(lines[0].text, "#!") {
		first = 1
	}
	end = first
	for end < len(lines) {
		if _, _, ok := directiveAt(lines[end].text); !ok {
			break
		}
		end++
	}
	return first, end
}

// parseDirectives reads the directive block. The returned index is where instructions start
// (directive lines are comments for the instruction parser, so starting at the block is fine too).
func parseDirectives(lines []physLine) (int, []Directive, error) {
	first, end := directiveBlock(lines)
	var dirs []Directive
	seen := map[string]bool{}
	for i := first; i < end; i++ {
		name, value, _ := directiveAt(lines[i].text)
		if seen[name] {
			return 0, nil, fmt.Errorf("line %d: only one %s parser directive can be used", i+1, name)
		}
		seen[name] = true
		if name == "escape" && value != "\\" && value != "`" {
			return 0, nil, fmt.Errorf("line %d: invalid escape token %q does not match ` or \\", i+1, value)
		}
		dirs = append(dirs, Directive{Name: name, Value: value, Line: i + 1})
	}
	return end, dirs, nil
}

// logicalLine is one instruction's text with continuations joined; line is 1-based and start is
// the byte offset of its first physical line.
type logicalLine struct {
	text  string
	line  int
	start int
}

func isCommentLine(s string) bool {
	return strings.HasPrefix(strings.TrimLeft(s, " \t"), "#")
}

// trimContinuation removes a trailing escape character (followed only by blanks) and reports
// whether there was one.
func trimContinuation(s string, escape rune) (string, bool) {
	t := strings.TrimRight(s, " \t")
	if strings.HasSuffix(t, string(escape)) {
		return strings.TrimSuffix(t, string(escape)), true
	}
	return s, false
}

// heredocRE finds here-document markers such as <<EOF, <<-EOF, <<"EOF" in RUN, COPY and ADD.
var heredocRE = regexp.MustCompile(`<<(-?)(?:"([A-Za-z_][A-Za-z0-9_]*)"|'([A-Za-z_][A-Za-z0-9_]*)'|([A-Za-z_][A-Za-z0-9_]*))`)

// logicalLines joins continuation lines, drops comments and blank lines, and skips the bodies of
// here-documents so that their lines are never mistaken for instructions. offset is the index of
// lines[0] in the whole file.
func logicalLines(lines []physLine, offset int, escape rune) []logicalLine {
	var out []logicalLine
	for i := 0; i < len(lines); i++ {
		first := strings.TrimLeft(lines[i].text, " \t")
		if first == "" || isCommentLine(first) {
			continue
		}
		ll := logicalLine{line: offset + i + 1, start: lines[i].start}
		text, cont := trimContinuation(first, escape)
		for cont && i+1 < len(lines) {
			i++
			next := lines[i].text
			if isCommentLine(next) || strings.TrimSpace(next) == "" {
				continue
			}
			var part string
			part, cont = trimContinuation(next, escape)
			text += part
		}
		ll.text = text
		out = append(out, ll)
		i = skipHeredocs(lines, i, text)
	}
	return out
}

// skipHeredocs returns the index of the last line consumed by the here-documents that the
// instruction text opens (or i when it opens none).
func skipHeredocs(lines []physLine, i int, text string) int {
	kw, _, _ := strings.Cut(strings.TrimSpace(text), " ")
	switch strings.ToUpper(kw) {
	case "RUN", "COPY", "ADD":
	default:
		return i
	}
	for _, m := range heredocRE.FindAllStringSubmatch(text, -1) {
		word := m[2] + m[3] + m[4]
		stripTabs := m[1] == "-"
		for i+1 < len(lines) {
			i++
			body := lines[i].text
			if stripTabs {
				body = strings.TrimLeft(body, "\t")
			}
			if body == word {
				break
			}
		}
	}
	return i
}
