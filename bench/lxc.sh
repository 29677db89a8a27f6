#!/usr/bin/env bash
# Times `up --remove-existing-container` (a fresh workspace, image already cached) with
# mochi on LXC, mochi on Docker and the reference CLI on Docker, in one run.
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

echo "### LXC"
echo
echo "| scenario | reference on Docker (ms) | mochi on Docker (ms) | mochi on LXC (ms) | LXC / mochi Docker | LXC / reference |"
echo "|---|---:|---:|---:|---:|---:|"
r=$(time_ms ref "$REFCLI" up --workspace-folder "$ref_ws" --remove-existing-container)
d=$(time_ms docker "$MOCHI_BIN" up --workspace-folder "$dk_ws" --remove-existing-container)
l=$(time_ms lxc "$MOCHI_BIN" up --provider lxc --workspace-folder "$lxc_ws" --remove-existing-container)
echo "| up --remove-existing-container, cached image | $r | $d | $l | $(ratio "$l" "$d") | $(ratio "$l" "$r") |"
bench_note
