package gitcred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// Forward is the in-container helper: it sends git's request for op (read from in) to the
// server at socket and copies the answer to out. A missing or unanswered socket is no
// error: git then goes on as if the helper knew nothing.
func Forward(ctx context.Context, socket, op string, in io.Reader, out io.Writer) error {
	if _, ok := gitOp[op]; !ok {
		// git may grow operations; a helper ignores those it does not know.
		return nil
	}
	attrs, err := io.ReadAll(io.LimitReader(in, maxRequest))
	if err != nil {
		return fmt.Errorf("read git's request: %w", err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reach mochi's git credential server: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write(encodeRequest(op, attrs)); err != nil {
		return fmt.Errorf("send git credential request: %w", err)
	}
	if uc, ok := c.(*net.UnixConn); ok {
		_ = uc.CloseWrite()
	}
	if _, err := io.Copy(out, io.LimitReader(c, maxRequest)); err != nil {
		return fmt.Errorf("read git credential answer: %w", err)
	}
	return nil
}
