"""A remote over HTTP (`--http PORT`): the OSC addresses as web requests, a page for a
phone's browser, and the picture that goes out, live.

For show control that speaks HTTP rather than OSC (Bitfocus Companion on a Stream Deck,
QLab's network cues, a script with curl) and for anyone with a phone on the same network:
- `POST /musicscape/ACTION` does what OSC's `/musicscape/ACTION` does (`INPUT_ADDRESSES`),
  its arguments the body: nothing, a JSON array (`["sky"]`, `[0.5]`), one JSON value, or
  plain text (`sky`). It answers 200 `{"ok": true}`, 400 `{"error": "..."}` in words for
  arguments it cannot take, or 409 with why for an action it cannot do now.
- `GET /musicscape/state` answers what OSC out sends (categories, probabilities, scene, mode,
  onset, colour, mood, level) and the switches (blackout, master, recording) as JSON.
- `GET /musicscape/picture.png` is the picture that goes out now (master and blackout
  included), at the size the canvas gets it, as a PNG.
- `GET /musicscape/live.mjpg` is that picture live, as Motion JPEG (`live_pictures.py`;
  `?fps=N` asks for N frames a second, 1-60, 30 unless asked).
- `GET /screen` is the live picture alone, filling a browser's window (a second screen).
- `GET /` is the remote page: a button per scene, auto, blackout, presets, the picture,
  the recorder, the next file, DMX lights, Ableton Link, MIDI clock and tap tempo, and
  sliders for reactivity, feel, cross-fade and master.

The server's threads never touch the window: each request is handed to the GUI thread by a
queued Qt signal, and the thread waits (REPLY_SECONDS at most) for the answer the GUI
thread writes into the request. The GUI thread never waits on the network. Anyone who can
reach the port can drive the show: use it on a network you trust.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from PyQt6.QtCore import QObject, pyqtSignal

from .http_serving import ServedHttp
from .live_pictures import BOUNDARY, LivePictures, multipart_frame, parse_fps
from .osc_control import INPUT_ADDRESSES, PREFIX
from .picture_saver import png_bytes

STATE = "state"
PICTURE = "picture.png"
LIVE = "live.mjpg"
REPLY_SECONDS = 2.0  # how long a request waits for the GUI thread's answer
MAX_BODY_BYTES = 4096
STREAM_WRITE_SECONDS = 10.0  # a live viewer that takes no data this long is let go


class HttpUnavailable(RuntimeError):
    """The port cannot be used; the message says why."""


@dataclass
class RemoteRequest:
    """One request, answered by the GUI thread: `status` and the JSON `answer`."""

    action: str
    args: tuple
    status: int = 503
    answer: dict = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)

    def reply(self, status: int, answer: dict) -> None:
        self.status, self.answer = status, answer
        self.done.set()


def parse_arguments(body: bytes) -> tuple:
    """A request body as OSC-style arguments: nothing, a JSON array, one JSON value, or
    plain text as one string. ValueError for a body that is none of those."""
    text = body.decode("utf-8").strip()
    if not text:
        return ()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return (text,)
    if isinstance(value, list):
        if not all(isinstance(item, str | int | float | bool) for item in value):
            raise ValueError(f"expected strings and numbers, got {text}")
        return tuple(value)
    if isinstance(value, str | int | float | bool):
        return (value,)
    raise ValueError(f"expected a value or an array of values, got {text}")


class HttpRemote(QObject):
    """Serves the remote on `port` (0: any free one) on its own threads: `pages` the HTML
    served at each of its paths, with the actions, the state and the pictures; `requested`
    fires on the GUI thread for every request that needs the window."""

    requested = pyqtSignal(object)  # a RemoteRequest

    def __init__(self, port: int, pages: dict[str, str], host: str = "0.0.0.0", parent=None):
        super().__init__(parent)
        remote = self
        self.live = LivePictures()
        live = self.live

        class Handler(BaseHTTPRequestHandler):
            server_version = "musicscape"

            def log_message(self, format, *args) -> None:  # noqa: A002 - the base's name
                pass  # the app's log is for faults; the panel says what went wrong

            def do_GET(self) -> None:  # noqa: N802 - the base's name
                path, query = urlsplit(self.path)[2:4]
                if path in pages:
                    self._send(200, pages[path].encode("utf-8"), "text/html; charset=utf-8")
                elif path == PREFIX + STATE:
                    self._answer(remote.ask(STATE, ()))
                elif path == PREFIX + PICTURE:
                    request = remote.ask(PICTURE, ())
                    if request.status != 200:
                        self._answer(request)
                        return
                    picture = png_bytes(request.answer["pixels"])  # encoded here, not in the GUI
                    self._send(200, picture, "image/png")
                elif path == PREFIX + LIVE:
                    self._stream(query)
                else:
                    served = f"/, /screen, {PREFIX}{STATE}, {PREFIX}{PICTURE} or {PREFIX}{LIVE}"
                    self._json(404, {"error": f"no page {path}; try {served}"})

            def _stream(self, query: str) -> None:
                """The live picture, a frame each 1/fps s at most, until the viewer goes
                or the app closes."""
                try:
                    interval = 1.0 / parse_fps(parse_qs(query))
                except ValueError as error:
                    self._json(400, {"error": str(error)})
                    return
                with live.viewer() as admitted:
                    if not admitted:
                        most = live.max_viewers
                        busy = f"the live picture serves {most} viewers at most, all watching"
                        self._json(503, {"error": busy})
                        return
                    self.send_response(200)
                    self.send_header(
                        "Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}"
                    )
                    self.send_header("Cache-Control", "no-store")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.connection.settimeout(STREAM_WRITE_SECONDS)
                    number, due = 0, time.monotonic()
                    while not live.closed:
                        number, jpeg = live.next_jpeg(number)
                        if not jpeg:
                            continue  # no frame yet; or closed
                        try:
                            self.wfile.write(multipart_frame(jpeg))
                        except OSError:
                            return  # the viewer went
                        due = max(due + interval, time.monotonic())
                        time.sleep(max(0.0, due - time.monotonic()))

            def do_POST(self) -> None:  # noqa: N802 - the base's name
                path = urlsplit(self.path).path
                action = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
                if action not in INPUT_ADDRESSES:
                    self._json(404, {"error": f"unknown action {path}"})
                    return
                declared = self.headers.get("Content-Length") or "0"
                length = int(declared) if declared.isdigit() else -1
                if not 0 <= length <= MAX_BODY_BYTES:
                    self._json(413, {"error": f"a body of {declared} bytes cannot be taken"})
                    return
                try:
                    args = parse_arguments(self.rfile.read(length))
                except (ValueError, UnicodeDecodeError) as error:
                    self._json(400, {"error": str(error)})
                    return
                self._answer(remote.ask(action, args))

            def _answer(self, request: RemoteRequest) -> None:
                self._json(request.status, request.answer)

            def _json(self, status: int, answer: dict) -> None:
                self._send(status, json.dumps(answer).encode("utf-8"), "application/json")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        try:
            self._served = ServedHttp(host, port, Handler, "http-remote")
        except OSError as error:
            raise HttpUnavailable(f"cannot serve HTTP on TCP port {port}: {error}") from error

    @property
    def port(self) -> int:
        return self._served.port

    def ask(self, action: str, args: tuple) -> RemoteRequest:
        """On a server thread: hand the request to the GUI thread and wait for its answer."""
        request = RemoteRequest(action, args)
        self.requested.emit(request)
        if not request.done.wait(REPLY_SECONDS):
            request.reply(503, {"error": f"the app did not answer within {REPLY_SECONDS:g} s"})
        return request

    def close(self) -> None:
        self.live.close()
        self._served.close()
