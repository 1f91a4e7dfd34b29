#!/usr/bin/env bash
# Article-extraction benchmark (issue 5): scores `herald extract --json` over the 181 pages of
# ../shared/data/article-extraction with the benchmark's metric, times it (one process, start-up
# included, one thread), and runs Python trafilatura 2.3.1 side by side on the same pages.
#
#   bash benches/extraction/run.sh [RUNS]     # RUNS timed runs of each (default 5); medians printed
#
# The runs alternate (herald, trafilatura, herald, …) so that a change in the machine's load
# falls on both. Each run's wall time and CPU time (user + system) are taken; on a shared machine
# the CPU time is the steadier figure (a process waiting for the CPU is not charged for it), on an
# idle one the two agree. The speed ratio is printed for both.
#
# Env: DATA (the data folder; ../shared/data/extraction-readability is the second set),
# SKIP_TRAFILATURA=1 (herald only), WORST=N (list the N worst pages by F1), HERALD=path (time
# another build of herald, e.g. one of the previous commit, instead of building this one),
# PER_PAGE=N (time `herald extract` on each page alone, one process per page, start-up
# included, and list the N slowest: the "no page slower than 100 ms" check).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
DATA=${DATA:-$(cd .. && pwd)/shared/data/article-extraction}
if [ ! -d "$DATA/html" ]; then
  echo "benches/extraction/run.sh: no benchmark pages in $DATA/html." >&2
  echo "  Put the article-extraction benchmark (html/<key>.html.gz and ground-truth.json, from" >&2
  echo "  scrapinghub/article-extraction-benchmark) in ../shared/data/article-extraction, or set DATA." >&2
  exit 2
fi
OUT=target/extraction-bench
mkdir -p "$OUT"
mapfile -t FILES < <(ls "$DATA"/html/*.html.gz)
N=${#FILES[@]}

HERALD=${HERALD:-${HERALD_BIN:-}}
if [ -z "${HERALD:-}" ]; then
  cargo build --release --quiet
  HERALD=target/release/herald
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One thread: taskset pins the process (and the trafilatura interpreter) to one CPU.
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

VENV=target/trafilatura-venv
if [ "${SKIP_TRAFILATURA:-0}" != 1 ] && [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet trafilatura==2.3.1 lxml_html_clean
fi

# One herald run over the pages given, its output in the file $1: prints "wall cpu" in seconds
# (bash's `time`: the child's real time and user + system time).
time_herald() {
  local out=$1 TIMEFORMAT='%R %U %S'
  shift
  { time "${PIN[@]}" "$HERALD" extract --json "$@" >"$out" 2>"$OUT/herald.stderr"; } 2>&1 |
    awk '{printf "%s %.3f\n", $1, $2 + $3}'
}

h_wall=(); h_cpu=(); t_wall=(); t_cpu=()
for _ in $(seq "$RUNS"); do
  read -r wall cpu < <(time_herald "$OUT/herald.jsonl" "${FILES[@]}")
  h_wall+=("$wall"); h_cpu+=("$cpu")
  if [ "${SKIP_TRAFILATURA:-0}" != 1 ]; then
    line=$("${PIN[@]}" "$VENV/bin/python" benches/extraction/trafilatura_run.py "$OUT/trafilatura.jsonl" "${FILES[@]}")
    wall=${line#*seconds=}; wall=${wall%% *}
    cpu=${line#*cpu_seconds=}; cpu=${cpu%% *}
    t_wall+=("$wall"); t_cpu+=("$cpu")
  fi
done
pps() { echo "$N / $1" | bc -l; }
herald_s=$(printf '%s\n' "${h_wall[@]}" | median)
herald_cpu=$(printf '%s\n' "${h_cpu[@]}" | median)
herald_pps=$(pps "$herald_s")
echo "herald: $(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/herald.jsonl" --worst "${WORST:-0}")"
printf 'herald: %d pages in %.3f s wall, %.3f s CPU (medians of %d, process start-up included) = %.0f pages/s wall, %.0f pages/s CPU\n' \
  "$N" "$herald_s" "$herald_cpu" "$RUNS" "$herald_pps" "$(pps "$herald_cpu")"

if [ -n "${PER_PAGE:-}" ]; then
  # Each page alone, one process each: the time includes herald's start-up, so it bounds the
  # page's own extraction time from above.
  for f in "${FILES[@]}"; do
    read -r wall cpu < <(time_herald "$OUT/one-page.jsonl" "$f")
    echo "$wall $cpu $(basename "$f")"
  done | sort -g -k2 -r >"$OUT/per-page.txt"
  printf 'herald, each page in its own process (wall s, CPU s, page), slowest by CPU time:\n'
  head -n "$PER_PAGE" "$OUT/per-page.txt" | sed 's/^/  /'
  printf 'slowest wall time: %s\n' "$(sort -g -r "$OUT/per-page.txt" | head -1)"
fi

[ "${SKIP_TRAFILATURA:-0}" = 1 ] && exit 0
traf_s=$(printf '%s\n' "${t_wall[@]}" | median)
traf_cpu=$(printf '%s\n' "${t_cpu[@]}" | median)
traf_pps=$(pps "$traf_s")
echo "trafilatura: $(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/trafilatura.jsonl")"
printf 'trafilatura 2.3.1: %.3f s wall, %.3f s CPU (medians of %d, in-process loop, imports excluded) = %.0f pages/s wall, %.0f pages/s CPU\n' \
  "$traf_s" "$traf_cpu" "$RUNS" "$traf_pps" "$(pps "$traf_cpu")"
ratio=$(echo "$traf_s / $herald_s" | bc -l)
ratio_cpu=$(echo "$traf_cpu / $herald_cpu" | bc -l)
printf 'speed ratio herald/trafilatura: %.1fx wall, %.1fx CPU\n' "$ratio" "$ratio_cpu"
# For benches/run.sh: scenario|herald|reference|ratio|target|verdict.
printf 'RESULT|extraction: pages/s (wall), %d pages, one thread|%.0f|%.0f (trafilatura 2.3.1)|%.2f|>= 10.00|%s\n' \
  "$N" "$herald_pps" "$traf_pps" "$ratio" \
  "$([ "$(echo "$ratio >= 10" | bc -l)" = 1 ] && echo met || echo "NOT met")"
herald_f1=$(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/herald.jsonl" | grep -o 'F1=[0-9.]*' | head -1 | cut -d= -f2)
traf_f1=$(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/trafilatura.jsonl" | grep -o 'F1=[0-9.]*' | head -1 | cut -d= -f2)
if [ -n "$herald_f1" ] && [ -n "$traf_f1" ]; then
  printf 'RESULT|extraction: F1 of the body text|%s|%s (trafilatura 2.3.1)|%.3f|>= 0.95|%s\n' "$herald_f1" "$traf_f1" \
    "$(echo "$herald_f1 / $traf_f1" | bc -l)" "$([ "$(echo "$herald_f1 >= 0.95" | bc -l)" = 1 ] && echo met || echo "NOT met")"
fi
