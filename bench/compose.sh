#!/usr/bin/env bash
# Times `up` of a two-service compose config, fresh (project down before each run) and with
# the project already running, mochi against the reference in one run. The reference needs a
# compose tool: Debian's docker-compose (v1) is installed if missing; mochi needs none.
# Usage: bench/compose.sh   (BENCH_RUNS=N, MOCHI_BIN, MOCHI_REFCLI to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BENCH_FIXTURE=fixture-compose
command -v docker-compose >/dev/null || apt-get install -y -qq docker-compose >/dev/null

ref_ws=$(new_workspace reference)
mochi_ws=$(new_workspace mochi)
proj() { echo "$(basename "$(dirname "$1")")"; }
ref_down() { docker-compose -p "$(basename "$1")_devcontainer" -f "$1/.devcontainer/docker-compose.yml" down -t 1 >/dev/null 2>&1 || true; }
mochi_down() { MOCHI_NO_SERVER=1 "$MOCHI_BIN" down --workspace-folder "$1" >/dev/null 2>&1 || true; }

echo "### compose"
echo
table_header
# fresh: each timed run starts with the project down.
fresh() { # TOOL WS
	local i total=0 start end
	for ((i = 0; i < BENCH_RUNS; i++)); do
		if [ "$1" = ref ]; then ref_down "$2"; else mochi_down "$2"; fi
		start=$(date +%s%N)
		if [ "$1" = ref ]; then "$REFCLI" up --workspace-folder "$2" >/dev/null 2>&1; else MOCHI_NO_SERVER=1 "$MOCHI_BIN" up --workspace-folder "$2" >/dev/null 2>&1; fi
		end=$(date +%s%N)
		total=$((total + end - start))
	done
	echo $((total / BENCH_RUNS / 1000000))
}
table_row "up, fresh two-service project" "$(fresh ref "$ref_ws")" "$(fresh mochi "$mochi_ws")"
ref_ms=$(time_ms ref "$REFCLI" up --workspace-folder "$ref_ws")
mochi_ms=$(MOCHI_NO_SERVER=1 time_ms mochi "$MOCHI_BIN" up --workspace-folder "$mochi_ws")
table_row "up, project already running" "$ref_ms" "$mochi_ms"
ref_down "$ref_ws"
mochi_down "$mochi_ws"
bench_note
