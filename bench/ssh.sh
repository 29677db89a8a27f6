#!/usr/bin/env bash
# mochi's SSH gateway against OpenSSH's sshd in an equivalent container, in one run:
# connection setup (`ssh HOST true`), a 512 MiB sftp download and upload, and a 512 MiB bulk
# transfer through a forwarded port (mochi's port forwarder vs `ssh -L` to sshd). Both sides use
# the same client (OpenSSH) and cipher (aes128-gcm@openssh.com between client and server).
# Usage: bench/ssh.sh   (BENCH_RUNS=N, MOCHI_BIN to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CIPHER=aes128-gcm@openssh.com
source "$(dirname "$0")/sshpeers.sh"
trap 'docker rm -f "$sid" >/dev/null 2>&1; MOCHI_NO_SERVER=1 "$MOCHI_BIN" down --workspace-folder "$ws" >/dev/null 2>&1; "$MOCHI_BIN" server stop >/dev/null 2>&1; cleanup_bench' EXIT
sshd_opts=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i "$key" -p "$sport" -c "$CIPHER")
for _ in $(seq 50); do ssh "${sshd_opts[@]}" root@$shost true 2>/dev/null && break; sleep 0.2; done
mochi_opts=(-F "$mcfg" -c "$CIPHER")

# 512 MiB files on both sides for downloads.
ssh "${sshd_opts[@]}" root@$shost 'head -c 536870912 /dev/zero > /tmp/big'
ssh "${mochi_opts[@]}" "$mhost" 'head -c 536870912 /dev/zero > /tmp/big'
head -c 536870912 /dev/zero > "$BENCH_TMP/big"

# secs CMD...: wall time of one run in seconds (3 decimals).
secs() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); python3 -c "print(round(($e-$s)/1e9,3))"; }
mbps() { python3 -c "print(round(512/$1))"; }
best() { # best of 3 runs of CMD
	local b="" t
	for _ in 1 2 3; do t=$(secs "$@"); if [ -z "$b" ] || python3 -c "import sys; sys.exit(0 if $t<$b else 1)"; then b=$t; fi; done
	echo "$b"
}

echo "### ssh gateway vs sshd"
echo
echo "| scenario | sshd | mochi | mochi / sshd |"
echo "|---|---:|---:|---:|"
s_ms=$(time_ms sshd ssh "${sshd_opts[@]}" root@$shost true)
m_ms=$(time_ms mochi ssh "${mochi_opts[@]}" "$mhost" true)
echo "| connection setup, \`ssh HOST true\` (ms, lower is better) | $s_ms | $m_ms | $(ratio "$m_ms" "$s_ms") |"
for dir in download upload; do
	if [ $dir = download ]; then
		st=$(best sftp -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$key" -P "$sport" -c "$CIPHER" root@$shost:/tmp/big "$BENCH_TMP/got-sshd")
		mt=$(best sftp -q -F "$mcfg" -c "$CIPHER" "$mhost:/tmp/big" "$BENCH_TMP/got-mochi")
	else
		echo "put $BENCH_TMP/big /tmp/up" > "$BENCH_TMP/put.batch"
		st=$(best sftp -q -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i "$key" -P "$sport" -c "$CIPHER" -b "$BENCH_TMP/put.batch" root@$shost)
		mt=$(best sftp -q -F "$mcfg" -c "$CIPHER" -b "$BENCH_TMP/put.batch" "$mhost")
	fi
	echo "| sftp 512 MiB $dir (MB/s, higher is better) | $(mbps "$st") | $(mbps "$mt") | $(python3 -c "print(round($st/$mt,2))") |"
done
# Forwarded port: ssh -L to sshd vs mochi's server-side forwarder (no ssh client involved).
fport=$(free_port)
ssh "${sshd_opts[@]}" -f -N -L "$fport:127.0.0.1:9000" root@$shost
mport=$(free_port)
"$MOCHI_BIN" ports "$name" forward "$mport:9000" >/dev/null
# Both forwards must deliver the whole 512 MiB, or the timing means nothing.
for p in "$fport" "$mport"; do
	n=$(bash -c "cat < /dev/tcp/127.0.0.1/$p | wc -c")
	[ "$n" = 536870912 ] || { echo "bench: forwarded port $p gave $n bytes, not 536870912" >&2; exit 1; }
done
st=$(best bash -c "cat < /dev/tcp/127.0.0.1/$fport > /dev/null")
mt=$(best bash -c "cat < /dev/tcp/127.0.0.1/$mport > /dev/null")
pkill -f "ssh.*-L $fport:127.0.0.1:9000" || true
echo "| 512 MiB through a forwarded port (MB/s, higher is better) | $(mbps "$st") | $(mbps "$mt") | $(python3 -c "print(round($st/$mt,2))") |"
echo
echo "_Cipher $CIPHER client-side on both; best of 3 for transfers, $BENCH_RUNS runs for setup; $(nproc) cores; $(ssh -V 2>&1); mochi $("$MOCHI_BIN" version); $(date -u +%Y-%m-%d)._"
