#!/usr/bin/env bash
# herald's bench suite (issue 9). Builds herald in release, installs what the scenarios compare
# against when missing (nginx, wrk, bc, curl from Debian; Python trafilatura in a venv), runs
# each scenario bounded in time on loopback, and ends with one table:
#   scenario | herald | reference | ratio | target | verdict
#
#   bash benches/run.sh [all | serve | polling | storage | extraction | pure | budget | simulation]...   (default all)
#
# QUICK=1 shortens every scenario (fewer and shorter runs, one polled minute) for a smoke check;
# the figures in the notes come from a full run. Not part of `cargo test`.
# Scenarios and what they run:
#   serve       benches/serve.sh: /feeds/akorda-en.rss (100 items) and /feeds/all.rss (500 items),
#               herald against nginx serving the same bytes, 200 / 304 / gzip (wrk)
#   polling     benches/polling/run.sh: 1,000 html sources on a one-minute schedule; then the same with every
#               source publishing a release a minute (CHANGING=1)
#   storage     cargo bench --bench store_scale (100,000 items, 300,000 posts, a 2nd round and
#               the sweep), then `herald run` on that database: start to first feed served
#   extraction  benches/extraction/run.sh: 181 pages, herald against Python trafilatura
#   pure        cargo bench --bench pure (criterion): list page, dates, rendering, post
#   budget      cargo bench --bench resource_budget: the worst inputs of each kind at once (huge,
#               deep, wide, drip-fed, endless, bombs, encodings, dates, cache-busting, silent and
#               non-reading clients): peak RSS, longest poll, /healthz times, SIGTERM to exit
#   simulation  tests/delivery_simulation.rs in release: 100,000 seeds (10,000 with QUICK=1) of the
#               delivery simulation; seeds per second
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(all)
wants() { [[ " ${scenarios[*]} " == *" all "* || " ${scenarios[*]} " == *" $1 "* ]]; }
quick=${QUICK:-0}

missing=()
for tool in nginx wrk bc curl; do command -v $tool >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
cargo build --release --bin herald

results=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$work" "$results"' EXIT
# Runs a scenario, shows its output, and keeps its RESULT lines for the table.
run() {
  echo "== $*"
  "$@" 2>&1 | tee "$work/out" || echo "(this scenario failed: $*)"
  grep '^RESULT|' "$work/out" >>"$results" || true
}

if wants serve; then
  if [ "$quick" = 1 ]; then secs=3 runs=1; else secs=5 runs=3; fi
  run bash benches/serve.sh $secs $runs
  ITEMS=500 FEED=all run bash benches/serve.sh $secs $runs
fi

if wants polling; then
  run bash benches/polling/run.sh 1000 "$([ "$quick" = 1 ] && echo 1 || echo 2)"
  CHANGING=1 run bash benches/polling/run.sh 1000 3
fi

if wants storage; then
  # On tmpfs when there is one (see benches/store_scale.rs: 600,000 fsyncs).
  db="$work/db"
  [ -d /dev/shm ] && db=$(mktemp -d /dev/shm/herald-bench-XXXXXX)
  trap 'rm -rf "$work" "$results" "$db"' EXIT
  HERALD_BENCH_KEEP="$db" run cargo bench --bench store_scale
  # `herald run` on that database: from start to the merged feed of 1,000 sources served.
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  bash benches/stored_config.sh 1000 "$db" "$port" >"$work/config.toml"
  startups=()
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    RUST_LOG=warn target/release/herald run -c "$work/config.toml" 2>"$work/herald.log" &
    pid=$!
    until curl -sf -o /dev/null "http://127.0.0.1:$port/feeds/all.rss"; do
      kill -0 $pid 2>/dev/null || { cat "$work/herald.log"; exit 1; }
      sleep 0.005
    done
    end=$(date +%s.%N)
    kill -TERM $pid; wait $pid || true
    startups+=("$(echo "($end - $start) * 1000" | bc -l)")
  done
  ms=$(printf '%s\n' "${startups[@]}" | sort -g | sed -n 2p)
  echo "herald run on 100,000 items: start to /feeds/all.rss served in $(printf '%.0f' "$ms") ms (median of 3: ${startups[*]})"
  printf 'RESULT|storage: herald run, start to all.rss served (100,000 items)|%.0f ms|-|-|<= 1000 ms|%s\n' "$ms" \
    "$([ "$(echo "$ms <= 1000" | bc -l)" = 1 ] && echo met || echo "NOT met")" >>"$results"
fi

if wants extraction; then
  run bash benches/extraction/run.sh "$([ "$quick" = 1 ] && echo 1 || echo 5)"
fi

if wants pure; then
  if [ "$quick" = 1 ]; then crit=(--warm-up-time 1 --measurement-time 1); else crit=(--warm-up-time 2 --measurement-time 5); fi
  echo "== cargo bench --bench pure"
  cargo bench --bench pure -- "${crit[@]}" 2>&1 | tee "$work/pure"
  # criterion prints a benchmark's name, then "time: [low estimate high]" (same line or next).
  python3 - "$work/pure" >>"$results" <<'PY'
import re, sys
name = None
for line in open(sys.argv[1]):
    m = re.match(r"^(\S.*?)\s*time:\s+\[\S+ \S+ (\S+ \S+) \S+ \S+\]", line)
    if m:
        print(f"RESULT|pure: {m.group(1).strip()}|{m.group(2)}|-|-|-|info")
    elif re.match(r"^\s+time:\s+\[", line) and name:
        mid = line.split("[")[1].split()[2:4]
        print(f"RESULT|pure: {name}|{' '.join(mid)}|-|-|-|info")
    elif line.strip() and not line.startswith((" ", "Benchmarking", "Found", "Gnuplot", "Warning", "change", "Performance", "No change")):
        name = line.strip()
PY
fi

if wants budget; then
  run cargo bench --bench resource_budget
fi

if wants simulation; then
  HERALD_SIM_SEEDS="$([ "$quick" = 1 ] && echo 10000 || echo 100000)" \
    run cargo test --release --test delivery_simulation -- --nocapture
fi

echo
echo "herald bench suite, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)$([ "$quick" = 1 ] && echo ', QUICK=1')"
python3 benches/table.py "$results"
