"""The live picture (live_pictures.py, served by http_remote.py as `/musicscape/live.mjpg`):
the frames themselves with known pictures, then the running app's stream read over
loopback TCP as a viewer reads it (a raw multipart reader, and FFmpeg's MJPEG demuxer as
OBS, VLC and ffmpeg use it)."""

from __future__ import annotations

import io
import socket
import threading
import time

import av
import numpy as np
import pytest
from PIL import Image

from visualizer.app.live_pictures import (
    BOUNDARY,
    DEFAULT_FPS,
    LivePictures,
    jpeg_bytes,
    multipart_frame,
    parse_fps,
)

TIMEOUT_MS = 15_000


def decoded(jpeg: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


def gradient(height: int = 48, width: int = 64) -> np.ndarray:
    rows, columns = np.mgrid[0:height, 0:width]
    return np.stack([rows * 5, columns * 4, 255 - rows * 5], axis=-1).astype(np.uint8)


def test_a_frame_is_a_jpeg_of_the_picture_within_its_loss():
    picture = gradient()
    jpeg = jpeg_bytes(picture)
    assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    assert np.abs(decoded(jpeg).astype(int) - picture).mean() < 2.0
    part = multipart_frame(jpeg)
    head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    assert part == head.encode() + jpeg + b"\r\n"


def test_a_viewer_s_frame_rate_is_read_from_the_query():
    assert parse_fps({}) == DEFAULT_FPS == 30.0
    assert parse_fps({"fps": ["12.5"]}) == 12.5
    assert parse_fps({"fps": ["1"]}) == 1.0 and parse_fps({"fps": ["60"]}) == 60.0
    for bad in ("0", "61", "nan", "fast", ""):
        with pytest.raises(ValueError) as error:
            parse_fps({"fps": [bad]})
        assert str(error.value) == f"fps: expected a number 1-60, got {bad!r}"


def test_each_picture_is_encoded_once_for_every_viewer_and_the_newest_wins():
    live = LivePictures()
    with live.viewer() as first, live.viewer() as second:
        assert first and second and live.viewers == 2
        assert live.next_jpeg(0, wait_seconds=0.0) == (0, b"")  # none posted yet
        live.post(np.zeros((8, 8, 3), np.uint8))
        live.post(gradient())  # a viewer that was slow gets the newest, not the one missed
        number, jpeg = live.next_jpeg(0)
        assert number == 2 and np.abs(decoded(jpeg).astype(int) - gradient()).mean() < 2.0
        assert live.next_jpeg(0) == (2, jpeg) and live.next_jpeg(0)[1] is jpeg  # shared
        began = time.monotonic()
        assert live.next_jpeg(2, wait_seconds=0.2) == (2, jpeg)  # nothing newer: sent again
        assert time.monotonic() - began >= 0.19
    assert live.viewers == 0
    with live.viewer():  # the next viewer starts from a fresh frame, not the one left over
        assert live.next_jpeg(0, wait_seconds=0.0) == (0, b"")


def test_viewers_past_the_limit_and_after_closing_are_not_admitted_and_waits_end():
    live = LivePictures(max_viewers=1)
    with live.viewer() as first:
        with live.viewer() as second:
            assert first and not second and live.viewers == 1
        ended = []
        waiting = threading.Thread(target=lambda: ended.append(live.next_jpeg(0, 30.0)))
        waiting.start()
        live.close()
        waiting.join(timeout=5.0)
        assert ended == [(0, b"")]
    with live.viewer() as late:
        assert not late and live.viewers == 0


class StreamReader:
    """A viewer of the live picture over a plain socket: the response's head, then its
    parts, each checked for the boundary and headers the stream promises."""

    def __init__(self, port: int, query: str = ""):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.socket.sendall(
            f"GET /musicscape/live.mjpg{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
        )
        self.file = self.socket.makefile("rb")
        self.status = int(self.file.readline().split()[1])
        self.headers = {}
        while line := self.file.readline().strip():
            name, value = line.decode().split(":", 1)
            self.headers[name.lower()] = value.strip()

    def next_frame(self) -> bytes:
        assert self.file.readline() == f"--{BOUNDARY}\r\n".encode()
        assert self.file.readline() == b"Content-Type: image/jpeg\r\n"
        name, length = self.file.readline().decode().split(":")
        assert name == "Content-Length" and self.file.readline() == b"\r\n"
        jpeg = self.file.read(int(length))
        assert self.file.read(2) == b"\r\n"
        return jpeg

    def close(self) -> None:
        self.file.close()
        self.socket.close()


def read_in_thread(qtbot, call):
    """`call()` on a thread of its own while the window's event loop runs; its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=TIMEOUT_MS)
    return result[0]


@pytest.fixture
def streaming(qtbot, make_window, model_dir, beats_file):
    window = make_window(model_dir)
    assert window.stage.serve_http(0)
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 5, timeout=TIMEOUT_MS)
    return window


def test_the_running_app_streams_the_picture_that_goes_out(qtbot, streaming):
    window = streaming
    port = window.stage.http.port
    assert "/musicscape/live.mjpg" in window.stage.http_label.toolTip()
    assert window.stage.http.live.viewers == 0
    viewer = read_in_thread(qtbot, lambda: StreamReader(port, "?fps=10"))
    assert viewer.status == 200
    assert viewer.headers["content-type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    frames = read_in_thread(qtbot, lambda: [decoded(viewer.next_frame()) for _ in range(3)])
    assert window.stage.http.live.viewers == 1 and window.stage.state()["live_viewers"] == 1
    assert {frame.shape for frame in frames} == {window.canvas.shown_pixels().shape}
    assert frames[0].mean() > 5  # a scene
    assert window.stage.set_freeze(True)  # held still: the stream shows that very picture
    read_in_thread(qtbot, lambda: [viewer.next_frame() for _ in range(3)])
    held = decoded(read_in_thread(qtbot, viewer.next_frame)).astype(int)
    assert np.abs(held - window.canvas.shown_pixels()).mean() < 3.0
    window.stage.perform("blackout", (1,))  # a cut: black from the next frame
    read_in_thread(qtbot, lambda: [viewer.next_frame() for _ in range(3)])
    assert decoded(read_in_thread(qtbot, viewer.next_frame)).max() <= 2
    viewer.close()  # the viewer goes: its thread lets go of it at its next frame
    qtbot.waitUntil(lambda: window.stage.state()["live_viewers"] == 0, timeout=TIMEOUT_MS)


def test_a_viewer_gets_no_more_frames_than_it_asked_for(qtbot, streaming):
    viewer = read_in_thread(qtbot, lambda: StreamReader(streaming.stage.http.port, "?fps=2"))

    def frames_in_two_seconds() -> int:
        viewer.next_frame()
        began, count = time.monotonic(), 0
        while time.monotonic() - began < 2.0:
            viewer.next_frame()
            count += 1
        return count

    assert 1 <= read_in_thread(qtbot, frames_in_two_seconds) <= 5  # 4 at 2 fps, less if late
    viewer.close()


def test_bad_frame_rates_and_viewers_past_the_limit_are_answered_in_words(qtbot, streaming):
    port = streaming.stage.http.port
    refused = read_in_thread(qtbot, lambda: StreamReader(port, "?fps=100"))
    assert refused.status == 400
    assert refused.file.read().endswith(b'{"error": "fps: expected a number 1-60, got \'100\'"}')
    streaming.stage.http.live.max_viewers = 1
    first = read_in_thread(qtbot, lambda: StreamReader(port))
    second = read_in_thread(qtbot, lambda: StreamReader(port))
    assert (first.status, second.status) == (200, 503)
    assert second.file.read().endswith(
        b'{"error": "the live picture serves 1 viewers at most, all watching"}'
    )
    first.close()


def test_closing_the_remote_ends_every_stream(qtbot, streaming):
    viewer = read_in_thread(qtbot, lambda: StreamReader(streaming.stage.http.port))
    read_in_thread(qtbot, viewer.next_frame)
    streaming.stage.http.close()
    rest = read_in_thread(qtbot, viewer.file.read)  # to the end: the stream was closed
    assert len(rest) < 2_000_000


def test_ffmpeg_s_mjpeg_demuxer_reads_the_stream_as_obs_and_vlc_do(qtbot, streaming):
    url = f"http://127.0.0.1:{streaming.stage.http.port}/musicscape/live.mjpg?fps=10"
    shown = streaming.canvas.shown_pixels().shape

    def decode_three() -> list[np.ndarray]:
        with av.open(url, format="mpjpeg", timeout=10) as container:
            frames = container.decode(video=0)
            return [next(frames).to_ndarray(format="rgb24") for _ in range(3)]

    frames = read_in_thread(qtbot, decode_three)
    assert [frame.shape for frame in frames] == [shown] * 3 and frames[-1].mean() > 5
