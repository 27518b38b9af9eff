"""The real `musicscape` window on a real X server (Xvfb, xcb platform), screenshotted.

The PNG is kept as test-artifacts/app_screenshot.png for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREEN = (1280, 800)


@pytest.fixture
def x_display(tmp_path):
    if shutil.which("Xvfb") is None or shutil.which("import") is None:
        pytest.skip("Xvfb or ImageMagick's import is not installed (apt install xvfb imagemagick)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{SCREEN[0]}x{SCREEN[1]}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        number = handle.readline().strip()
    if not number:
        server.kill()
        pytest.fail("Xvfb did not report a display number")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=5)


def test_real_window_under_xvfb(x_display, model_dir, beats_file, tmp_path):
    from PIL import Image

    environment = dict(os.environ, DISPLAY=x_display, QT_QPA_PLATFORM="xcb")
    environment.pop("WAYLAND_DISPLAY", None)
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "visualizer.cli",
            "--models",
            str(model_dir),
            "--file",
            str(beats_file),
            "--settings",
            str(tmp_path / "settings.ini"),
            "--log",
            str(tmp_path / "show.log"),  # not the user's own log
            "--silent",
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    shot = tmp_path / "shot.png"
    colours = 0
    deadline = time.monotonic() + 120  # start-up, then music in the spectrogram; load slows it
    try:
        while colours <= 500 and time.monotonic() < deadline:
            time.sleep(2.0)
            assert app.poll() is None, app.communicate()[0].decode(errors="replace")
            subprocess.run(
                ["import", "-window", "root", str(shot)], env=environment, check=True, timeout=30
            )
            pixels = np.asarray(Image.open(shot).convert("RGB"))
            colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    finally:
        app.terminate()
        output = app.communicate(timeout=10)[0].decode(errors="replace")
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "app_screenshot.png")
    assert pixels.shape == (SCREEN[1], SCREEN[0], 3)
    assert colours > 500, f"the screen looks empty ({colours} colours); app said: {output}"
    assert "Traceback" not in output, output
    assert f"playing {beats_file}" in (tmp_path / "show.log").read_text()
