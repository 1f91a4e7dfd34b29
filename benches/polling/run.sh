#!/usr/bin/env bash
# Polling at scale (issue 9): N html sources (default 1,000; ~30 KB list pages, 20 items each)
# on a one-minute schedule, served by a local generator (generator.py). After the first round
# stores everything, measures for MINUTES minutes (default 3) while nothing changes: herald's
# CPU (cores on average, from /proc), its peak RSS, whether every source was polled once in
# every minute (none missed, none twice), the most connections the site saw at once, and how
# the polls spread over the minute.
# CHANGING=1: every source publishes a new release each minute instead (issue 23): every poll
# reads a whole page and stores a release.
# HOSTS=K: the sources live on K sites (loopback addresses 127.0.0.1, 127.0.0.2, …; source n on
# site n % K) instead of one, as sources spread over many real sites do; herald polls each site
# two connections at a time, so one site of 10,000 sources cannot be polled every minute.
#   [CHANGING=1] [HOSTS=K] [PERF=1] bash benches/polling/run.sh [N] [MINUTES]      (PERF=1: perf profile of the measured minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
minutes=${2:-3}
hosts=${HOSTS:-1}
bin=${HERALD_BIN:-target/release/herald}
[ -x $bin ] || cargo build --release
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
site=$(free_port); web=$(free_port)
HOSTS=$hosts python3 benches/polling/generator.py "$site" "$n" "$work/requests.json" &
gen=$!
trap 'kill $herald 2>/dev/null || true; kill $gen 2>/dev/null || true; rm -rf "$work"' EXIT
{
  printf '[general]\ndata_dir = "data"\npublic_url = "http://127.0.0.1:%s"\n[server]\nlisten = "127.0.0.1:%s"\n' "$web" "$web"
  for i in $(seq 0 $((n - 1))); do
    k=$((i % hosts + 1))
    printf '[[sources]]\nid = "s%s"\nurl = "http://127.0.%s.%s:%s/s/%s"\nschedule = "0 * * * * *"\ntimezone = "UTC"\nmax_pages = 1\n' "$i" $((k / 256)) $((k % 256)) "$site" "$i"
    printf '[sources.list]\nitem = "div.card"\ntitle = "h3 a"\nlink = "h3 a@href"\ndate = "h5"\nsummary = "p"\nimage = "img@src"\n'
  done
} > "$work/config.toml"
sleep 1
RUST_LOG=warn $bin run -c "$work/config.toml" 2>"$work/herald.log" &
herald=$!
# The first round stores every source's items; measure from the next whole minute on.
sleep $((60 - $(date +%-S) + 60))
alive() { kill -0 $herald 2>/dev/null || { echo "herald stopped:"; tail -5 "$work/herald.log"; exit 1; }; }
alive
ticks() { awk '{print $14 + $15}' "/proc/$herald/stat"; }
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N); c0=$(ticks)
start=$(date +%s)
if [ "${PERF:-0}" = 1 ]; then
  # Where herald's CPU goes while nothing changes (perf with the software clock: this machine
  # has no hardware counters).
  perf record -e cpu-clock -F 499 -g -p $herald -o "$work/perf.data" -- sleep $((minutes * 60)) >/dev/null 2>&1
else
  sleep $((minutes * 60))
fi
alive
t1=$(date +%s.%N); c1=$(ticks)
peak=$(awk '/VmHWM/{print $2}' "/proc/$herald/status")
now_rss=$(awk '/VmRSS/{print $2}' "/proc/$herald/status")
kill -TERM $gen; wait $gen 2>/dev/null || true
python3 - "$work/requests.json" "$start" "$minutes" "$n" <<PY
import json, sys, collections
data = json.load(open(sys.argv[1])); start = int(sys.argv[2]); minutes = int(sys.argv[3]); n = int(sys.argv[4])
per = collections.Counter(); seconds = collections.Counter(); statuses = collections.Counter()
for t, src, status in data["requests"]:
    if start <= t < start + minutes * 60:
        per[(int((t - start) // 60), src)] += 1
        seconds[int(t) % 60] += 1
        statuses[status] += 1
missed = sum(1 for m in range(minutes) for s in range(n) if per[(m, s)] == 0)
twice = sum(1 for v in per.values() if v > 1)
busiest = max(seconds.values()) / minutes if seconds else 0
print(f"sources {n}, minutes measured {minutes}")
print(f"polls missed {missed}, polled twice in a minute {twice}, answers {dict(statuses)}")
print(f"most connections open at once at one site: {data['max_open']}")
print(f"polls in the busiest second of a minute, on average: {busiest:.0f} (all at second 0 would be {n})")
print(f"seconds of the minute with polls: {len(seconds)}")
# One line per figure for benches/run.sh: scenario|herald|reference|ratio|target|verdict.
ok = lambda c: "met" if c else "NOT met"
print(f"RESULT|polling {n} sources: ticks missed / run twice|{missed} / {twice}|-|-|0 / 0|{ok(missed == 0 and twice == 0)}")
print(f"RESULT|polling {n} sources: most connections to a site at once|{data['max_open']}|-|-|<= 2|{ok(data['max_open'] <= 2)}")
print(f"RESULT|polling {n} sources: polls in the busiest second|{busiest:.0f}|{n} (all at second 0)|{busiest / n:.2f}|spread|{ok(busiest <= n / 10)}")
PY
if [ "${PERF:-0}" = 1 ]; then
  echo "top of herald's profile (self time, perf cpu-clock):"
  { perf report -i "$work/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | cut -c1-120 | head -25; } || true
  echo "by caller (children included):"
  { perf report -i "$work/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | grep -v -E '\[k\]' | cut -c1-150 | head -40; } || true
fi
cores=$(echo "($c1 - $c0) / $hz / ($t1 - $t0)" | bc -l | cut -c1-6)
echo "herald CPU: $cores cores on average; peak RSS $((peak / 1024)) MB (first round included), RSS at the end $((now_rss / 1024)) MB"
# One line per figure for benches/run.sh: scenario|herald|reference|ratio|target|verdict.
verdict() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo "NOT met"; }
if [ "${CHANGING:-0}" = 1 ]; then
  echo "RESULT|polling $n changing sources: CPU|$cores cores|-|-|<= 0.03|$(verdict "$cores <= 0.03")"
  echo "RESULT|polling $n changing sources: peak RSS|$((peak / 1024)) MB|-|-|<= 64 MB|$(verdict "$peak <= 65536")"
else
  echo "RESULT|polling $n sources: CPU while nothing changes|$cores cores|-|-|<= 0.1|$(verdict "$cores <= 0.1")"
  echo "RESULT|polling $n sources: peak RSS|$((peak / 1024)) MB|-|-|<= 100 MB|$(verdict "$peak <= 102400")"
fi
