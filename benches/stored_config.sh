#!/usr/bin/env bash
# The config of N sources named like benches/store_scale.rs's (source-0000 …), never polled (a
# schedule that does not fire in the benchmark), on the data folder DB, listening on PORT: for
# timing `herald run` on a database store_scale filled (benches/run.sh, benches/ceiling.sh).
#   bash benches/stored_config.sh N DB PORT > config.toml
set -euo pipefail
n=$1 db=$2 port=$3
printf '[general]\ndata_dir = "%s"\npublic_url = "http://127.0.0.1:%s"\n[server]\nlisten = "127.0.0.1:%s"\n' "$db" "$port" "$port"
for i in $(seq 0 $((n - 1))); do
  printf '[[sources]]\nid = "source-%04d"\nurl = "http://127.0.0.1:9/s/%s"\nschedule = "0 0 0 1 1 *"\ntimezone = "UTC"\n' "$i" "$i"
  printf '[sources.list]\nitem = "div.card"\ntitle = "h3 a"\nlink = "h3 a@href"\ndate = "h5"\n'
done
