package dockerfile

import (
	"fmt"
	"strings"
	"unicode"
)

// splitWords splits instruction arguments on blanks outside quotes. Quotes and escape characters
// stay in the words: they are handled when a word is expanded.
func splitWords(s string, escape rune) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == escape && i+1 < len(rs) && quote != '\'':
			cur.WriteRune(c)
			cur.WriteRune(rs[i+1])
			i++
			inWord = true
		case quote != 0:
			cur.WriteRune(c)
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
			cur.WriteRune(c)
			inWord = true
		case unicode.IsSpace(c):
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// lookupFunc returns a variable's value and whether it is set.
type lookupFunc func(name string) (string, bool)

// expand performs the variable expansion and quote removal Docker applies to an instruction
// word: $VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word}, ${VAR:?msg},
// single and double quotes and the escape character. An unterminated quote runs to the end of
// the word (the reference CLI tolerates stray quotes, so this does too).
func expand(word string, escape rune, lookup lookupFunc) (string, error) {
	x := &expander{src: []rune(word), escape: escape, lookup: lookup}
	out, err := x.run(false)
	if err != nil {
		return "", fmt.Errorf("expand %q: %w", word, err)
	}
	return out, nil
}

type expander struct {
	src    []rune
	pos    int
	escape rune
	lookup lookupFunc
}

func (x *expander) peek() (rune, bool) {
	if x.pos < len(x.src) {
		return x.src[x.pos], true
	}
	return 0, false
}

// run processes unquoted text up to the end, or up to an unquoted "}" when inBraces is set (the
// word of a ${VAR:-word} form). The "}" is left unread.
func (x *expander) run(inBraces bool) (string, error) {
	var b strings.Builder
	for {
		c, ok := x.peek()
		if !ok || (inBraces && c == '}') {
			return b.String(), nil
		}
		x.pos++
		switch c {
		case x.escape:
			if n, ok := x.peek(); ok {
				b.WriteRune(n)
				x.pos++
			} else {
				b.WriteRune(c)
			}
		case '\'':
			for {
				n, ok := x.peek()
				if !ok {
					break
				}
				x.pos++
				if n == '\'' {
					break
				}
				b.WriteRune(n)
			}
		case '"':
			if err := x.doubleQuoted(&b); err != nil {
				return "", err
			}
		case '$':
			v, err := x.dollar()
			if err != nil {
				return "", err
			}
			b.WriteString(v)
		default:
			b.WriteRune(c)
		}
	}
}

func (x *expander) doubleQuoted(b *strings.Builder) error {
	for {
		c, ok := x.peek()
		if !ok {
			return nil
		}
		x.pos++
		switch c {
		case '"':
			return nil
		case x.escape:
			n, ok := x.peek()
			if ok && (n == '"' || n == '$' || n == x.escape) {
				b.WriteRune(n)
				x.pos++
			} else {
				b.WriteRune(c)
			}
		case '$':
			v, err := x.dollar()
			if err != nil {
				return err
			}
			b.WriteString(v)
		default:
			b.WriteRune(c)
		}
	}
}

func isNameRune(c rune) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (x *expander) name() string {
	start := x.pos
	for x.pos < len(x.src) && isNameRune(x.src[x.pos]) {
		x.pos++
	}
	return string(x.src[start:x.pos])
}

// dollar expands what follows a "$" that has just been read.
func (x *expander) dollar() (string, error) {
	c, ok := x.peek()
	if !ok {
		return "$", nil
	}
	if c != '{' {
		name := x.name()
		if name == "" {
			return "$", nil
		}
		v, _ := x.lookup(name)
		return v, nil
	}
	x.pos++ // {
	name := x.name()
	if name == "" {
		return "", fmt.Errorf("bad substitution at offset %d", x.pos)
	}
	value, set := x.lookup(name)
	c, ok = x.peek()
	if !ok {
		return "", fmt.Errorf("missing '}' after ${%s", name)
	}
	if c == '}' {
		x.pos++
		return value, nil
	}
	colon := false
	if c == ':' {
		colon = true
		x.pos++
		c, ok = x.peek()
	}
	if !ok || (c != '-' && c != '+' && c != '?') {
		return "", fmt.Errorf("unsupported modifier in ${%s…}", name)
	}
	op := c
	x.pos++
	word, err := x.run(true)
	if err != nil {
		return "", err
	}
	if c, ok := x.peek(); !ok || c != '}' {
		return "", fmt.Errorf("missing '}' after ${%s", name)
	}
	x.pos++
	present := set
	if colon {
		present = set && value != ""
	}
	switch op {
	case '-':
		if present {
			return value, nil
		}
		return word, nil
	case '+':
		if present {
			return word, nil
		}
		return "", nil
	default: // '?'
		if present {
			return value, nil
		}
		return "", fmt.Errorf("%s: %s", name, word)
	}
}
