"""The picture that goes out as a live stream over HTTP: `GET /musicscape/live.mjpg` on the
HTTP remote (`http_remote.py`), Motion JPEG in a `multipart/x-mixed-replace` response, as
IP cameras serve it. OBS (a Media Source or a Browser Source), VLC, ffmpeg and any
browser's <img> take it, on this machine or across the network, with no extra installed:
for a second screen driven by another computer, a streaming setup, or a look at what the
projector shows from a phone.

The GUI thread only `post`s each outgoing frame (a reference: frames are never changed once
made, as the recorder relies on too) and only while someone watches. Each viewer's server
thread waits for a newer frame (`next_jpeg`), and the first to need a frame encodes it as
JPEG on its own thread; every viewer sends those same bytes. A viewer that cannot keep up
skips to the newest frame; none waits on another.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

JPEG_QUALITY = 85
MAX_VIEWERS = 8  # streams served at once; one more is answered 503
DEFAULT_FPS = 30.0
FPS_RANGE = (1.0, 60.0)  # what a viewer may ask for with ?fps=
BOUNDARY = "musicscape-frame"
RESEND_SECONDS = 1.0  # with no new frame (paused, held still), the newest is sent again


def jpeg_bytes(pixels: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """uint8 RGB [H, W, 3] as the bytes of a JPEG file (4:2:0, as MJPEG players expect)."""
    from PIL import Image

    encoded = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(encoded, format="JPEG", quality=quality)
    return encoded.getvalue()


def multipart_frame(jpeg: bytes) -> bytes:
    """One part of the stream: its boundary line, headers and the JPEG."""
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode("ascii") + jpeg + b"\r\n"


def parse_fps(query: dict[str, list[str]]) -> float:
    """The frame rate a viewer asks for (`?fps=N`, FPS_RANGE), else DEFAULT_FPS.
    ValueError, in words, for one that is not a number in range."""
    asked = query.get("fps")
    if not asked:
        return DEFAULT_FPS
    low, high = FPS_RANGE
    try:
        fps = float(asked[-1])
    except ValueError:
        fps = float("nan")
    if not low <= fps <= high:
        raise ValueError(f"fps: expected a number {low:g}-{high:g}, got {asked[-1]!r}")
    return fps


class LivePictures:
    """The newest outgoing picture, for the live streams' threads (see the module's text)."""

    def __init__(self, max_viewers: int = MAX_VIEWERS, quality: int = JPEG_QUALITY):
        self.max_viewers, self.quality = max_viewers, quality
        self._changed = threading.Condition()
        self._picture: np.ndarray | None = None
        self._number = 0  # of the newest picture posted; 0: none yet
        self._encoding = threading.Lock()
        self._encoded: tuple[int, bytes] = (0, b"")  # the newest picture encoded, and its number
        self._viewers = 0
        self._closed = False

    @property
    def viewers(self) -> int:
        return self._viewers

    @property
    def closed(self) -> bool:
        return self._closed

    def post(self, picture: np.ndarray) -> None:
        """On the GUI thread: the picture that goes out now (never changed later)."""
        with self._changed:
            self._picture = picture
            self._number += 1
            self._changed.notify_all()

    @contextmanager
    def viewer(self) -> Iterator[bool]:
        """A viewer's stream, counted while it lasts: True, or False where MAX_VIEWERS
        already watch or the streams are closed (it is not counted then)."""
        with self._changed:
            admitted = not self._closed and self._viewers < self.max_viewers
            self._viewers += int(admitted)
        try:
            yield admitted
        finally:
            with self._changed:
                self._viewers -= int(admitted)
                if not self._viewers:
                    self._picture = None  # the next viewer starts from a fresh frame

    def next_jpeg(self, after: int, wait_seconds: float = RESEND_SECONDS) -> tuple[int, bytes]:
        """The newest picture posted after number `after`, waited for up to `wait_seconds`,
        else the newest there is (sent again), as (its number, its JPEG). (0, b"") where
        no picture has come since the first viewer came, or the streams are closed."""
        with self._changed:
            self._changed.wait_for(self._newer_than(after), wait_seconds)
            if self._closed or self._picture is None:
                return 0, b""
            number, picture = self._number, self._picture
        with self._encoding:
            if self._encoded[0] < number:  # else another viewer encoded it, or a newer one
                self._encoded = (number, jpeg_bytes(picture, self.quality))
            return self._encoded

    def _newer_than(self, after: int) -> Callable[[], bool]:
        return lambda: self._closed or (self._picture is not None and self._number > after)

    def close(self) -> None:
        """End every stream at its next frame (the app closes)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
