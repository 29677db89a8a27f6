package lxc

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
)

// lineLogger logs what an attached process writes to stderr, one record per line.
type lineLogger struct {
	log       *slog.Logger
	container string
	cmd       string
	mu        sync.Mutex
	buf       []byte
}

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.emit(string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

func (l *lineLogger) emit(line string) {
	l.log.Info("attached process stderr", "container", l.container, "cmd", l.cmd, "line", strings.TrimRight(line, "\r"))
}
