"""A local generator of list pages for herald's polling benchmark (issue 9).

Serves /s/<n> for n in 0..N-1: an akorda-like list page of 20 releases, about 30 KB, with an
ETag, answering 304 to a matching If-None-Match. Records every request (time, path, status)
and the most connections one host ever had open at once, and prints them as JSON on SIGTERM.
With HOSTS=K (default 1) it is K sites: it listens on K loopback addresses (see `host`), and
source n lives on host n % K, so that herald's politeness (two connections per site) limits each
site and not the whole run, as with sources spread over many real sites.
With CHANGING=1 every source publishes a new release each minute (the newest 20 of them are on
its page, whose ETag changes with the minute), so every poll reads and stores something.
Usage: [CHANGING=1] [HOSTS=K] python3 generator.py PORT N OUT.json
"""
import os
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, N, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
state = {"open": {}, "max_open": 0, "requests": []}
HOSTS = int(os.environ.get("HOSTS", "1"))


def host(k):
    """The loopback address of site k: 127.0.0.1, 127.0.0.2, … (all of 127/8 is loopback)."""
    return f"127.0.{(k + 1) // 256}.{(k + 1) % 256}"


CHANGING = os.environ.get("CHANGING") == "1"


def page(n, newest=20):
    cards = []
    for i in range(newest, newest - 20, -1):
        cards.append(
            f'<div class="card"><a href="/s/{n}/r-{i}"><img src="/img/{n}-{i}.jpg"></a>'
            f"<h5>{(i % 28) + 1} March 2026</h5><h3><a href=\"/s/{n}/r-{i}\">Source {n}: the "
            f"Head of State receives a delegation, meeting {i}</a></h3><p>"
            + "The President discussed cooperation in trade, energy and transport. " * 18
            + "</p></div>"
        )
    return ("<html><head><meta charset=\"utf-8\"></head><body>" + "".join(cards) + "</body></html>").encode()


PAGES = {n: page(n) for n in range(N)}
STARTED = time.time()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        site = self.server.server_address[0]
        with lock:
            state["open"][site] = state["open"].get(site, 0) + 1
            state["max_open"] = max(state["max_open"], state["open"][site])

    def finish(self):
        super().finish()
        with lock:
            state["open"][self.server.server_address[0]] -= 1

    def do_GET(self):
        try:
            n = int(self.path.split("/")[2])
            body = PAGES[n]
        except (IndexError, ValueError, KeyError):
            self.send_error(404)
            return
        etag = f'"p{n}"'
        if CHANGING:
            # A release a minute since the generator started, the newest first.
            newest = 20 + int((time.time() - STARTED) // 60)
            etag = f'"p{n}-{newest}"'
            body = page(n, newest)
        status = 304 if self.headers.get("If-None-Match") == etag else 200
        with lock:
            state["requests"].append((time.time(), n, status))
        self.send_response(status)
        self.send_header("ETag", etag)
        if status == 200:
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args):
        pass


servers = [ThreadingHTTPServer((host(k), PORT), Handler) for k in range(HOSTS)]
for server in servers:
    server.daemon_threads = True


def stop(*_):
    with lock:
        json.dump({"max_open": state["max_open"], "requests": state["requests"]}, open(OUT, "w"))
    for server in servers:
        threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
for server in servers[1:]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
servers[0].serve_forever()
