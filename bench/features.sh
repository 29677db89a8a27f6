#!/usr/bin/env bash
# Times the second `up --remove-existing-container` of a config with three features (warm
# feature caches and layer caches on both sides), mochi against the reference, in one run.
# Usage: bench/features.sh   (BENCH_RUNS=N, MOCHI_BIN, MOCHI_REFCLI to override)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
BENCH_FIXTURE=fixture-features

ref_ws=$(new_workspace reference)
mochi_ws=$(new_workspace mochi)
# First builds fill both tools' caches; they are not timed.
"$REFCLI" up --workspace-folder "$ref_ws" >/dev/null 2>&1
MOCHI_NO_SERVER=1 "$MOCHI_BIN" up --workspace-folder "$mochi_ws" >/dev/null 2>&1

echo "### features"
echo
table_header
ref_ms=$(time_ms ref "$REFCLI" up --workspace-folder "$ref_ws" --remove-existing-container)
mochi_ms=$(MOCHI_NO_SERVER=1 time_ms mochi "$MOCHI_BIN" up --workspace-folder "$mochi_ws" --remove-existing-container)
table_row "up --remove-existing-container, 3 features, warm caches" "$ref_ms" "$mochi_ms"
bench_note
