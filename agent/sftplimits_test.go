package agent

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func sftpPacket(typ byte, body ...[]byte) []byte {
	b := []byte{0, 0, 0, 0, typ}
	for _, x := range body {
		b = append(b, x...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func u32(v uint32) []byte  { return binary.BigEndian.AppendUint32(nil, v) }
func sstr(s string) []byte { return appendString(nil, s) }

// The limits request that follows INIT is answered and kept from pkg/sftp; every other
// packet, a later limits request too, passes on byte for byte.
func TestLimitsReader(t *testing.T) {
	initPkt := sftpPacket(fxpInit, u32(3))
	limits := sftpPacket(fxpExtended, u32(7), sstr(limitsExtension))
	open := sftpPacket(3, u32(8), sstr("/tmp/f"), u32(1), u32(0))
	later := sftpPacket(fxpExtended, u32(9), sstr(limitsExtension))
	in := bytes.Join([][]byte{initPkt, limits, open, later}, nil)
	var replies bytes.Buffer
	l := &limitsReader{r: bufio.NewReader(bytes.NewReader(in)), reply: &replies}
	got, err := io.ReadAll(l)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Join([][]byte{initPkt, open, later}, nil); !bytes.Equal(got, want) {
		t.Errorf("passed on %x\nwant      %x", got, want)
	}
	want := sftpPacket(fxpExtendedReply, u32(7),
		binary.BigEndian.AppendUint64(nil, sftpMaxPacket), binary.BigEndian.AppendUint64(nil, sftpMaxData),
		binary.BigEndian.AppendUint64(nil, sftpMaxData), binary.BigEndian.AppendUint64(nil, 0))
	if !bytes.Equal(replies.Bytes(), want) {
		t.Errorf("reply %x\nwant  %x", replies.Bytes(), want)
	}
}

// The VERSION reply gains the extension even when written in pieces; what follows it is
// untouched.
func TestVersionWriter(t *testing.T) {
	version := sftpPacket(fxpVersion, u32(3), sstr("statvfs@openssh.com"), sstr("2"))
	next := sftpPacket(101, u32(1), u32(0))
	var out bytes.Buffer
	v := &versionWriter{w: &out}
	all := append(append([]byte(nil), version...), next...)
	for _, part := range [][]byte{all[:3], all[3:9], all[9:]} {
		if n, err := v.Write(part); n != len(part) || err != nil {
			t.Fatalf("write: %d, %v", n, err)
		}
	}
	want := append(sftpPacket(fxpVersion, u32(3), sstr("statvfs@openssh.com"), sstr("2"), sstr(limitsExtension), sstr("1")), next...)
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("wrote %x\nwant  %x", out.Bytes(), want)
	}
}

// OpenSSH's sftp client against the agent's sftp server (this test binary, re-executed as
// the agent does): it learns the limits and moves a file each way in 255 KiB requests,
// byte for byte.
func TestSFTPLimitsWithOpenSSH(t *testing.T) {
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		t.Skip("needs OpenSSH's sftp client")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	batch := filepath.Join(dir, "batch")
	script := "put " + src + " " + filepath.Join(dir, "up") + "\nget " + filepath.Join(dir, "up") + " " + filepath.Join(dir, "down") + "\n"
	if err := os.WriteFile(batch, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sftpBin, "-vvv", "-D", self, "-b", batch)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), reexecEnv+"="+reexecSFTP)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Received limits reply") {
		t.Errorf("the client did not get the limits:\n%s", out)
	}
	for _, f := range []string{"up", "down"} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes sent", f, len(got), err, len(data))
		}
	}
}
