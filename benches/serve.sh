#!/usr/bin/env bash
# Serving benchmark: requests per second for a feed from herald, against nginx serving the same
# bytes as a static file, side by side on loopback.
#   [ITEMS=100] [FEED=akorda-en|all] [SHAPES="-t1 -c32,-t2 -c16"] bash benches/serve.sh [seconds per run, default 10] [runs, default 3]
# Each wrk shape (threads, connections) in SHAPES is measured: one client thread with many
# connections, and as many client threads as cores with fewer connections (issue 23).
# ITEMS releases are put on one list page and kept (max_items = ITEMS); FEED=all serves the merged
# feed (issue 6 asks for /feeds/all.rss with 500 items: ITEMS=500 FEED=all).
# Needs: target/release/herald (cargo build --release), nginx and wrk (apt-get install nginx wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
runs=${2:-3}
items_wanted=${ITEMS:-100}
feed=${FEED:-akorda-en}
bin=${HERALD_BIN:-target/release/herald}
for tool in nginx wrk python3 curl; do
  command -v $tool >/dev/null || { echo "missing $tool (apt-get install -y nginx wrk curl)"; exit 3; }
done
[ -x $bin ] || cargo build --release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
site=$(free_port); web=$(free_port); ngx=$(free_port)

# A list page shaped like akorda.kz's, with ITEMS releases.
mkdir -p "$work/site/en"
python3 - "$work/site/en/events" "$items_wanted" <<'PY'
import sys
cards = []
for n in range(int(sys.argv[2]), 0, -1):
    cards.append(f'<div class="card"><a href="/en/release-{n}"><img src="/uploadMedia/{n}.jpg"></a>'
                 f'<h5>{(n % 28) + 1} March 2026</h5><h3><a href="/en/release-{n}">Head of State receives delegation {n}</a></h3>'
                 f'<p>The President discussed cooperation in trade, energy and transport, part {n}. Both sides agreed to continue.</p></div>')
open(sys.argv[1], "w").write("<html><body>" + "".join(cards) + "</body></html>")
PY
(cd "$work/site" && exec python3 -m http.server "$site" --bind 127.0.0.1 >/dev/null 2>&1) &
cat > "$work/config.toml" <<TOML
[general]
data_dir = "data"
public_url = "http://127.0.0.1:$web"
[server]
listen = "127.0.0.1:$web"
[[sources]]
id = "akorda-en"
url = "http://127.0.0.1:$site/en/events"
schedule = "0 0 0 1 1 *"
timezone = "Asia/Almaty"
max_pages = 1
max_items = $items_wanted
[sources.list]
item = "div.card"
title = "h3 a"
link = "h3 a@href"
date = "h5"
summary = "p"
image = "img@src"
TOML
until curl -sf "http://127.0.0.1:$site/en/events" >/dev/null; do sleep 0.1; done
RUST_LOG=warn $bin poll akorda-en -c "$work/config.toml" >/dev/null
RUST_LOG=warn $bin run -c "$work/config.toml" &
until curl -sf "http://127.0.0.1:$web/healthz" >/dev/null; do sleep 0.1; done
mkdir -p "$work/static/feeds"
curl -sf "http://127.0.0.1:$web/feeds/$feed.rss" -o "$work/static/feeds/$feed.rss"
items=$(grep -o '<item>' "$work/static/feeds/$feed.rss" | wc -l)
# herald's own gzip bytes, for nginx's gzip_static: both send the same compressed body.
curl -sf -H 'Accept-Encoding: gzip' "http://127.0.0.1:$web/feeds/$feed.rss" -o "$work/static/feeds/$feed.rss.gz"
# nginx as Debian ships it for static files: a worker per core (herald's runtime also has a
# thread per core), sendfile on. NGINX_WORKERS / NGINX_SENDFILE override.
cat > "$work/nginx.conf" <<NGX
worker_processes ${NGINX_WORKERS:-auto};
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile ${NGINX_SENDFILE:-on};
  tcp_nopush on;
  types { application/rss+xml rss; }
  server { listen 127.0.0.1:$ngx; root $work/static; etag on; gzip_static on; }
}
NGX
# nginx's workers run as nobody, and mktemp makes the folder for root alone.
chmod 755 "$work"
nginx -c "$work/nginx.conf"
sleep 0.3
# Both must send the same bytes, or the comparison means nothing.
for enc in identity gzip; do
  for port in $web $ngx; do
    curl -sf -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/feeds/$feed.rss" -o "$work/check-$port" \
      || { echo "127.0.0.1:$port did not answer 200 ($enc); see $work/nginx-error.log"; cat "$work/nginx-error.log"; exit 4; }
  done
  cmp -s "$work/check-$web" "$work/check-$ngx" || { echo "herald and nginx sent different bytes ($enc)"; exit 4; }
done
etag=$(curl -sI "http://127.0.0.1:$web/feeds/$feed.rss" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r')
netag=$(curl -sI "http://127.0.0.1:$ngx/feeds/$feed.rss" | awk -F': ' 'tolower($1)=="etag"{print $2}' | tr -d '\r')
# A run with error answers counts for nothing: stop there.
rps() {
  local out; out=$(wrk $shape -d"${secs}s" "$@")
  if grep -q 'Non-2xx' <<<"$out"; then echo "error answers in: wrk $shape $*" >&2; echo "$out" >&2; exit 4; fi
  awk '/Requests\/sec/{print $2}' <<<"$out"
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
m() { printf '%s\n' "$@" | median; }
bytes=$(wc -c < "$work/static/feeds/$feed.rss")
gzbytes=$(wc -c < "$work/static/feeds/$feed.rss.gz")
# One line per scenario for benches/run.sh: scenario|herald|reference|ratio|target|verdict.
result() {
  local ratio; ratio=$(echo "$2 / $3" | bc -l)
  printf 'RESULT|%s|%s req/s|%s req/s (nginx)|%.2f|>= 1.00|%s\n' "$1" "$2" "$3" "$ratio" \
    "$(echo "$ratio >= 1" | bc -l | sed 's/1/met/;s/0/NOT met/')"
}
IFS=, read -ra shapes <<<"${SHAPES:--t1 -c32,-t2 -c16}"
for shape in "${shapes[@]}"; do
  h200=(); n200=(); h304=(); n304=(); hgz=(); ngz=()
  for _ in $(seq "$runs"); do
    h200+=("$(rps "http://127.0.0.1:$web/feeds/$feed.rss")")
    n200+=("$(rps "http://127.0.0.1:$ngx/feeds/$feed.rss")")
    h304+=("$(rps -H "If-None-Match: $etag" "http://127.0.0.1:$web/feeds/$feed.rss")")
    n304+=("$(rps -H "If-None-Match: $netag" "http://127.0.0.1:$ngx/feeds/$feed.rss")")
    hgz+=("$(rps -H "Accept-Encoding: gzip" "http://127.0.0.1:$web/feeds/$feed.rss")")
    ngz+=("$(rps -H "Accept-Encoding: gzip" "http://127.0.0.1:$ngx/feeds/$feed.rss")")
  done
  printf 'feed: %s items, %s bytes (%s gzipped); wrk %s -d%ss, %s runs each, alternating; medians\n' "$items" "$bytes" "$gzbytes" "$shape" "$secs" "$runs"
  printf '%-28s %12s %12s %8s\n' scenario herald nginx ratio
  printf '%-28s %12s %12s %8.2f\n' "200 /feeds/$feed.rss" "$(m "${h200[@]}")" "$(m "${n200[@]}")" "$(echo "$(m "${h200[@]}") / $(m "${n200[@]}")" | bc -l)"
  printf '%-28s %12s %12s %8.2f\n' "304 If-None-Match" "$(m "${h304[@]}")" "$(m "${n304[@]}")" "$(echo "$(m "${h304[@]}") / $(m "${n304[@]}")" | bc -l)"
  printf '%-28s %12s %12s %8.2f\n' "200 gzip (Accept-Encoding)" "$(m "${hgz[@]}")" "$(m "${ngz[@]}")" "$(echo "$(m "${hgz[@]}") / $(m "${ngz[@]}")" | bc -l)"
  result "serve $feed.rss ($items items), 200, wrk $shape" "$(m "${h200[@]}")" "$(m "${n200[@]}")"
  result "serve $feed.rss ($items items), 304, wrk $shape" "$(m "${h304[@]}")" "$(m "${n304[@]}")"
  result "serve $feed.rss ($items items), 200 gzip, wrk $shape" "$(m "${hgz[@]}")" "$(m "${ngz[@]}")"
done
