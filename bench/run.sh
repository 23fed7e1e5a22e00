#!/usr/bin/env bash
# The benchmark of issue 21, one command: builds countersign and the load generator in
# release, installs the peer (node-oidc-provider, `npm ci`), records the machine's limits
# (lscpu, `openssl speed` on one core, argon2id at countersign's cost), then runs every
# scenario against countersign on SQLite, the peer and countersign on PostgreSQL, in a
# rotating order, RUNS times (default 3): the server pinned to CPU 1, the driver to CPU 0.
# Prints (and writes to bench-results/<time>/report.md) medians and ratios.
#
#   bench/run.sh                 # full: concurrency 1, 8, 64; 1 s warm-up + 3 s per phase
#   bench/run.sh --quick         # smoke: concurrency 1, 8; 0.5 s + 1 s; one run
#   RUNS=5 SCENARIOS=discovery,jwks bench/run.sh
#
# Environment: RUNS, SCENARIOS (comma-separated), TARGETS (default
# "countersign-sqlite peer countersign-postgres"), PGHOST/PGUSER as for psql
# (127.0.0.1, postgres: the PostgreSQL target creates and drops its own database),
# CARGO_TARGET_DIR. Loopback only; never run by CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=()
runs="${RUNS:-3}"
speed_seconds=3
if [[ "${1:-}" == "--quick" ]]; then
    quick=(--quick)
    runs="${RUNS:-1}"
    speed_seconds=1
fi
targets=(${TARGETS:-countersign-sqlite peer countersign-postgres})
scenario_args=()
[[ -n "${SCENARIOS:-}" ]] && scenario_args=(--scenarios "$SCENARIOS")

# Absolute: the harness starts the CLI and the server from their own temp directories.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
step() { printf '\n==> %s\n' "$*" >&2; }

step "building countersign and countersign-bench (release)"
cargo build --release -p countersign -p countersign-bench
bin="$target_dir/release/countersign"
bench="$target_dir/release/countersign-bench"

step "installing the peer (npm ci in bench/peer)"
npm ci --prefix bench/peer --no-audit --no-fund --loglevel=error >/dev/null

out="bench-results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
{
    echo "## Machine"
    echo
    echo "- CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(nproc) cores;" \
        "$(free -g | awk '/^Mem:/ {print $2}') GiB; $(uname -r); $(openssl version | cut -d' ' -f1-2); node $(node --version)"
    echo "- commit: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
    echo "- date: $(date -u +%FT%TZ), load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo '```'
    echo "taskset -c 1 openssl speed -seconds $speed_seconds rsa2048 ecdsap256 ed25519"
    taskset -c 1 openssl speed -seconds "$speed_seconds" rsa2048 ecdsap256 ed25519 2>/dev/null |
        grep -E '(sign/s|rsa 2048 bits|256 bits ecdsa|253 bits EdDSA)'
    taskset -c 1 "$bench" argon2 --seconds "$speed_seconds"
    echo '```'
    echo
} >"$out/machine.md"
cat "$out/machine.md"

# Rotate the order each run so no target always runs first (or after a given one).
for ((run = 1; run <= runs; run++)); do
    for ((i = 0; i < ${#targets[@]}; i++)); do
        t="${targets[(i + run - 1) % ${#targets[@]}]}"
        step "run $run/$runs: $t"
        case "$t" in
            peer) args=(--target peer --peer-dir bench/peer) ;;
            countersign-*) args=(--target countersign --backend "${t#countersign-}" --bin "$bin") ;;
            *) echo "unknown target $t" >&2; exit 2 ;;
        esac
        taskset -c 0 "$bench" run "${args[@]}" --server-cpu 1 --run "$run" \
            --out "$out/results.jsonl" "${quick[@]}" "${scenario_args[@]}"
    done
done

"$bench" report "$out/results.jsonl" >"$out/report.md"
step "report ($out/report.md)"
cat "$out/report.md"
