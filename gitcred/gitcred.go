// Package gitcred lets git inside a workspace use the host's git credentials: a small
// server on the host answers credential requests on a unix socket in the workspace's run
// folder by running the host's `git credential fill|approve|reject`, and the in-container
// client (`mochi git-credential get|store|erase`, a git credential helper) forwards git's
// request to it.
//
// The wire format is git's credential protocol: the client sends the operation on the
// first line ("get", "store" or "erase"), then the attribute lines git gave it, then closes
// its writing side; the server replies with the attribute lines of the answer (only for
// get) and closes the connection.
package gitcred

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SocketName is the socket's file name in a workspace's run folder.
const SocketName = "git-credential.sock"

// ContainerSocket is where the socket appears inside a workspace (the run folder is
// mounted at /.mochi/run).
const ContainerSocket = "/.mochi/run/" + SocketName

// HelperCommand is the credential.helper value that makes git in a workspace use the client.
const HelperCommand = "/.mochi/bin/mochi git-credential"

// maxRequest bounds a request: git's credential descriptions are a few hundred bytes.
const maxRequest = 64 << 10

// ErrBadRequest is a request the server refuses.
var ErrBadRequest = errors.New("bad git credential request")

// gitOp maps the helper operations to the `git credential` subcommands that answer them.
var gitOp = map[string]string{"get": "fill", "store": "approve", "erase": "reject"}

// request is one parsed credential request.
type request struct {
	op    string // get, store or erase
	attrs []byte // attribute lines, each ending in \n
}

// readRequest reads and checks a request from r.
func readRequest(r io.Reader) (*request, error) {
	br := bufio.NewReader(io.LimitReader(r, maxRequest+1))
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	if len(data) > maxRequest {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadRequest, maxRequest)
	}
	op, rest, _ := bytes.Cut(data, []byte("\n"))
	req := &request{op: strings.TrimSpace(string(op))}
	if _, ok := gitOp[req.op]; !ok {
		return nil, fmt.Errorf("%w: operation %q (want get, store or erase)", ErrBadRequest, req.op)
	}
	var out bytes.Buffer
	for _, line := range bytes.Split(rest, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			// A blank line ends the description.
			break
		}
		if bytes.IndexByte(line, 0) >= 0 || !bytes.Contains(line, []byte("=")) {
			return nil, fmt.Errorf("%w: attribute line %q", ErrBadRequest, line)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	req.attrs = out.Bytes()
	return req, nil
}

// encodeRequest is the client side of readRequest.
func encodeRequest(op string, attrs []byte) []byte {
	var b bytes.Buffer
	b.WriteString(op)
	b.WriteByte('\n')
	for _, line := range bytes.Split(attrs, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
