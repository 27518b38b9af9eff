"""An HTTP server answering from threads of its own, for the app's two servers (the HTTP
remote, http_remote.py, and OSCQuery, osc_query.py): bound at once (an OSError for a port
that cannot be had, which each turns into its own words), one thread accepting, one per
request, none of them keeping the app from exiting."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JOIN_SECONDS = 2.0  # the longest close waits for the accepting thread


class ServedHttp:
    """`handler` served on `host`:`port` (0: any free port; `port` says which) until `close`."""

    def __init__(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str):
        self._server = ThreadingHTTPServer((host, port), handler)  # OSError: not to be had
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=JOIN_SECONDS)
