package lxc

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// allocateIP picks a free address on the bridge's network, from the top down (lxc-net's
// dnsmasq leases are handed out from anywhere in the range, so its lease file is read too).
// The caller holds the allocation lock until the address is recorded.
func (p *Provider) allocateIP(bridgeIP net.IP, network *net.IPNet) (string, error) {
	used := map[string]bool{bridgeIP.String(): true}
	names, err := p.names()
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if r, err := p.load(n); err == nil && r.IP != "" {
			used[r.IP] = true
		}
	}
	for _, ip := range p.leasedIPs() {
		used[ip] = true
	}
	ones, bits := network.Mask.Size()
	if bits != 32 || ones > 30 {
		return "", fmt.Errorf("bridge %s: network %s is too small", p.bridge, network)
	}
	base := ipToInt(network.IP)
	size := uint32(1) << (32 - ones)
	for off := size - 2; off >= 1; off-- { // skip the network and broadcast addresses
		ip := intToIP(base + off)
		if !used[ip.String()] {
			return ip.String(), nil
		}
	}
	return "", fmt.Errorf("bridge %s: no free address in %s", p.bridge, network)
}

// leasedIPs returns the addresses lxc-net's dnsmasq leased on the bridge.
func (p *Provider) leasedIPs() []string {
	f, err := os.Open("/var/lib/misc/dnsmasq." + p.bridge + ".leases")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// expiry mac ip hostname client-id
		if fields := strings.Fields(sc.Text()); len(fields) >= 3 {
			out = append(out, fields[2])
		}
	}
	return out
}

// broadcast is the network's broadcast address (LXC computes a wrong one when not given).
func broadcast(n *net.IPNet) string {
	ones, _ := n.Mask.Size()
	return intToIP(ipToInt(n.IP) | (1<<(32-ones) - 1)).String()
}

func ipToInt(ip net.IP) uint32 {
	v := ip.To4()
	return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
}

func intToIP(v uint32) net.IP { return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)) }

// resolvConf returns /etc/resolv.conf for a container: the bridge's dnsmasq when it answers,
// else the host's non-loopback resolvers.
func (p *Provider) resolvConf(bridgeIP net.IP) string {
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(bridgeIP.String(), "53"), 300*time.Millisecond); err == nil {
		c.Close()
		return "nameserver " + bridgeIP.String() + "\n"
	}
	var b strings.Builder
	if f, err := os.Open("/etc/resolv.conf"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 2 {
				continue
			}
			switch fields[0] {
			case "nameserver":
				if ip := net.ParseIP(fields[1]); ip != nil && !ip.IsLoopback() {
					b.WriteString(sc.Text() + "\n")
				}
			case "search", "options":
				b.WriteString(sc.Text() + "\n")
			}
		}
	}
	if !strings.Contains(b.String(), "nameserver") {
		p.log.Warn("no usable DNS resolver for containers", "bridge", p.bridge)
	}
	return b.String()
}

// hostsFile returns /etc/hosts for a container.
func hostsFile(ip, hostname string) string {
	return "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" + ip + "\t" + hostname + "\n"
}

// hostnameFor makes a valid host name from a container name (at most 63 letters, digits, -).
func hostnameFor(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-")
	}
	if h == "" {
		h = "mochi"
	}
	return h
}
