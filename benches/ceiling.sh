#!/usr/bin/env bash
# The ceiling of one machine (issue 23): how far one herald goes on the machine it runs on.
#   bash benches/ceiling.sh [sources | items]...        (default both)
#   sources  10,000 html sources on a one-minute schedule, 100 of them per site on 100 sites
#            (HOSTS=100 benches/polling/run.sh 10000 3: herald polls a site two connections at
#            a time, so one site cannot serve 10,000 polls a minute), first with pages that do
#            not change (304s), then CHANGING=1 (every source publishes a release every minute):
#            ticks missed, CPU, peak RSS
#   items    1,000,000 stored items (10,000 sources x 100, no channels; benches/store_scale.rs
#            with HERALD_BENCH_SOURCES=10000, one round, on disk under target/), then `herald run` on that
#            database with the 10,000 sources configured: start to /feeds/all.rss served, the
#            merged feed's first render and a cached answer, the data folder's size
# A benchmark, not a test: it takes about 25 minutes and prints RESULT lines and a table; the
# figures go in the README ("The ceiling of one machine") and docs/scaling.md.
set -euo pipefail
cd "$(dirname "$0")/.."
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(sources items)
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }
bin=${HERALD_BIN:-target/release/herald}
[ -x "$bin" ] || cargo build --release --bin herald
results=$(mktemp)
trap 'rm -f "$results" "$results.run"' EXIT

if wants sources; then
  for changing in 0 1; do
    echo "== 10,000 sources, CHANGING=$changing"
    # (Not `tee /dev/stderr`: with stderr sent to a file, tee opens it anew and writes over it.)
    CHANGING=$changing HOSTS=100 HERALD_BIN=$bin bash benches/polling/run.sh 10000 3 >"$results.run" 2>&1 ||
      echo "(the 10,000-source run failed)"
    cat "$results.run"
    grep '^RESULT|' "$results.run" >>"$results" || true
  done
fi

if wants items; then
  db=$(mktemp -d "$PWD/target/ceiling-db-XXXXXX")
  work=$(mktemp -d)
  trap 'rm -f "$results" "$results.run"; rm -rf "$db" "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT
  echo "== 1,000,000 items (store_scale, 10,000 sources, on disk in $db)"
  # The bench only fills the database (the figures are herald's, below): built without
  # whole-program optimisation, which would add ten minutes of build.
  HERALD_BENCH_SOURCES=10000 HERALD_BENCH_CHANNELS=0 HERALD_BENCH_ONE_ROUND=1 HERALD_BENCH_KEEP="$db" \
    CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16 \
    cargo bench --bench store_scale 2>&1 | grep -v '^RESULT' | tee "$work/store.txt"
  size=$(du -sb "$db" | cut -f1)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  bash benches/stored_config.sh 10000 "$db" "$port" >"$work/config.toml"
  starts=()
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    RUST_LOG=warn "$bin" run -c "$work/config.toml" 2>"$work/herald.log" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/feeds/all.rss"; do
      kill -0 $pid 2>/dev/null || { cat "$work/herald.log"; exit 1; }
      sleep 0.005
    done
    starts+=("$(echo "($(date +%s.%N) - $start) * 1000" | bc -l)")
    # The merged feed again, rendered anew (a query makes another document) and then cached.
    fresh=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/feeds/all.rss?limit=99")
    cached=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/feeds/all.rss?limit=99")
    rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
    kill -TERM $pid
    wait $pid || true
  done
  ms=$(printf '%s\n' "${starts[@]}" | sort -g | sed -n 2p)
  echo "herald run on 1,000,000 items: start to /feeds/all.rss served in $(printf '%.0f' "$ms") ms (median of 3: ${starts[*]})"
  echo "merged feed of 10,000 sources: rendered in $(echo "$fresh * 1000" | bc -l | xargs printf '%.0f') ms, cached $(echo "$cached * 1000" | bc -l | xargs printf '%.1f') ms; RSS after $((rss / 1024)) MB"
  {
    printf 'RESULT|1,000,000 items: data folder|%.2f GB|-|-|-|info\n' "$(echo "$size / 1000000000" | bc -l)"
    printf 'RESULT|1,000,000 items: start to all.rss served|%.0f ms|-|-|-|info\n' "$ms"
    printf 'RESULT|1,000,000 items: merged feed of 10,000 sources, rendered|%.0f ms|-|-|-|info\n' "$(echo "$fresh * 1000" | bc -l)"
    printf 'RESULT|1,000,000 items: merged feed, from the cache|%.1f ms|-|-|-|info\n' "$(echo "$cached * 1000" | bc -l)"
    printf 'RESULT|1,000,000 items: RSS after serving|%s MB|-|-|-|info\n' "$((rss / 1024))"
  } >>"$results"
fi

echo
echo "herald's ceiling, $(date -u +%Y-%m-%d), $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB"
python3 benches/table.py "$results"
