package agent

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Terminal mode opcodes of RFC 4254 section 8 (and RFC 8160 for IUTF8), mapped to
// termios: a control character index, or a flag word and bit.
var (
	modeCC = map[byte]int{
		1: unix.VINTR, 2: unix.VQUIT, 3: unix.VERASE, 4: unix.VKILL, 5: unix.VEOF,
		6: unix.VEOL, 7: unix.VEOL2, 8: unix.VSTART, 9: unix.VSTOP, 10: unix.VSUSP,
		12: unix.VREPRINT, 13: unix.VWERASE, 14: unix.VLNEXT, 18: unix.VDISCARD,
	}
	modeFlag = map[byte]struct {
		word byte // 'i', 'l', 'o', 'c'
		bit  uint32
	}{
		30: {'i', unix.IGNPAR}, 31: {'i', unix.PARMRK}, 32: {'i', unix.INPCK}, 33: {'i', unix.ISTRIP},
		34: {'i', unix.INLCR}, 35: {'i', unix.IGNCR}, 36: {'i', unix.ICRNL}, 37: {'i', unix.IUCLC},
		38: {'i', unix.IXON}, 39: {'i', unix.IXANY}, 40: {'i', unix.IXOFF}, 41: {'i', unix.IMAXBEL},
		42: {'i', unix.IUTF8},
		50: {'l', unix.ISIG}, 51: {'l', unix.ICANON}, 52: {'l', unix.XCASE}, 53: {'l', unix.ECHO},
		54: {'l', unix.ECHOE}, 55: {'l', unix.ECHOK}, 56: {'l', unix.ECHONL}, 57: {'l', unix.NOFLSH},
		58: {'l', unix.TOSTOP}, 59: {'l', unix.IEXTEN}, 60: {'l', unix.ECHOCTL}, 61: {'l', unix.ECHOKE},
		62: {'l', unix.PENDIN},
		70: {'o', unix.OPOST}, 71: {'o', unix.OLCUC}, 72: {'o', unix.ONLCR}, 73: {'o', unix.OCRNL},
		74: {'o', unix.ONOCR}, 75: {'o', unix.ONLRET},
		92: {'c', unix.PARENB}, 93: {'c', unix.PARODD},
	}
)

const (
	opEnd    = 0
	opCS7    = 90
	opCS8    = 91
	opISpeed = 128
	opOSpeed = 129
)

// applyModes sets the terminal modes of a pty-req on tty. The modes are applied as sent:
// the agent never rewrites output itself (no "\n" to "\r\n"), the terminal does.
func applyModes(tty *os.File, modes []byte) error {
	if len(modes) == 0 {
		return nil
	}
	fd := int(tty.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("get terminal modes: %w", err)
	}
	for len(modes) > 0 {
		op := modes[0]
		if op == opEnd || op >= 160 {
			break
		}
		if len(modes) < 5 {
			return fmt.Errorf("parse terminal modes: truncated opcode %d", op)
		}
		v := binary.BigEndian.Uint32(modes[1:5])
		modes = modes[5:]
		if i, ok := modeCC[op]; ok {
			t.Cc[i] = byte(v)
			continue
		}
		if f, ok := modeFlag[op]; ok {
			w := map[byte]*uint32{'i': &t.Iflag, 'l': &t.Lflag, 'o': &t.Oflag, 'c': &t.Cflag}[f.word]
			if v != 0 {
				*w |= f.bit
			} else {
				*w &^= f.bit
			}
			continue
		}
		switch op {
		case opCS7, opCS8:
			if v != 0 {
				t.Cflag &^= unix.CSIZE
				if op == opCS7 {
					t.Cflag |= unix.CS7
				} else {
					t.Cflag |= unix.CS8
				}
			}
		case opISpeed, opOSpeed:
			// Line speeds mean nothing on a pty.
		}
	}
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("set terminal modes: %w", err)
	}
	return nil
}
