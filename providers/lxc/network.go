package lxc

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// allocateIP picks a free address on the bridge's network, from the top down, and claims it
// for the container folder owner in the host-wide address folder, so that providers with
// different state folders never hand out one address twice. lxc-net's dnsmasq leases are
// avoided too (they come from anywhere in its range). The search starts below the address
// handed out last and wraps around, so an address just released (up
// --remove-existing-container) is not given to the next container at once: the host and the
// other containers still have the old container's MAC address for it in their neighbour
// tables, and would send to it for seconds. The caller holds the address lock.
func (p *Provider) allocateIP(bridgeIP net.IP, network *net.IPNet, owner string) (string, error) {
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
	hosts := size - 2 // without the network and broadcast addresses
	start := hosts    // offset of the first candidate
	lastFile := filepath.Join(p.addrDir, p.bridge+".last")
	if b, err := os.ReadFile(lastFile); err == nil {
		if last := net.ParseIP(strings.TrimSpace(string(b))).To4(); last != nil && network.Contains(last) {
			if off := ipToInt(last) - base; off >= 1 && off <= hosts {
				start = off - 1
			}
		}
	}
	for i := uint32(0); i < hosts; i++ {
		off := (start+hosts-1-i)%hosts + 1 // start, start-1, ..., 1, hosts, ...
		ip := intToIP(base + off).String()
		if used[ip] || p.claimed(ip) {
			continue
		}
		if err := os.WriteFile(p.claimFile(ip), []byte(owner), 0o600); err != nil {
			return "", fmt.Errorf("claim address %s: %w", ip, err)
		}
		if err := os.WriteFile(lastFile, []byte(ip+"\n"), 0o600); err != nil {
			p.log.Debug("remember the last address", "err", err)
		}
		return ip, nil
	}
	return "", fmt.Errorf("bridge %s: no free address in %s", p.bridge, network)
}

func (p *Provider) claimFile(ip string) string {
	return filepath.Join(p.addrDir, p.bridge+"_"+ip)
}

// claimed reports whether a container that still exists holds ip (a claim whose container
// folder is gone, or whose record names another address, is stale).
func (p *Provider) claimed(ip string) bool {
	owner, err := os.ReadFile(p.claimFile(ip))
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(string(owner), recordFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(string(owner)); errors.Is(derr, os.ErrNotExist) {
			return false
		}
		return true // being created: the record comes last
	}
	var r record
	if err != nil || json.Unmarshal(b, &r) != nil {
		return true
	}
	return r.IP == ip
}

// releaseIP drops the claim on ip when it belongs to owner.
func (p *Provider) releaseIP(ip, owner string) {
	if ip == "" {
		return
	}
	if b, err := os.ReadFile(p.claimFile(ip)); err == nil && string(b) == owner {
		os.Remove(p.claimFile(ip))
	}
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

// hostsFile returns /etc/hosts for a container: localhost, its own name, then the extra
// entries (--add-host; an empty address is the bridge's, as Docker's host-gateway).
func hostsFile(ip, hostname string, extra []hostEntry, bridgeIP string) string {
	var b strings.Builder
	// The same lines as Docker's.
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n" +
		ip + "\t" + hostname + "\n")
	for _, h := range extra {
		addr := h.ip
		if addr == "" {
			addr = bridgeIP
		}
		b.WriteString(addr + "\t" + h.name + "\n")
	}
	return b.String()
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
