"""The scene remembered for each file: how a file is known, and how the remembered scenes
are kept (JSON, newest last, at most MAX_REMEMBERED_TRACKS, anything else read as none)."""

from __future__ import annotations

import json

import pytest
import soundfile as sf

from visualizer.app.scene_director import AUTO, BIAS, HOLD, SceneMode
from visualizer.app.track_scenes import (
    MAX_REMEMBERED_TRACKS,
    TrackScene,
    TrackScenes,
    track_key,
)
from visualizer.frontend.decode import TrackTags

from .conftest import RATE, beats_signal, write_ogg

WINDOW_TIMEOUT_MS = 10_000


def test_a_file_is_known_by_its_tags_when_it_has_a_title_else_by_name_and_size(tmp_path):
    path = tmp_path / "one.ogg"
    path.write_bytes(b"x" * 1234)
    assert track_key(path, TrackTags()) == "file:one.ogg:1234"
    assert track_key(path, TrackTags(artist="Someone")) == "file:one.ogg:1234"
    tagged = TrackTags("Dune Sea", "Someone", "Sands")
    assert track_key(path, tagged) == "tags:Dune Sea\tSomeone\tSands"
    assert track_key(tmp_path / "gone.ogg", TrackTags()) == "file:gone.ogg"


def test_remembered_scenes_round_trip_through_json_newest_last():
    scenes = TrackScenes()
    scenes.remember("file:a.ogg:1", TrackScene(HOLD, "water"))
    scenes.remember("file:b.ogg:2", TrackScene(BIAS, "désert"))
    scenes.remember("file:a.ogg:1", TrackScene(BIAS, "sky"))  # chosen again: newest
    text = scenes.to_json()
    assert json.loads(text) == [
        ["file:b.ogg:2", BIAS, "désert"],
        ["file:a.ogg:1", BIAS, "sky"],
    ]
    again = TrackScenes(text)
    assert len(again) == 2 and again.scene("file:b.ogg:2") == TrackScene(BIAS, "désert")
    assert again.forget("file:b.ogg:2") and not again.forget("file:b.ogg:2")
    assert again.scene("file:b.ogg:2") is None and len(again) == 1


def test_past_the_limit_the_oldest_choice_goes():
    scenes = TrackScenes()
    for number in range(MAX_REMEMBERED_TRACKS + 5):
        scenes.remember(f"file:{number}.ogg:1", TrackScene(HOLD, "sky"))
    assert len(scenes) == MAX_REMEMBERED_TRACKS
    assert scenes.scene("file:4.ogg:1") is None
    assert scenes.scene("file:5.ogg:1") == TrackScene(HOLD, "sky")
    rows = [[f"file:{number}.ogg:1", HOLD, "sky"] for number in range(MAX_REMEMBERED_TRACKS + 3)]
    assert len(TrackScenes(json.dumps(rows))) == MAX_REMEMBERED_TRACKS


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"file:a.ogg:1": "hold"}',
        '[["file:a.ogg:1", "hold"]]',
        '[["file:a.ogg:1", "auto", "sky"]]',
        '[["file:a.ogg:1", "hold", ""]]',
        '[["file:a.ogg:1", "hold", 3]]',
        "[null, 5]",
    ],
)
def test_anything_else_stored_reads_as_nothing_remembered(text):
    assert len(TrackScenes(text)) == 0


def test_only_the_valid_rows_of_a_stored_list_are_kept():
    text = json.dumps([["file:a.ogg:1", HOLD, "sky"], ["file:b.ogg:2", "spin", "sky"]])
    scenes = TrackScenes(text)
    assert len(scenes) == 1 and scenes.scene("file:a.ogg:1") == TrackScene(HOLD, "sky")


def _tagged_ogg(path, title: str, seconds: float = 6.0):
    signal = beats_signal(seconds)
    with sf.SoundFile(str(path), "w", RATE, 1, format="OGG") as handle:
        handle.title = title
        for start in range(0, len(signal), RATE):
            handle.write(signal[start : start + RATE])
    return path


def test_the_window_starts_a_file_in_its_remembered_scene_after_a_restart(
    qtbot, make_window, model_dir, tmp_path
):
    dune = _tagged_ogg(tmp_path / "dune.ogg", "Dune Sea")
    plain = write_ogg(tmp_path / "plain.ogg", beats_signal(6.0, period=0.25))
    window = make_window(model_dir)
    categories = window.link.runtime.metadata.categories

    def runs(mode: SceneMode, remembered: bool) -> None:
        qtbot.waitUntil(
            lambda: window.worker.settings.scene_mode == mode, timeout=WINDOW_TIMEOUT_MS
        )
        note = " (remembered for this track)" if remembered else ""
        shown = mode.describe(categories)
        # a category the test models have no prototype of waits until the music produces it
        texts = (shown + note, shown + " (waiting to hear it once)" + note)
        qtbot.waitUntil(lambda: window.panel.mode_label.text() in texts, timeout=WINDOW_TIMEOUT_MS)

    assert window.play_file(dune)
    window.set_scene(HOLD, 1)
    runs(SceneMode(HOLD, 1), remembered=True)
    assert window.play_file(plain)
    runs(SceneMode(HOLD, 1), remembered=False)  # the hold goes on over a file of no scene
    window.set_auto_mode()
    runs(SceneMode(AUTO), remembered=False)
    window.close()

    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "renamed.ogg").write_bytes(dune.read_bytes())  # a library moved: the same tags
    window = make_window(model_dir)  # the app started again, on the same settings
    assert window.panel.remember_scenes.text() == ("Remember each track's scene (1 track)")
    assert window.play_file(moved / "renamed.ogg")
    runs(SceneMode(HOLD, 1), remembered=True)
    state = window.stage.state()  # as the HTTP remote answers it
    assert state["remember_scenes"] is True and state["track"]["scene_remembered"] is True
    window.stage.perform("remember_scenes", (0,))  # OSC /musicscape/remember_scenes 0
    runs(SceneMode(AUTO), remembered=False)  # the mode last chosen
    state = window.stage.state()
    assert state["remember_scenes"] is False and state["track"]["scene_remembered"] is False
    window.stage.perform("remember_scenes")  # no argument: toggles
    runs(SceneMode(HOLD, 1), remembered=True)
    assert window.panel.remember_scenes.isChecked()
    assert window.play_file(plain)
    runs(SceneMode(AUTO), remembered=False)
