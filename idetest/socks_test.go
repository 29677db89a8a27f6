package idetest

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"time"
)

// dialFunc opens a connection to addr (host:port) the way a client reaches the server.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// socksDialer returns a dialFunc through the SOCKS5 proxy at proxy (no authentication), as
// `ssh -D` offers and as VS Code Remote-SSH uses it.
func socksDialer(proxy string) dialFunc {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		host, ps, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		port, err := strconv.Atoi(ps)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", proxy)
		if err != nil {
			return nil, err
		}
		if err := socksConnect(c, host, port); err != nil {
			c.Close()
			return nil, fmt.Errorf("socks connect %s via %s: %w", addr, proxy, err)
		}
		return c, nil
	}
}

func socksConnect(c net.Conn, host string, port int) error {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var hello [2]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		return err
	}
	if hello[0] != 5 || hello[1] != 0 {
		return fmt.Errorf("proxy refused no-auth: % x", hello)
	}
	req := []byte{5, 1, 0, 3, byte(len(host))}
	req = append(req, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := c.Write(req); err != nil {
		return err
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return err
	}
	if head[1] != 0 {
		return fmt.Errorf("proxy reply %d", head[1])
	}
	skip := 0
	switch head[3] {
	case 1:
		skip = 4
	case 4:
		skip = 16
	case 3:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return err
		}
		skip = int(n[0])
	}
	_, err := io.CopyN(io.Discard, c, int64(skip+2))
	return err
}

// httpGet fetches url over dial, following redirects with the cookies they set as a browser
// does (the VS Code server answers ?tkn= with a redirect that sets the vscode-tkn cookie), and
// returns the final status, the body and the cookies for url's host.
func httpGet(ctx context.Context, dial dialFunc, url string) (int, string, []*http.Cookie, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: time.Minute, Jar: jar}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), jar.Cookies(req.URL), err
}

// wsUpgrade sends the WebSocket upgrade the VS Code workbench sends for its remote connection
// (with the connection token cookie when token is set) and returns the status code, checking
// Sec-WebSocket-Accept on a 101.
func wsUpgrade(ctx context.Context, dial dialFunc, hostport, token string) (int, error) {
	c, err := dial(ctx, "tcp", hostport)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	var reconnect [16]byte
	_, _ = rand.Read(reconnect[:])
	req := "GET /?reconnectionToken=" + fmt.Sprintf("%x", reconnect) + "&reconnection=false&skipWebSocketFrames=false HTTP/1.1\r\n" +
		"Host: " + hostport + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if token != "" {
		req += "Cookie: vscode-tkn=" + token + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusSwitchingProtocols {
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			return resp.StatusCode, fmt.Errorf("Sec-WebSocket-Accept %q, want %q", got, want)
		}
		if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
			return resp.StatusCode, fmt.Errorf("Upgrade header %q", resp.Header.Get("Upgrade"))
		}
	}
	return resp.StatusCode, nil
}
