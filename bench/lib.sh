# Shared helpers for bench/*.sh: locating the two tools, timing commands and printing a markdown
# table. Sourced, not run.

BENCH_RUNS=${BENCH_RUNS:-10}
# BENCH_NO_HYPERFINE=1 uses the shell loop even where hyperfine is installed.
have_hyperfine() { [ "${BENCH_NO_HYPERFINE:-0}" != 1 ] && command -v hyperfine >/dev/null 2>&1; }
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
MOCHI_BIN=${MOCHI_BIN:-$REPO_ROOT/bin/mochi}

# The reference CLI: $MOCHI_REFCLI, else where scripts/setup-debian.sh installs it.
find_refcli() {
	local c
	for c in "${MOCHI_REFCLI:-}" "${MOCHI_REFCLI_DIR:-/opt/refcli}/node_modules/.bin/devcontainer" \
		"$REPO_ROOT/.cache/refcli/node_modules/.bin/devcontainer" "$(command -v devcontainer || true)"; do
		if [ -n "$c" ] && [ -x "$c" ]; then
			echo "$c"
			return
		fi
	done
	echo "bench: reference CLI not found; run scripts/setup-debian.sh or set MOCHI_REFCLI" >&2
	return 1
}
REFCLI=$(find_refcli)

# mochi_has CMD: mochi is built and implements CMD (its help names --workspace-folder).
mochi_has() {
	[ -x "$MOCHI_BIN" ] && "$MOCHI_BIN" "$1" --help 2>&1 | grep -q -- --workspace-folder
}

# Workspaces are copies of bench/fixture, one per tool so each has its own container.
BENCH_TMP=$(mktemp -d /tmp/mochi-bench.XXXXXX)
new_workspace() { # NAME -> prints the path
	local ws="$BENCH_TMP/$1/bench-$1"
	mkdir -p "$ws"
	cp -r "$BENCH_DIR/${BENCH_FIXTURE:-fixture}/." "$ws/"
	echo "$ws"
}

cleanup_bench() {
	local ids
	ids=$(docker ps -aq --filter label=mochi.bench=1 --filter "label=devcontainer.local_folder" |
		while read -r id; do
			case "$(docker inspect -f '{{index .Config.Labels "devcontainer.local_folder"}}' "$id")" in
			"$BENCH_TMP"/*) echo "$id" ;;
			esac
		done)
	[ -z "$ids" ] || docker rm -f $ids >/dev/null
	rm -rf "$BENCH_TMP"
}
trap cleanup_bench EXIT

# time_ms LABEL CMD...: mean wall time of CMD over BENCH_RUNS runs (after one warm-up), in ms.
# Uses hyperfine when installed, else a loop around date +%s%N. The command's output is dropped.
time_ms() {
	shift # label, for the caller's messages only
	if have_hyperfine; then
		local json
		json=$(mktemp)
		local quoted
		quoted=$(printf '%q ' "$@")
		hyperfine --style none --warmup 1 --runs "$BENCH_RUNS" --export-json "$json" \
			--command-name bench "$quoted" >/dev/null 2>&1 || {
			rm -f "$json"
			echo "failed"
			return
		}
		python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$json"
		rm -f "$json"
	else
		"$@" >/dev/null 2>&1 || { echo "failed"; return; }
		local i start end total=0
		for ((i = 0; i < BENCH_RUNS; i++)); do
			start=$(date +%s%N)
			"$@" >/dev/null 2>&1 || { echo "failed"; return; }
			end=$(date +%s%N)
			total=$((total + end - start))
		done
		echo $((total / BENCH_RUNS / 1000000))
	fi
}

# ratio A B: A/B with two decimals, or n/a.
ratio() {
	case "$1$2" in
	*[!0-9]*) echo "n/a" ;;
	*) python3 -c 'import sys; a,b=map(float,sys.argv[1:]); print(f"{a/b:.2f}" if b else "n/a")' "$1" "$2" ;;
	esac
}

table_header() {
	echo "| scenario | reference (ms) | mochi (ms) | mochi / reference |"
	echo "|---|---:|---:|---:|"
}

# table_row SCENARIO REF_MS MOCHI_MS
table_row() {
	echo "| $1 | $2 | $3 | $(ratio "$3" "$2") |"
}

# bench_note: one line saying what was measured, for BENCHMARKS.md.
bench_note() {
	local how="date +%s%N loop"
	have_hyperfine && how="hyperfine $(hyperfine --version | awk '{print $2}')"
	echo
	echo "_${BENCH_RUNS} runs each after one warm-up ($how), $(nproc) cores, reference $("$REFCLI" --version), mochi $("$MOCHI_BIN" version 2>/dev/null || echo 'not built'); $(date -u +%Y-%m-%d)._"
}
