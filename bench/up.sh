#!/usr/bin/env bash
# Times `up` for mochi and the reference CLI in one run and prints a markdown table with ratios:
#   - up on a workspace whose container is already running (the everyday case);
#   - up --remove-existing-container (recreate the container, hooks included).
# Usage: bench/up.sh   (BENCH_RUNS=N, MOCHI_BIN, MOCHI_REFCLI to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ref_ws=$(new_workspace reference)
mochi_ws=$(new_workspace mochi)
have_mochi=false
mochi_has up && have_mochi=true

# One up each so that the first scenario finds a running container.
"$REFCLI" up --workspace-folder "$ref_ws" >/dev/null 2>&1
$have_mochi && "$MOCHI_BIN" up --workspace-folder "$mochi_ws" >/dev/null 2>&1

echo "### up"
echo
table_header
for scenario in running recreate; do
	case $scenario in
	running) name="up, container running"; extra=() ;;
	recreate) name="up --remove-existing-container"; extra=(--remove-existing-container) ;;
	esac
	ref_ms=$(time_ms ref "$REFCLI" up --workspace-folder "$ref_ws" "${extra[@]}")
	mochi_ms="n/a (mochi up not implemented)"
	$have_mochi && mochi_ms=$(time_ms mochi "$MOCHI_BIN" up --workspace-folder "$mochi_ws" "${extra[@]}")
	table_row "$name" "$ref_ms" "$mochi_ms"
done
bench_note
