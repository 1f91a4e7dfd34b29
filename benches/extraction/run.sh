#!/usr/bin/env bash
# Article-extraction benchmark (issue 5): scores `herald extract --json` over the 181 pages of
# ../shared/data/article-extraction with the benchmark's metric, times it (one process, start-up
# included, one thread), and runs Python trafilatura 2.3.1 side by side on the same pages.
#
#   bash benches/extraction/run.sh [RUNS]     # RUNS timed runs of each (default 5); medians printed
#
# Env: DATA (the data folder; ../shared/data/extraction-readability is the second set),
# SKIP_TRAFILATURA=1 (herald only), WORST=N (list the N worst pages), HERALD=path (time another
# build of herald, e.g. one of the previous commit, instead of building this one).
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

if [ -z "${HERALD:-}" ]; then
  cargo build --release --quiet
  HERALD=target/release/herald
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# One thread: taskset pins the process (and the trafilatura interpreter) to one CPU.
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

times=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s.%N)
  "${PIN[@]}" "$HERALD" extract --json "${FILES[@]}" >"$OUT/herald.jsonl"
  end=$(date +%s.%N)
  times+=("$(echo "$end - $start" | bc -l)")
done
herald_s=$(printf '%s\n' "${times[@]}" | median)
herald_pps=$(echo "$N / $herald_s" | bc -l)
echo "herald: $(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/herald.jsonl" --worst "${WORST:-0}")"
printf 'herald: %d pages in %.3f s (median of %d, process start-up included) = %.0f pages/s\n' \
  "$N" "$herald_s" "$RUNS" "$herald_pps"

[ "${SKIP_TRAFILATURA:-0}" = 1 ] && exit 0
VENV=target/trafilatura-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet trafilatura==2.3.1 lxml_html_clean
fi
tpps=()
for _ in $(seq "$RUNS"); do
  line=$("${PIN[@]}" "$VENV/bin/python" benches/extraction/trafilatura_run.py "$OUT/trafilatura.jsonl" "${FILES[@]}")
  tpps+=("${line##*pages_per_s=}")
done
traf_pps=$(printf '%s\n' "${tpps[@]}" | median)
echo "trafilatura: $(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/trafilatura.jsonl")"
printf 'trafilatura 2.3.1: %.0f pages/s (median of %d, in-process loop, imports excluded)\n' "$traf_pps" "$RUNS"
printf 'speed ratio herald/trafilatura: %.1fx\n' "$(echo "$herald_pps / $traf_pps" | bc -l)"
# For benches/run.sh: scenario|herald|reference|ratio|target|verdict.
printf 'RESULT|extraction: pages/s, %d pages, one thread|%.0f|%.0f (trafilatura 2.3.1)|%.2f|>= 1.00|%s\n' \
  "$N" "$herald_pps" "$traf_pps" "$(echo "$herald_pps / $traf_pps" | bc -l)" \
  "$([ "$(echo "$herald_pps >= $traf_pps" | bc -l)" = 1 ] && echo met || echo "NOT met")"
herald_f1=$(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/herald.jsonl" | grep -o 'F1=[0-9.]*' | head -1 | cut -d= -f2)
traf_f1=$(python3 benches/extraction/score.py "$DATA/ground-truth.json" "$OUT/trafilatura.jsonl" | grep -o 'F1=[0-9.]*' | head -1 | cut -d= -f2)
if [ -n "$herald_f1" ] && [ -n "$traf_f1" ]; then
  printf 'RESULT|extraction: F1 of the body text|%s|%s (trafilatura 2.3.1)|%.3f|>= 0.95|%s\n' "$herald_f1" "$traf_f1" \
    "$(echo "$herald_f1 / $traf_f1" | bc -l)" "$([ "$(echo "$herald_f1 >= 0.95" | bc -l)" = 1 ] && echo met || echo "NOT met")"
fi
