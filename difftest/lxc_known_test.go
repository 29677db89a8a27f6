package difftest

// lxcKnownDiffs lists the steps ("case/step", as in the golden files) where mochi on LXC may
// observe something else than the reference on Docker without failing TestDifftestLXC, each
// with the reason (as knownDiffs: "deliberate:" for what LXC cannot or should not match,
// "open:" for a gap to close). knownDiffs applies too. Everything else must match exactly.
var lxcKnownDiffs = map[string]string{
	"run-args/docker labels and caps": "deliberate: an LXC system container keeps LXC's capability set (all but mac_admin, mac_override, sys_time, sys_module and sys_rawio, see /usr/share/lxc/config/common.conf), a superset of Docker's default set; --cap-add NET_ADMIN is in it, but so is much more. The view lists the capabilities the container's init holds beyond Docker's default set; the label matches",
}
