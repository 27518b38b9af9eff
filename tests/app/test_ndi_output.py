"""NDI output, received on this machine by the same library (cyndilib, the 'ndi' extra).

Discovery: NDI on Linux advertises sources through the Avahi daemon (mDNS), which
containers and CI lack; NDI's own config file can list addresses to look at instead, so
the receiver here finds the app's source at 127.0.0.1 (NDI_CONFIG_DIR, set for this test
session only)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from visualizer.app.frame_worker import WorkerSettings

from .conftest import canvas_alone_on_a_window

TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def ndi(tmp_path_factory):
    config = tmp_path_factory.mktemp("ndi")
    (config / "ndi-config.v1.json").write_text(
        json.dumps({"ndi": {"networks": {"ips": "127.0.0.1", "discovery": ""}}})
    )
    saved = os.environ.get("NDI_CONFIG_DIR")
    os.environ["NDI_CONFIG_DIR"] = str(config)  # read when the runtime first starts
    cyndilib = pytest.importorskip("cyndilib", reason="the 'ndi' extra is not installed")
    yield cyndilib
    if saved is None:
        os.environ.pop("NDI_CONFIG_DIR", None)
    else:
        os.environ["NDI_CONFIG_DIR"] = saved


class NdiReceiver:
    def __init__(self, source_name: str):
        from cyndilib.finder import Finder
        from cyndilib.receiver import Receiver
        from cyndilib.video_frame import VideoRecvFrame
        from cyndilib.wrapper import RecvBandwidth, RecvColorFormat

        self.finder = Finder()
        self.finder.open()
        deadline = time.monotonic() + TIMEOUT_S
        while source_name not in self.finder.get_source_names():
            assert time.monotonic() < deadline, f"no NDI source {source_name!r} found"
            self.finder.wait_for_sources(0.5)
        self.receiver = Receiver(
            color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest
        )
        self.frame = VideoRecvFrame()
        self.receiver.set_video_frame(self.frame)
        self.receiver.set_source(self.finder.get_source(source_name))

    def next_frame(self, qtbot) -> np.ndarray:
        """The next video frame, [H, W, 4] RGBA (the event loop keeps running meanwhile)."""
        from cyndilib.receiver import ReceiveFrameType

        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            received = self.receiver.receive(ReceiveFrameType.recv_video, 50)
            if received & ReceiveFrameType.recv_video:
                width, height = self.frame.get_resolution()
                return np.asarray(self.frame).copy().reshape(height, width, 4)
            qtbot.wait(10)
        raise AssertionError("no NDI video frame arrived")

    def close(self):
        self.receiver.disconnect()
        self.finder.close()


def test_the_picture_is_received_over_ndi(qtbot, ndi, make_window, model_dir, beats_file):
    # A fixed output size: the app's own pick may step down on a loaded machine mid-test.
    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=96))
    window.play_file(beats_file)
    stage = window.stage
    stage.perform("blackout", (1,))
    assert stage.set_ndi(True) and stage.ndi_button.isChecked()
    qtbot.waitUntil(lambda: stage.ndi.full_name is not None, timeout=10_000)
    name = stage.ndi.full_name
    assert name.endswith("(musicscape)")
    height, width, _ = window.canvas.current_pixels().shape  # the frames the canvas shows
    assert stage.ndi_label.text() == f"sending '{name}', {width}×{height}"
    receiver = NdiReceiver(name)
    try:
        black = receiver.next_frame(qtbot)
        assert black.shape == (height, width, 4) and black[..., :3].max() <= 8
        assert black[..., 3].min() == 255
        stage.perform("blackout", (0,))
        qtbot.waitUntil(lambda: not stage.blackout, timeout=5000)
        for _ in range(30):  # frames already on their way may still be black
            picture = receiver.next_frame(qtbot)
            if picture[..., :3].mean() > 8:
                break
        assert picture[..., :3].mean() > 8 and picture[..., :3].std() > 2  # a scene
        # The canvas alone on a 16:9 window, filling it: NDI sends the middle it shows.
        window.show()
        canvas_alone_on_a_window(qtbot, window, 640, 360)
        stage.perform("fill", (1,))
        qtbot.waitUntil(lambda: stage.ndi_label.text() == f"sending '{name}', 96×54", timeout=5000)
        for _ in range(30):  # frames already on their way may still be square
            wide = receiver.next_frame(qtbot)
            if wide.shape == (54, 96, 4):
                break
        assert wide.shape == (54, 96, 4)
    finally:
        receiver.close()
    stage.perform("ndi", (0,))
    assert stage.ndi is None and stage.ndi_label.text() == "off"


def test_a_frame_arrives_in_its_own_colours(qtbot, ndi):
    from cyndilib.receiver import ReceiveFrameType

    from visualizer.app.ndi_output import NdiOutput

    frame = np.empty((48, 80, 3), np.uint8)
    frame[:, :40] = (200, 40, 90)  # left half: red above blue
    frame[:, 40:] = (30, 170, 60)  # right half: green
    output = NdiOutput(30.0, name="musicscape-colours")
    output.send(frame)
    receiver = NdiReceiver(output.full_name)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            assert time.monotonic() < deadline, "no NDI video frame arrived"
            output.send(frame)  # frames keep coming, as the canvas's do
            if receiver.receiver.receive(ReceiveFrameType.recv_video, 50) & (
                ReceiveFrameType.recv_video
            ):
                break
            qtbot.wait(10)
        width, height = receiver.frame.get_resolution()
        received = np.asarray(receiver.frame).reshape(height, width, 4).astype(int)
    finally:
        receiver.close()
        output.close()
    assert (width, height) == (80, 48) and received[..., 3].min() == 255
    # NDI compresses: each half's middle within a few levels of what was sent
    assert np.abs(received[8:40, 8:32, :3] - (200, 40, 90)).max() <= 6
    assert np.abs(received[8:40, 48:72, :3] - (30, 170, 60)).max() <= 6


def test_without_the_extra_ndi_names_it():
    code = (
        "import sys; sys.modules['cyndilib'] = None\n"
        "from visualizer.app.ndi_output import NdiOutput, NdiUnavailable\n"
        "try:\n    NdiOutput(60)\nexcept NdiUnavailable as error:\n    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == (
        "NDI output needs the 'ndi' extra (cyndilib is missing): pip install '.[ndi]' or "
        "./install.sh --ndi"
    )


REFUSED_NAME = "x" * 5000  # longer than the NDI runtime takes: it never makes this sender

REFUSAL_SCRIPT = f"""
import time
import numpy as np
from visualizer.app.ndi_output import NdiOutput, NdiUnavailable

frame = np.zeros((48, 80, 3), np.uint8)
output = NdiOutput(30.0, name={REFUSED_NAME!r}, retry_seconds=0.5)
print(output.send(frame), output.full_name, output.frames_sent, output.refusals)
deadline = time.monotonic() + 10
try:
    while time.monotonic() < deadline:
        output.send(frame)
        time.sleep(0.05)
except NdiUnavailable as error:
    print(output.refusals > 2, output.refused_for)
    print(error)
"""


def test_a_sender_the_runtime_refuses_is_asked_for_again_then_named_not_a_crash(ndi):
    # In a process of its own: cyndilib's refusal used to end the process (SIGSEGV).
    result = subprocess.run(
        [sys.executable, "-c", REFUSAL_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # (cyndilib prints "caught exc:" at each refusal)
    lines = [line for line in result.stdout.splitlines() if not line.startswith("caught exc")]
    assert lines[0] == "False None 0 1"  # nothing sent, asked again with the next frame
    assert lines[1] == "True None"  # asked for again with each frame, then given up
    assert lines[2].startswith(f"the NDI runtime did not make a sender named '{REFUSED_NAME}' in ")
    assert lines[2].endswith(" s of asking (NDIlib_send_create made none)")
    asked_for = float(lines[2].split("' in ")[1].split(" s of")[0])
    assert asked_for >= 0.5


def test_the_stage_says_while_the_runtime_refuses_then_turns_ndi_off(
    qtbot, ndi, make_window, model_dir, beats_file
):
    from visualizer.app.ndi_output import NdiOutput

    window = make_window(model_dir, worker_settings=WorkerSettings(output_size=96))
    window.play_file(beats_file)
    stage = window.stage
    assert stage.set_ndi(True)
    qtbot.waitUntil(lambda: stage.ndi.full_name is not None, timeout=10_000)
    stage.ndi.close()
    stage.ndi = NdiOutput(window.worker_settings.fps, name=REFUSED_NAME, retry_seconds=2.0)
    qtbot.waitUntil(lambda: stage.ndi.refusals > 0, timeout=5000)
    assert stage.ndi_label.text().startswith(
        "the NDI runtime has not made the sender yet; asking again with each frame ("
    )
    assert stage.ndi_button.isChecked()
    qtbot.waitUntil(lambda: stage.ndi is None, timeout=10_000)
    assert not stage.ndi_button.isChecked()
    assert stage.ndi_label.text().startswith(
        f"the NDI runtime did not make a sender named '{REFUSED_NAME}' in "
    )
