#!/usr/bin/env bash
# Times `up` with mochi on LXC, mochi on Docker and the reference CLI on Docker, in one run,
# image already cached (the LXC image extracted) in two scenarios:
#   - a fresh workspace: no container yet (each timed run starts after the last one's
#     container was removed, by `mochi down` or `docker rm -f`, outside the timing);
#   - up --remove-existing-container on a running workspace.
# Usage: bench/lxc.sh   (BENCH_RUNS=N, MOCHI_BIN, MOCHI_REFCLI to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ref_ws=$(new_workspace reference)
dk_ws=$(new_workspace docker)
lxc_ws=$(new_workspace lxc)
export MOCHI_NO_SERVER=1
# First ups fill the caches (the LXC image extraction included); not timed.
"$REFCLI" up --workspace-folder "$ref_ws" >/dev/null 2>&1
"$MOCHI_BIN" up --workspace-folder "$dk_ws" >/dev/null 2>&1
"$MOCHI_BIN" up --provider lxc --workspace-folder "$lxc_ws" >/dev/null 2>&1
trap '"$MOCHI_BIN" down --workspace-folder "$lxc_ws" >/dev/null 2>&1; cleanup_bench' EXIT

# time_fresh_ms PREPARE CMD...: like time_ms, with PREPARE (a shell command) run before every
# run, outside the timing.
time_fresh_ms() {
	local prepare=$1
	shift
	if have_hyperfine; then
		local json quoted
		json=$(mktemp)
		quoted=$(printf '%q ' "$@")
		hyperfine --style none --warmup 1 --runs "$BENCH_RUNS" --prepare "$prepare" --export-json "$json" \
			--command-name bench "$quoted" >/dev/null 2>&1 || {
			rm -f "$json"
			echo "failed"
			return
		}
		python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$json"
		rm -f "$json"
	else
		local i start end total=0
		for ((i = 0; i <= BENCH_RUNS; i++)); do
			bash -c "$prepare" >/dev/null 2>&1
			start=$(date +%s%N)
			"$@" >/dev/null 2>&1 || { echo "failed"; return; }
			end=$(date +%s%N)
			((i == 0)) || total=$((total + end - start)) # the first run is the warm-up
		done
		echo $((total / BENCH_RUNS / 1000000))
	fi
}

docker_rm() { # the prepare command removing a workspace's Docker containers
	printf 'ids=$(docker ps -aq --filter label=devcontainer.local_folder=%q); [ -z "$ids" ] || docker rm -f $ids >/dev/null' "$1"
}
mochi_down() { printf '%q down --workspace-folder %q >/dev/null 2>&1 || true' "$MOCHI_BIN" "$1"; }

echo "### LXC"
echo
echo "| scenario | reference on Docker (ms) | mochi on Docker (ms) | mochi on LXC (ms) | LXC / mochi Docker | LXC / reference |"
echo "|---|---:|---:|---:|---:|---:|"
r=$(time_fresh_ms "$(docker_rm "$ref_ws")" "$REFCLI" up --workspace-folder "$ref_ws")
d=$(time_fresh_ms "$(mochi_down "$dk_ws")" "$MOCHI_BIN" up --workspace-folder "$dk_ws")
l=$(time_fresh_ms "$(mochi_down "$lxc_ws")" "$MOCHI_BIN" up --provider lxc --workspace-folder "$lxc_ws")
echo "| up, fresh workspace (no container), cached image | $r | $d | $l | $(ratio "$l" "$d") | $(ratio "$l" "$r") |"
r=$(time_ms ref "$REFCLI" up --workspace-folder "$ref_ws" --remove-existing-container)
d=$(time_ms docker "$MOCHI_BIN" up --workspace-folder "$dk_ws" --remove-existing-container)
l=$(time_ms lxc "$MOCHI_BIN" up --provider lxc --workspace-folder "$lxc_ws" --remove-existing-container)
echo "| up --remove-existing-container, cached image | $r | $d | $l | $(ratio "$l" "$d") | $(ratio "$l" "$r") |"
bench_note
