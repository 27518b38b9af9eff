"""The phone page in a real browser: headless Chromium, driven over its DevTools protocol
by a WebSocket client written out here, loads the page from the running app (offscreen,
its HTTP remote on loopback TCP), shows what plays and the live picture, and its buttons
and place slider act on the app, as a phone's browser does. Skipped where Chromium is not installed
(`install.sh --dev` installs it)."""

from __future__ import annotations

import base64
import io
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from visualizer.app.playlist import Playlist
from visualizer.app.websocket_frames import TEXT, accept_key

from .conftest import tone_signal, write_ogg
from .test_websocket_frames import masked

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
TIMEOUT_MS = 20_000
START_SECONDS = 30.0  # Chromium's first start on a loaded machine


class DevToolsPage:
    """One page of the browser, over the DevTools protocol's WebSocket: `evaluate` runs a
    script in it and gives its value, `screenshot` gives what it shows."""

    def __init__(self, url: str):
        address = urlsplit(url)
        self.socket = socket.create_connection((address.hostname, address.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            (
                f"GET {address.path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.socket.recv(1)
        assert head.startswith(b"HTTP/1.1 101") and accept_key(key).encode() in head
        self._calls = 0

    def call(self, method: str, params: dict) -> dict:
        """A DevTools protocol command; its result."""
        self._calls += 1
        call = {"id": self._calls, "method": method, "params": params}
        self.socket.sendall(masked(0x80 | TEXT, json.dumps(call).encode()))
        while True:
            answer = json.loads(self._message())
            if answer.get("id") == self._calls:
                return answer["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def screenshot(self) -> np.ndarray:
        """The page's viewport as uint8 RGB [H, W, 3]."""
        data = base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))

    def _message(self) -> bytes:
        first, length = self._exactly(2)
        assert first & 0x0F == TEXT and first & 0x80  # whole text frames, as Chromium sends
        if length == 126:
            (length,) = struct.unpack("!H", self._exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._exactly(8))
        return self._exactly(length)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            select.select([self.socket], [], [], 10)
            chunk = self.socket.recv(count - len(data))
            assert chunk, "the browser closed the connection"
            data += chunk
        return data

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium at a phone's size, its DevTools port read from its profile."""
    profile = tmp_path / "chromium"
    process = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-dev-shm-usage",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=390,844",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_SECONDS
    while not (port_file.exists() and len(port_file.read_text().split()) == 2):
        assert time.monotonic() < deadline and process.poll() is None, "Chromium did not start"
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    pages: list[DevToolsPage] = []

    def open_page(url: str) -> DevToolsPage:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?{url}", method="PUT")
        with urllib.request.urlopen(request, timeout=10) as response:
            target = json.load(response)
        pages.append(DevToolsPage(target["webSocketDebuggerUrl"]))
        return pages[-1]

    yield open_page
    for page in pages:
        page.close()
    process.terminate()
    process.wait(timeout=10)


def test_the_phone_page_shows_what_plays_and_its_buttons_and_slider_act(
    qtbot, make_window, model_dir, tmp_path, browser
):
    tracks = [
        write_ogg(tmp_path / f"{name}.ogg", tone_signal(20.0, hz))
        for name, hz in (("first", 330.0), ("second", 440.0))
    ]
    window = make_window(model_dir)
    assert window.play_playlist(Playlist(tracks))
    assert window.stage.serve_http(0)
    page = browser(f"http://127.0.0.1:{window.stage.http.port}/")

    def shown(element: str) -> str:
        return page.evaluate(f"document.getElementById('{element}').textContent")

    def lit(element: str) -> bool:
        return page.evaluate(f"document.getElementById('{element}').classList.contains('on')")

    qtbot.waitUntil(lambda: shown("track") == "first.ogg", timeout=TIMEOUT_MS)
    assert lit("play") and not lit("loop")
    width = window.canvas.shown_pixels().shape[1]  # the picture, live: one stream open
    qtbot.waitUntil(
        lambda: page.evaluate("document.getElementById('picture').naturalWidth") == width,
        timeout=TIMEOUT_MS,
    )
    assert window.stage.http.live.viewers == 1
    qtbot.waitUntil(lambda: shown("place").endswith(" / 0:20"), timeout=TIMEOUT_MS)
    page.evaluate("document.querySelector('[data-action=next]').click()")
    qtbot.waitUntil(lambda: window.source.path == tracks[1], timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: shown("track") == "second.ogg", timeout=TIMEOUT_MS)
    page.evaluate("document.getElementById('play').click()")  # pauses
    qtbot.waitUntil(lambda: window.source.paused, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not lit("play"), timeout=TIMEOUT_MS)
    page.evaluate(  # the slider dragged to 12.5 s and let go
        "const slider = document.getElementById('position');"
        "slider.value = 12.5; slider.dispatchEvent(new Event('input'));"
        "slider.dispatchEvent(new Event('change'));"
    )
    qtbot.waitUntil(
        lambda: window.source.position_seconds == pytest.approx(12.5, abs=0.05),
        timeout=TIMEOUT_MS,
    )
    qtbot.waitUntil(lambda: shown("place") == "0:12 / 0:20", timeout=TIMEOUT_MS)
    page.evaluate("document.getElementById('loop').click()")
    qtbot.waitUntil(lambda: window.sources.playlist.loop, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: lit("loop"), timeout=TIMEOUT_MS)
    assert shown("error") == ""  # nothing the page could not do


def test_the_screen_page_fills_the_browser_with_the_live_picture_and_takes_it_up_again(
    qtbot, make_window, model_dir, beats_file, browser
):
    """/screen on a 16:9 browser (a TV's, a second laptop's): the picture, held still,
    drawn as large as the window holds it in its shape, black on each side; the app's
    remote closed and served again (as when the app restarts), the page opens the stream
    again by itself."""
    window = make_window(model_dir)
    window.play_file(beats_file)
    assert window.stage.serve_http(0)
    port = window.stage.http.port
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 5, timeout=TIMEOUT_MS)
    page = browser(f"http://127.0.0.1:{port}/screen?fps=10")
    metrics = {"width": 800, "height": 450, "deviceScaleFactor": 1, "mobile": False}
    page.call("Emulation.setDeviceMetricsOverride", metrics)
    width = window.canvas.shown_pixels().shape[1]
    qtbot.waitUntil(
        lambda: page.evaluate("document.getElementById('picture').naturalWidth") == width,
        timeout=TIMEOUT_MS,
    )
    assert window.stage.set_freeze(True)
    qtbot.wait(1500)  # the held picture has reached the browser
    shown = page.screenshot().astype(int)
    assert shown.shape == (450, 800, 3)
    assert shown[:, :170].max() <= 8 and shown[:, 630:].max() <= 8  # black on each side
    held = Image.fromarray(window.canvas.shown_pixels()).resize((450, 450), Image.BICUBIC)
    assert np.abs(shown[:, 175:625] - np.asarray(held)).mean() < 12.0
    window.stage.http.close()
    assert window.stage.serve_http(port)
    qtbot.waitUntil(lambda: window.stage.http.live.viewers == 1, timeout=TIMEOUT_MS)
