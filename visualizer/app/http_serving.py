"""An HTTP server answering from threads of its own, for the app's two servers (the HTTP
remote, http_remote.py, and OSCQuery, osc_query.py): bound at once (an OSError for a port
that cannot be had, which each turns into its own words), one thread accepting, one per
request, none of them keeping the app from exiting."""

from __future__ import annotations

import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JOIN_SECONDS = 2.0  # the longest close waits for the accepting thread
# How often a server's thread looks for its shutdown (the app's OSC listener's too): the
# app's close waits up to this for each (at socketserver's 0.5 s, the three of them held a
# closing window 1.0-1.4 s)
SHUTDOWN_POLL_SECONDS = 0.05


class ServedHttp:
    """`handler` served on `host`:`port` (0: any free port; `port` says which) until `close`."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str):
        self._server = ThreadingHTTPServer((host, port), handler)  # OSError: not to be had
        self._server.daemon_threads = True
        serve = partial(self._server.serve_forever, poll_interval=SHUTDOWN_POLL_SECONDS)
        self._thread = threading.Thread(target=serve, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=JOIN_SECONDS)
