package agent

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Port is a TCP socket listening inside the workspace.
type Port struct {
	Port int    `json:"port"`
	Addr string `json:"addr"` // the bound address: 0.0.0.0, ::, 127.0.0.1, ...
	IPv6 bool   `json:"ipv6"`
	UID  int    `json:"uid"`
}

// Loopback says whether the socket only accepts connections from inside the workspace.
func (p Port) Loopback() bool { return net.ParseIP(p.Addr).IsLoopback() }

const tcpListen = "0A"

// ListeningPorts reads tcp and tcp6 under procNet (normally /proc/net) and returns the
// listening sockets sorted by port and address. A missing tcp6 (no IPv6) is not an error.
func ListeningPorts(procNet string) ([]Port, error) {
	var ports []Port
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(procNet, name))
		if os.IsNotExist(err) && name == "tcp6" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list ports: %w", err)
		}
		ps, err := parseProcNetTCP(f, name == "tcp6")
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("list ports: %s: %w", f.Name(), err)
		}
		ports = append(ports, ps...)
	}
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Addr < ports[j].Addr
	})
	return ports, nil
}

// parseProcNetTCP parses the /proc/net/tcp format:
// "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...".
func parseProcNetTCP(r io.Reader, v6 bool) ([]Port, error) {
	var ports []Port
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if line == 1 || len(fields) < 8 || fields[3] != tcpListen {
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(fields[1], ":")
		if !ok {
			return nil, fmt.Errorf("line %d: malformed address %q", line, fields[1])
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("line %d: malformed port %q", line, hexPort)
		}
		ip, err := parseProcIP(hexAddr)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		uid, _ := strconv.Atoi(fields[7])
		ports = append(ports, Port{Port: int(port), Addr: ip.String(), IPv6: v6, UID: uid})
	}
	return ports, sc.Err()
}

// parseProcIP decodes an address as the kernel prints it: 32-bit words in host (little
// endian) order.
func parseProcIP(s string) (net.IP, error) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, fmt.Errorf("malformed address %q", s)
	}
	ip := make(net.IP, len(b))
	for i := 0; i < len(b); i += 4 {
		binary.BigEndian.PutUint32(ip[i:], binary.LittleEndian.Uint32(b[i:]))
	}
	return ip, nil
}
