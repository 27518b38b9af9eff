"""The HTTP remote against the running app (offscreen): real requests over loopback TCP,
made from a thread of their own while the test's thread runs the window's event loop (as
a phone or a Stream Deck would, from another machine)."""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from visualizer.app.dmx_output import ARTNET, DmxTarget
from visualizer.app.http_remote import parse_arguments
from visualizer.app.osc_control import INPUT_ADDRESSES
from visualizer.app.remote_page import REMOTE_PAGE
from visualizer.app.scene_director import AUTO, HOLD, SceneMode

from .conftest import canvas_alone_on_a_window

TIMEOUT_MS = 15_000


@pytest.fixture
def remote(make_window, model_dir):
    window = make_window(model_dir)
    assert window.stage.serve_http(0)
    with ThreadPoolExecutor(max_workers=1) as requests:
        yield window, requests


def ask(qtbot, requests, window, path: str, body: bytes | None = None) -> tuple[int, object]:
    """One request to the window's remote (POST when there is a body); (status, answer)."""
    url = f"http://127.0.0.1:{window.stage.http.port}{path}"

    def send():
        request = urllib.request.Request(
            url, data=body, method="POST" if body is not None else "GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read()

    future = requests.submit(send)
    qtbot.waitUntil(future.done, timeout=TIMEOUT_MS)
    status, kind, data = future.result()
    return status, json.loads(data) if kind == "application/json" else data.decode()


def test_bodies_become_osc_style_arguments():
    assert parse_arguments(b"") == ()
    assert parse_arguments(b'["sky"]') == ("sky",)
    assert parse_arguments(b"[2, 0.5, true]") == (2, 0.5, True)
    assert parse_arguments(b"0.75") == (0.75,)
    assert parse_arguments(b"mountain\n") == ("mountain",)  # plain text: one string
    with pytest.raises(ValueError, match="expected strings and numbers"):
        parse_arguments(b'[{"a": 1}]')
    with pytest.raises(ValueError, match="expected a value or an array of values"):
        parse_arguments(b'{"hold": "sky"}')


def test_the_page_and_the_state_are_served(qtbot, remote, beats_file):
    window, requests = remote
    port = window.stage.http.port
    assert f":{port}/" in window.stage.http_label.text()
    status, page = ask(qtbot, requests, window, "/")
    assert status == 200 and "<title>musicscape remote</title>" in page
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert status == 200
    assert state["categories"] == ["sky", "water", "mountain", "desert"]
    assert (state["blackout"], state["master"], state["recording"]) == (False, 1.0, False)
    assert state["recording_progress"] is None
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.stage.state().get("scene") is not None, timeout=TIMEOUT_MS)
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["mode"] == AUTO and state["scene"] in state["categories"]
    assert len(state["probabilities"]) == 4 and abs(sum(state["probabilities"]) - 1) < 1e-4
    assert -1 <= state["arousal"] <= 1 and len(state["colour"]) == 3
    qtbot.waitUntil(lambda: window.canvas.frames_painted >= 30, timeout=TIMEOUT_MS)
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert 0 < state["frames_per_second"] <= window.worker_settings.fps * 1.1


def test_actions_drive_the_window_as_osc_does(qtbot, remote):
    window, requests = remote
    assert ask(qtbot, requests, window, "/musicscape/hold", b'["mountain"]') == (200, {"ok": True})
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=TIMEOUT_MS
    )
    assert window.settings.scene_category == "mountain"
    assert ask(qtbot, requests, window, "/musicscape/master", b"0.5") == (200, {"ok": True})
    assert window.stage.level.master == 0.5 and window.stage.master_slider.value() == 50
    assert ask(qtbot, requests, window, "/musicscape/blackout", b"") == (200, {"ok": True})
    assert window.stage.blackout
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert (state["blackout"], state["master"]) == (True, 0.5)
    assert ask(qtbot, requests, window, "/musicscape/auto", b"") == (200, {"ok": True})
    qtbot.waitUntil(lambda: window.worker.settings.scene_mode == SceneMode(), timeout=TIMEOUT_MS)
    for _ in range(2):  # the page's Tap button, twice: the beats follow the taps
        assert ask(qtbot, requests, window, "/musicscape/tap", b"") == (200, {"ok": True})
        qtbot.wait(400)
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["tap"]["on"] and 60 < state["tap"]["tempo_bpm"] < 200
    assert ask(qtbot, requests, window, "/musicscape/tap", b"[0]") == (200, {"ok": True})
    assert window.worker_settings.beat_grid is None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as lights:  # the page's DMX button
        lights.bind(("127.0.0.1", 0))
        window.settings.dmx_target = DmxTarget(ARTNET, "127.0.0.1", lights.getsockname()[1], 0, 1)
        assert ask(qtbot, requests, window, "/musicscape/dmx", b"") == (200, {"ok": True})
        status, state = ask(qtbot, requests, window, "/musicscape/state")
        assert state["dmx"]["to"] == f"127.0.0.1:{lights.getsockname()[1]}"
        assert ask(qtbot, requests, window, "/musicscape/dmx", b"") == (200, {"ok": True})
        status, state = ask(qtbot, requests, window, "/musicscape/state")
        assert state["dmx"] is None


def test_a_request_the_app_cannot_take_is_answered_in_words_and_changes_nothing(qtbot, remote):
    window, requests = remote
    status, answer = ask(qtbot, requests, window, "/musicscape/hold", b"forest")
    message = (
        "HTTP /musicscape/hold: expected a category (sky, water, mountain, desert) or its "
        "number 1-4, got ['forest']"
    )
    assert (status, answer) == (400, {"error": message})
    assert window.faults["remote"] == message and window.settings.scene_mode == AUTO
    assert ask(qtbot, requests, window, "/musicscape/fly", b"1") == (
        404,
        {"error": "unknown action /musicscape/fly"},
    )
    assert ask(qtbot, requests, window, "/musicscape/reactivity", b"[1, 2") == (
        400,
        {"error": "HTTP /musicscape/reactivity: expected one number 0-3, got ['[1, 2']"},
    )
    for action in ("reactivity", "preset", "blackout"):  # a JSON integer no float holds
        status, answer = ask(qtbot, requests, window, f"/musicscape/{action}", b"9" * 400)
        assert status == 400 and answer["error"].endswith("got [" + "9" * 38 + "…"), answer
    assert ask(qtbot, requests, window, "/photos") == (
        404,
        {
            "error": "no page /photos; try /, /screen, /musicscape/state, "
            "/musicscape/picture.png "
            "or /musicscape/live.mjpg"
        },
    )
    assert ask(qtbot, requests, window, "/musicscape/hold", b"x" * 5000) == (
        413,
        {"error": "a body of 5000 bytes cannot be taken"},
    )
    with socket.create_connection(("127.0.0.1", window.stage.http.port), timeout=10) as raw:
        raw.sendall(b"POST /musicscape/hold HTTP/1.0\r\nContent-Length: -1\r\n\r\n")
        answer = raw.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 413 ") and answer.endswith(
        b'{"error": "a body of -1 bytes cannot be taken"}'
    )
    assert ask(qtbot, requests, window, "/musicscape/reactivity", b"1.5") == (200, {"ok": True})
    assert "remote" not in window.faults  # a good one clears the complaint


def test_an_action_the_app_cannot_do_now_is_refused_with_the_reason(qtbot, remote, beats_file):
    window, requests = remote
    refusals = {
        "dmx": "no address yet: start with --artnet HOST or --sacn (a DMX node, a lighting "
        "desk or a broadcast address)",
        "next": "no file list plays: next is for files (--file, Open file…, a drop)",
    }
    for action, reason in refusals.items():
        message = f"HTTP /musicscape/{action}: {reason}"
        assert ask(qtbot, requests, window, f"/musicscape/{action}", b"") == (
            409,
            {"error": message},
        )
        assert window.faults["remote"] == message
    assert window.stage.lights.dmx is None and not window.stage.lights.dmx_button.isChecked()
    window.play_file(beats_file)  # a list of one file: next ends it
    assert ask(qtbot, requests, window, "/musicscape/next", b"") == (
        409,
        {"error": "HTTP /musicscape/next: that was the list's last file: the list has ended"},
    )
    assert window.sources.playlist_ended
    assert ask(qtbot, requests, window, "/musicscape/dmx", b"0") == (200, {"ok": True})
    assert "remote" not in window.faults  # turning off what is off is done, not refused


def test_the_state_says_whether_the_file_plays_where_and_how_long(qtbot, remote, beats_file):
    window, requests = remote
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["play"] is False and "length_seconds" not in state  # nothing plays yet
    window.play_file(beats_file)
    window.seek(10.0)
    qtbot.waitUntil(lambda: window.source.position_seconds >= 10.0, timeout=TIMEOUT_MS)
    status, state = ask(qtbot, requests, window, "/musicscape/state")
    assert state["play"] is True and state["length_seconds"] == 30.0
    assert 10.0 <= state["position_seconds"] < 12.0
    assert ask(qtbot, requests, window, "/musicscape/play", b"0") == (200, {"ok": True})
    assert window.source.paused
    assert ask(qtbot, requests, window, "/musicscape/state")[1]["play"] is False
    assert ask(qtbot, requests, window, "/musicscape/loop", b"1") == (200, {"ok": True})
    assert ask(qtbot, requests, window, "/musicscape/shuffle", b"") == (200, {"ok": True})
    state = ask(qtbot, requests, window, "/musicscape/state")[1]
    assert state["loop"] is True and state["shuffle"] is True
    assert window.sources.playlist.loop and window.source.loop  # one file: it loops itself


def test_a_port_in_use_is_named(make_window, model_dir):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        window = make_window(model_dir)
        assert not window.stage.serve_http(port)
    assert window.faults["remote"].startswith(f"cannot serve HTTP on TCP port {port}: ")
    assert window.stage.http_label.text() == "off (--http PORT)"


def test_every_button_of_the_page_sends_an_action_the_remote_takes():
    buttons = set(re.findall(r'data-action="(\w+)"', REMOTE_PAGE))
    assert buttons == {
        "blackout",
        "freeze",
        "picture",
        "record",
        "previous",
        "play",
        "next",
        "loop",
        "shuffle",
        "dmx",
        "link",
        "midi_clock",
        "test_card",
        "fill",
    }
    sent = set(re.findall(r'send\("(\w+)"', REMOTE_PAGE))  # the script's own buttons
    sent |= set(re.findall(r'button\([^,]+, "(\w+)"', REMOTE_PAGE))
    assert sent == {"auto", "hold", "preset", "tap", "nudge_corner", "corner", "pinning", "seek"}
    assert buttons | sent <= set(INPUT_ADDRESSES)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_script_parses_and_names_only_elements_the_page_has(tmp_path):
    script = REMOTE_PAGE.split("<script>")[1].split("</script>")[0]
    (tmp_path / "remote.js").write_text(script)
    subprocess.run(["node", "--check", str(tmp_path / "remote.js")], check=True, timeout=30)
    ids = set(re.findall(r'id="(\w+)"', REMOTE_PAGE))
    named = set(re.findall(r'getElementById\("(\w+)"\)', script))
    named |= {"reactivity", "feel", "crossfade", "master"}  # the sliders, looked up by name
    assert named <= ids


def test_no_picture_is_answered_in_words_and_saving_one_is_refused(qtbot, make_window, tmp_path):
    window = make_window(tmp_path / "no-models")  # never a picture (the worker paints even
    assert window.stage.serve_http(0)  # silence, so a window with models soon has one)
    with ThreadPoolExecutor(max_workers=1) as requests:
        status, answer = ask(qtbot, requests, window, "/musicscape/picture.png")
        assert (status, answer) == (503, {"error": "no picture yet"})
        refused = "HTTP /musicscape/picture: No picture yet: nothing has been shown"
        assert ask(qtbot, requests, window, "/musicscape/picture", b"") == (
            409,
            {"error": refused},
        )


def test_the_picture_that_goes_out_is_served_as_a_png(qtbot, remote, beats_file):
    window, requests = remote
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 5, timeout=TIMEOUT_MS)
    shown = window.canvas.current_pixels().shape
    status, png = ask_bytes(qtbot, requests, window, "/musicscape/picture.png")
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert status == 200 and picture.shape == shown and picture.mean() > 5  # a scene
    window.stage.perform("blackout", (1,))  # a cut (no fade set): black from the next frame
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 2, timeout=TIMEOUT_MS)
    status, png = ask_bytes(qtbot, requests, window, "/musicscape/picture.png")
    assert not np.asarray(Image.open(io.BytesIO(png))).any()  # what goes out: black
    # the canvas alone on a 16:9 window, filling it: the middle it shows
    canvas_alone_on_a_window(qtbot, window, 640, 360)
    window.stage.perform("fill", (1,))
    status, png = ask_bytes(qtbot, requests, window, "/musicscape/picture.png")
    height, width, _ = np.asarray(Image.open(io.BytesIO(png))).shape
    assert status == 200 and width >= 64 and height == round(width * 9 / 16)


def ask_bytes(qtbot, requests, window, path: str) -> tuple[int, bytes]:
    url = f"http://127.0.0.1:{window.stage.http.port}{path}"

    def fetch():
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"] == "image/png"
            return response.status, response.read()

    future = requests.submit(fetch)
    qtbot.waitUntil(future.done, timeout=TIMEOUT_MS)
    return future.result()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_writes_a_file_s_place_in_minutes_and_seconds():
    script = REMOTE_PAGE.split("<script>")[1].split("</script>")[0]
    clock = re.search(r"function clock\(seconds\) \{.*?\n\}", script, re.DOTALL).group(0)
    shown = subprocess.run(
        ["node", "-e", clock + "; console.log([83.4, 5, 600, 3599.9].map(clock).join(' '))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert shown.stdout.strip() == "1:23 0:05 10:00 59:59"
