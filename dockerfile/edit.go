package dockerfile

import (
	"bytes"
	"fmt"
)

// Syntax returns the value of the file's "# syntax=" directive (the frontend image BuildKit
// would pull) and whether it has one.
func (f *File) Syntax() (string, bool) {
	return f.Directive("syntax")
}

// HasSyntax reports whether data starts with a "# syntax=" parser directive.
func HasSyntax(data []byte) bool {
	lines := splitLines(data)
	first, end := directiveBlock(lines)
	for i := first; i < end; i++ {
		if name, _, _ := directiveAt(lines[i].text); name == "syntax" {
			return true
		}
	}
	return false
}

// StripSyntax returns data without its "# syntax=" parser directive line, so that a build of it
// never makes BuildKit pull a frontend image. Other directives (escape, check) and every other
// byte are kept. When there is nothing to strip, data itself is returned.
func StripSyntax(data []byte) []byte {
	lines := splitLines(data)
	first, end := directiveBlock(lines)
	for i := first; i < end; i++ {
		if name, _, _ := directiveAt(lines[i].text); name == "syntax" {
			out := make([]byte, 0, len(data))
			out = append(out, data[:lines[i].start]...)
			return append(out, data[lines[i].end:]...)
		}
	}
	return data
}

// NameFinalStage makes sure the last stage of the Dockerfile has a name. If it has one, that name
// is returned with data unchanged; otherwise " AS <name>" is inserted right after the image of the
// last FROM instruction (keeping the rest of the line, comments included) and name is returned
// with the edited text.
func NameFinalStage(data []byte, name string) (string, []byte, error) {
	f, err := Parse(data)
	if err != nil {
		return "", nil, err
	}
	st, err := f.Stage("")
	if err != nil {
		return "", nil, err
	}
	if st.Name != "" {
		return st.Name, data, nil
	}
	at, ok := imageEnd(data, st.start, f.Escape)
	if !ok {
		return "", nil, fmt.Errorf("line %d: FROM: %w", st.Line, ErrMissingImage)
	}
	out := make([]byte, 0, len(data)+len(name)+4)
	out = append(out, data[:at]...)
	out = append(out, " AS "+name...)
	out = append(out, data[at:]...)
	return name, out, nil
}

// imageEnd returns the byte offset just after the image word of the FROM instruction starting at
// offset start: the first word after the keyword that is not a --flag.
func imageEnd(data []byte, start int, escape rune) (int, bool) {
	word := 0 // index of the word being scanned: 0 = FROM
	inWord := false
	isFlag := false
	var quote byte
	for i := start; i < len(data); i++ {
		c := data[i]
		if quote == 0 && rune(c) == escape {
			if j, ok := continuationEnd(data, i+1); ok {
				i = j - 1
				continue
			}
		}
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if inWord {
				if word > 0 && !isFlag {
					return i, true
				}
				word++
				inWord = false
			}
			if c == '\n' {
				return 0, false
			}
			continue
		}
		if !inWord {
			inWord = true
			isFlag = bytes.HasPrefix(data[i:], []byte("--"))
		}
		if c == '"' || c == '\'' {
			quote = c
		}
	}
	if inWord && word > 0 && !isFlag {
		return len(data), true
	}
	return 0, false
}

// continuationEnd reports whether data[i:] is blanks up to a line break (so the escape character
// before i continues the line), and returns the offset after the break.
func continuationEnd(data []byte, i int) (int, bool) {
	for ; i < len(data); i++ {
		switch data[i] {
		case ' ', '\t', '\r':
		case '\n':
			return i + 1, true
		default:
			return 0, false
		}
	}
	return 0, false
}
