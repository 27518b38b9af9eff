"""Ableton Link: real Link peers on this machine (LinkPython-extern, the `link` extra), the
app's session and its beat cursor against a peer's own timeline; the window's beats on the
session's grid instead of the music's onsets."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

link = pytest.importorskip("link", reason="the link extra (LinkPython-extern) is not installed")

from visualizer.app.beat_grid import BAR_BEATS  # noqa: E402
from visualizer.app.link_sync import LinkSession  # noqa: E402

from .conftest import beat_times  # noqa: E402

PEER_TEMPO = 150.0  # a beat every 0.4 s
ESTABLISHED_SECONDS = 1.5  # older than Link's 0.5-s margin: a newcomer adopts its session
MEET_TIMEOUT_SECONDS = 10.0


def _wait(condition, timeout: float = MEET_TIMEOUT_SECONDS) -> bool:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def link_network():
    """Skips where two plain Link peers on this machine cannot find each other (Link finds
    peers by UDP multicast on the machine's interfaces, which a sandbox may not pass)."""
    first, second = link.Link(PEER_TEMPO), link.Link(PEER_TEMPO)
    first.enabled = second.enabled = True
    met = _wait(lambda: first.numPeers() == 1 and second.numPeers() == 1)
    first.enabled = second.enabled = False
    if not met:
        pytest.skip("Link peers on this machine do not find each other (no multicast here)")
    assert _wait(lambda: first.numPeers() == 0 and second.numPeers() == 0)


@pytest.fixture
def show_peer(link_network):
    """A Link peer at PEER_TEMPO whose session is established before the app joins (as a
    DJ's software is), left when the test ends."""
    peer = link.Link(PEER_TEMPO)
    peer.enabled = True
    time.sleep(ESTABLISHED_SECONDS)
    yield peer
    peer.enabled = False


def _peer_phase(peer, perf_time: float) -> float:
    """The peer's own phase in a bar at `perf_time` (a time.perf_counter time)."""
    clock = peer.clock()
    offset = time.perf_counter() - clock.micros() / 1e6
    state = peer.captureSessionState()
    return state.phaseAtTime(round((perf_time - offset) * 1e6), BAR_BEATS)


def test_the_app_joins_the_established_session_and_keeps_its_tempo(show_peer):
    session = LinkSession()
    try:
        assert _wait(lambda: session.peers == 1), "Link peers on this machine never met"
        assert _wait(lambda: session.tempo_bpm == PEER_TEMPO)
        time.sleep(0.5)
        assert show_peer.captureSessionState().tempo() == PEER_TEMPO  # never imposed ours
        assert session.tempo_bpm == PEER_TEMPO
    finally:
        session.close()
    assert _wait(lambda: show_peer.numPeers() == 0)


def test_each_beat_of_the_grid_comes_once_at_its_time_the_bar_s_first_marked(show_peer):
    session = LinkSession()
    try:
        assert _wait(lambda: session.peers == 1)
        assert _wait(lambda: session.tempo_bpm == PEER_TEMPO)
        cursor = session.beats()
        assert cursor.read(time.perf_counter()).beats == []  # the first call finds its place
        beats = []
        end = time.perf_counter() + 3.3
        while time.perf_counter() < end:
            beats += cursor.read(time.perf_counter()).beats
            time.sleep(0.004)
    finally:
        session.close()
    times = np.array([beat.time for beat in beats])
    assert len(beats) in (8, 9)  # 3.3 s at 0.4 s a beat
    np.testing.assert_allclose(np.diff(times), 60.0 / PEER_TEMPO, atol=1e-4)
    for beat in beats:
        phase = _peer_phase(show_peer, beat.time)
        assert min(phase % 1.0, 1.0 - phase % 1.0) < 1e-3  # on the peer's own beat
        assert beat.downbeat == (round(phase) % BAR_BEATS == 0)
    assert sum(beat.downbeat for beat in beats) in (2, 3)
    downbeats = [index for index, beat in enumerate(beats) if beat.downbeat]
    assert np.all(np.diff(downbeats) == BAR_BEATS)


def test_after_a_stall_only_the_newest_beat_comes_and_none_without_peers(show_peer):
    session = LinkSession()
    try:
        assert _wait(lambda: session.peers == 1)
        cursor = session.beats()
        cursor.read(time.perf_counter())
        time.sleep(1.3)  # three beats or more go by unasked
        late = cursor.read(time.perf_counter()).beats
        assert len(late) == 1
        assert 0.0 <= time.perf_counter() - late[0].time < 0.4 + 0.05
        show_peer.enabled = False  # the show's software leaves
        assert _wait(lambda: session.peers == 0)
        time.sleep(0.5)
        reading = cursor.read(time.perf_counter())
        assert reading.beats == [] and reading.tempo_bpm is None
        assert session.tempo_bpm is None
    finally:
        session.close()


def test_without_the_extra_the_reason_names_it():
    script = (
        "import sys; sys.modules['link'] = None\n"
        "from visualizer.app.link_sync import LinkSession, LinkUnavailable\n"
        "try:\n    LinkSession()\nexcept LinkUnavailable as error:\n    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == (
        "Ableton Link needs the 'link' extra (LinkPython-extern is missing): "
        "pip install '.[link]' or ./install.sh --link"
    )


def test_the_window_beats_on_the_sessions_grid_and_on_the_music_without_peers(
    qtbot, make_window, model_dir, beats_file, show_peer
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)  # a burst every 0.5 s: the music's own beat
    window.stage.perform("link", (1,))  # OSC /musicscape/link 1
    assert window.settings.link_enabled and window.stage.beats.link_button.isChecked()
    assert _wait(lambda: window.stage.beats.link_session.peers == 1)
    qtbot.waitUntil(
        lambda: (
            window.stage.beats.link_label.text()
            == "1 peer at 150.0 BPM: beats on the session's grid"
        ),
        timeout=5000,
    )
    qtbot.waitUntil(
        lambda: window.panel.tempo_label.text() == "150.0 BPM (Ableton Link)", timeout=5000
    )
    assert window.stage.state()["link"] == {"on": True, "peers": 1}
    times = beat_times(qtbot, window, 2.5)
    assert len(times) >= 5
    np.testing.assert_allclose(np.diff(times), 60.0 / PEER_TEMPO, atol=1e-3)
    for beat_time in times:
        phase = _peer_phase(show_peer, beat_time)
        assert min(phase % 1.0, 1.0 - phase % 1.0) < 2e-3

    show_peer.enabled = False  # the show's software leaves: the music's beats again
    qtbot.waitUntil(
        lambda: window.stage.beats.link_label.text() == "no peers yet: beats from the music",
        timeout=int(MEET_TIMEOUT_SECONDS * 1000),
    )
    qtbot.wait(1000)
    times = beat_times(qtbot, window, 3.0)
    assert len(times) >= 4
    assert abs(np.median(np.diff(times)) - 0.5) < 0.03
    assert not window.panel.tempo_label.text().endswith("(Ableton Link)")

    window.stage.perform("link")  # no argument: toggles off
    assert window.stage.beats.link_session is None and not window.settings.link_enabled
    assert window.stage.beats.link_label.text() == "off"
    assert window.worker_settings.beat_grid is None


def test_link_on_is_remembered_for_the_next_start(qtbot, make_window, model_dir, settings):
    window = make_window(model_dir)
    window.stage.beats.set_link(True)
    window.close()
    again = make_window(model_dir)  # the same settings
    assert again.stage.beats.link_session is not None and again.stage.beats.link_button.isChecked()
    assert again.worker_settings.beat_grid is again.stage.beats.link_session
