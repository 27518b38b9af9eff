"""A show gone wrong at once, seeded: for 40 s the real app (its own process, offscreen)
takes OSC messages (good, malformed, out of range, unknown) and HTTP requests (good and
garbage), and viewers of its live picture come and go (each asks for a frame rate, good or
bad, reads part of the stream, stalls or not, and drops the connection, mid-frame or not),
while the PulseAudio sink under the input it captures, or under the output a file
(or a looping list of short files of three rates and channel counts, which go on into each
other or are opened ahead) plays through, is unloaded and loaded again. Throughout, the app
must answer GET /musicscape/state within 5 s (it is answered on the GUI thread, so a frozen
window cannot); at the end its picture must still move, SIGTERM must close it (status 143,
"musicscape closed"), nothing may have left an exception in its log, and every viewer
that went must have been let go. A run of this
kind, with real key presses under Xvfb too, found a window frozen for good in PortAudio's
abort (tests/app/test_stuck_stream.py)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import soundfile as sf
from pythonosc.udp_client import SimpleUDPClient

from visualizer.app.osc_control import INPUT_ADDRESSES

from .conftest import RATE, beats_signal, start_pulse_daemon, stop_daemon
from .test_quit_signals import free_port

SECONDS = 40
ANSWER_SECONDS = 5.0
ODD_ARGUMENTS = [0.5, 1, 0, -1, 7, 1e9, float("nan"), float("inf"), "sky", "", "é" * 300]
BODIES = [b"", b"[0.5]", b'["sky"]', b"1", b"{", b"\xff\xfe", b"[1e999]", b"null", b"[[1]]"]
PATHS = ["/", "/musicscape/state", "/musicscape/picture.png", "/nope", "/musicscape/", "/%ff"]
VIEWER_QUERIES = ["", "?fps=1", "?fps=10", "?fps=60", "?fps=0", "?fps=fast", "?fps=30&fps=2"]
SWITCHES_OFF = (("freeze", 0), ("blackout", 0), ("master", 1.0), ("test_card", 0), ("play", 1))


def short_files_of_three_rates(folder) -> list:
    """Five 3-s files: two of 22,050 Hz mono (one goes on into the other), 44.1 kHz stereo,
    48 kHz mono, 22,050 Hz mono again (each change of rate or channels opened ahead)."""
    paths = []
    for number, (rate, channels) in enumerate(
        ((RATE, 1), (RATE, 1), (44_100, 2), (48_000, 1), (RATE, 1))
    ):
        signal = beats_signal(3.0, rate)
        paths.append(folder / f"short{number}.wav")
        sf.write(paths[-1], np.stack([signal] * channels, axis=1), rate)
    return paths


def watch_and_drop(port: int, rng: random.Random, until: float) -> None:
    """Viewers of the live picture, one after another until `until`: each asks with one of
    VIEWER_QUERIES, reads up to 200 kB of the stream (a part of a frame, or many), may stall
    up to 2 s without reading, and closes the connection."""
    while time.monotonic() < until:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as viewer:
            query = rng.choice(VIEWER_QUERIES)
            viewer.sendall(f"GET /musicscape/live.mjpg{query} HTTP/1.1\r\n\r\n".encode())
            wanted = rng.randrange(200_000)
            while wanted > 0 and (chunk := viewer.recv(min(wanted, 65536))):
                wanted -= len(chunk)
            if rng.random() < 0.3:
                time.sleep(rng.uniform(0.0, 2.0))


def request(url: str, body: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=timeout) as a:
            return a.status, a.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow  # 40 s of chaos, three times
@pytest.mark.parametrize("source", ["input", "file", "list"])
def test_a_chaotic_show_never_freezes_the_app_or_leaves_an_error(
    model_dir, beats_file, tmp_path, source
):
    rng = random.Random(f"chaos {source}")
    pulse = tmp_path / "pulse"
    pulse.mkdir()
    daemon = start_pulse_daemon(pulse)
    server = f"unix:{pulse / 'native'}"

    def pactl(*args: str) -> None:
        subprocess.run(
            ["pactl", f"--server={server}", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )

    osc_port, http_port = free_port(), free_port(socket.SOCK_STREAM)
    base = f"http://127.0.0.1:{http_port}"
    log = tmp_path / "show.log"
    if source == "input":
        heard = ["--input", "this computer"]
    elif source == "file":
        heard = ["--file", str(beats_file), "--loop"]
    else:
        heard = ["--file", *map(str, short_files_of_three_rates(tmp_path)), "--loop"]
    code = "import sys; from visualizer.cli import main; sys.exit(main(sys.argv[1:]))"
    environment = os.environ | {
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "PULSE_SERVER": server,
    }
    environment.pop("PULSE_SOURCE", None)
    app = subprocess.Popen(
        [sys.executable, "-c", code, "--models", str(model_dir), *heard]
        + ["--osc-in", str(osc_port), "--http", str(http_port), "--log", str(log)]
        + ["--settings", str(tmp_path / "app.ini"), "--record-dir", str(tmp_path)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not log.exists() or "models loaded" not in log.read_text():
            assert app.poll() is None and time.monotonic() < deadline, "the app did not start"
            time.sleep(0.2)
        time.sleep(2.0)
        osc = SimpleUDPClient("127.0.0.1", osc_port)
        sink_loaded, next_check, answers = True, 0.0, []
        end = time.monotonic() + SECONDS
        viewers = threading.Thread(  # on a thread and a seed of their own
            target=watch_and_drop, args=(http_port, random.Random(f"viewers {source}"), end)
        )
        viewers.start()
        while time.monotonic() < end:
            roll = rng.random()
            if roll < 0.55:
                address = rng.choice([*INPUT_ADDRESSES, "nonsense"])
                count = rng.choice([0, 1, 1, 2])
                osc.send_message(
                    f"/musicscape/{address}", [rng.choice(ODD_ARGUMENTS) for _ in range(count)]
                )
            elif roll < 0.9:
                if rng.random() < 0.5:
                    action = rng.choice(list(INPUT_ADDRESSES))
                    status, body = request(f"{base}/musicscape/{action}", rng.choice(BODIES))
                else:
                    status, body = request(base + rng.choice(PATHS))
                assert status < 500, (status, body, log.read_text()[-2000:])
            else:
                if sink_loaded:
                    pactl("unload-module", "module-null-sink")
                else:
                    pactl("load-module", "module-null-sink", "sink_name=musicscape_test")
                    pactl("set-default-sink", "musicscape_test")
                sink_loaded = not sink_loaded
            time.sleep(rng.uniform(0.0, 0.08))
            if time.monotonic() >= next_check:  # the GUI thread answers, or it is frozen
                next_check = time.monotonic() + 2.0
                began = time.monotonic()
                status, _ = request(f"{base}/musicscape/state", timeout=ANSWER_SECONDS)
                answers.append(time.monotonic() - began)
                assert status == 200, f"the window did not answer: {status}"
        viewers.join(timeout=30)
        if not sink_loaded:
            pactl("load-module", "module-null-sink", "sink_name=musicscape_test")
            pactl("set-default-sink", "musicscape_test")
        for address, value in SWITCHES_OFF:
            osc.send_message(f"/musicscape/{address}", value)
        time.sleep(3.0)
        first = request(f"{base}/musicscape/picture.png")[1]
        time.sleep(1.5)
        assert request(f"{base}/musicscape/picture.png")[1] != first  # the picture moves
        state = json.loads(request(f"{base}/musicscape/state")[1])
        assert state["blackout"] is False and state["freeze"] is False
        assert not viewers.is_alive() and state["live_viewers"] == 0  # every one let go
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        app.kill()
        stop_daemon(daemon)
    text = log.read_text()
    assert text.rstrip().endswith("musicscape closed"), text[-2000:]
    assert "Traceback" not in text and "Something went wrong" not in text, text[-3000:]
    assert max(answers) < ANSWER_SECONDS
    if source == "list":  # the list went from file to file meanwhile, through each rate
        played = {line.rsplit("/", 1)[-1] for line in text.splitlines() if " playing " in line}
        assert {"short2.wav", "short3.wav"} <= played, played
