#!/usr/bin/env bash
# Times `exec true` (container running, default userEnvProbe) for mochi and the reference CLI
# in one run and prints a markdown table with the ratio.
# Usage: bench/exec.sh   (BENCH_RUNS=N, MOCHI_BIN, MOCHI_REFCLI to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ref_ws=$(new_workspace reference)
mochi_ws=$(new_workspace mochi)
have_mochi=false
mochi_has up && mochi_has exec && have_mochi=true

"$REFCLI" up --workspace-folder "$ref_ws" >/dev/null 2>&1
$have_mochi && "$MOCHI_BIN" up --workspace-folder "$mochi_ws" >/dev/null 2>&1

echo "### exec"
echo
table_header
ref_ms=$(time_ms ref "$REFCLI" exec --workspace-folder "$ref_ws" true)
mochi_ms="n/a (mochi exec not implemented)"
$have_mochi && mochi_ms=$(time_ms mochi "$MOCHI_BIN" exec --workspace-folder "$mochi_ws" true)
table_row "exec true" "$ref_ms" "$mochi_ms"
bench_note
