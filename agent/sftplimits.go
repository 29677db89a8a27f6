package agent

import (
	"bufio"
	"encoding/binary"
	"io"
	"sync"
)

// OpenSSH's limits@openssh.com SFTP extension, which pkg/sftp's server lacks.
//
// Without it an OpenSSH client reads and writes 32 KiB per request; told the server's
// limits it moves about 255 KiB per request, as it does with OpenSSH's own sftp-server:
// an eighth of the requests, replies and file system calls for a bulk transfer. The
// extension is added around pkg/sftp's server: the VERSION reply gains the extension's
// name, and the client's limits request, when it comes first after INIT (as OpenSSH's
// client sends it, waiting for the answer), is answered here and never reaches pkg/sftp.
// A limits request at any other time goes on to pkg/sftp, which refuses it: an answer
// written from here then could land between the two writes of one of its packets.

const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpExtended      = 200
	fxpExtendedReply = 201

	limitsExtension = "limits@openssh.com"
	// sftpMaxPacket is pkg/sftp's largest packet (its buffers' size); reads and writes
	// leave room for a packet's header, as OpenSSH's limits do.
	sftpMaxPacket = 256 << 10
	sftpMaxData   = sftpMaxPacket - 1024
)

// limitsReader passes the client's packets on to pkg/sftp, answering a limits request
// that comes right after INIT itself.
type limitsReader struct {
	r      *bufio.Reader
	reply  io.Writer // the client, where pkg/sftp's replies go too
	left   int       // bytes of the current packet still to pass on
	passed int       // packets passed on so far
}

func (l *limitsReader) Read(p []byte) (int, error) {
	for l.left == 0 {
		hdr, err := l.r.Peek(5)
		if err != nil {
			if len(hdr) == 0 {
				return 0, err
			}
			l.left = len(hdr) // a truncated packet: pkg/sftp reports it
			break
		}
		size := 4 + int(binary.BigEndian.Uint32(hdr))
		if l.passed == 1 && hdr[4] == fxpExtended && size <= 1024 {
			if pkt, err := l.r.Peek(size); err == nil {
				if id, name, ok := extendedRequest(pkt[5:]); ok && name == limitsExtension {
					l.r.Discard(size)
					if _, err := l.reply.Write(limitsReply(id)); err != nil {
						return 0, err
					}
					continue
				}
			}
		}
		l.left = size
		l.passed++
	}
	if len(p) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= n
	return n, err
}

// extendedRequest parses the id and request name of an SSH_FXP_EXTENDED packet's body.
func extendedRequest(b []byte) (uint32, string, bool) {
	if len(b) < 8 {
		return 0, "", false
	}
	id, n := binary.BigEndian.Uint32(b), int(binary.BigEndian.Uint32(b[4:]))
	if n > len(b)-8 {
		return 0, "", false
	}
	return id, string(b[8 : 8+n]), true
}

// limitsReply is the SSH_FXP_EXTENDED_REPLY to a limits request: the largest packet, read
// and write, and no limit on open handles (0).
func limitsReply(id uint32) []byte {
	b := make([]byte, 4, 4+1+4+4*8)
	b = append(b, fxpExtendedReply)
	b = binary.BigEndian.AppendUint32(b, id)
	for _, v := range []uint64{sftpMaxPacket, sftpMaxData, sftpMaxData, 0} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

// versionWriter adds the limits extension to pkg/sftp's VERSION reply, its first packet,
// then passes everything on.
type versionWriter struct {
	w    io.Writer
	mu   sync.Mutex
	head []byte // the first packet, while incomplete
	done bool
}

func (v *versionWriter) Write(p []byte) (int, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done {
		return v.w.Write(p)
	}
	v.head = append(v.head, p...)
	if len(v.head) < 4 {
		return len(p), nil
	}
	size := 4 + int(binary.BigEndian.Uint32(v.head))
	if len(v.head) < size {
		return len(p), nil
	}
	v.done = true
	pkt, rest := append([]byte(nil), v.head[:size]...), v.head[size:]
	if len(pkt) >= 5 && pkt[4] == fxpVersion {
		pkt = appendString(appendString(pkt, limitsExtension), "1")
		binary.BigEndian.PutUint32(pkt, uint32(len(pkt)-4))
	}
	if _, err := v.w.Write(append(pkt, rest...)); err != nil {
		return 0, err
	}
	v.head = nil
	return len(p), nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
