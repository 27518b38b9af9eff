"""The scene controls: each control clipped to its range, kept in the settings, shown in the
panel and sent to the worker as a command (never written into the worker)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from visualizer.app.control_panel import ControlPanel
from visualizer.app.frame_worker import (
    SetAvOffset,
    SetCrossfade,
    SetFeelStrength,
    SetLogFrequency,
    SetReactivity,
    SetSceneMemory,
    SetSceneMode,
    SetSceneOnBeat,
)
from visualizer.app.scene_controls import SceneControls
from visualizer.app.scene_director import (
    AUTO,
    BIAS,
    HOLD,
    MAX_BEAT_WAIT_SECONDS,
    MAX_CROSSFADE_SECONDS,
    MIN_CROSSFADE_SECONDS,
    SceneMode,
)
from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.scene_memory import MAX_APP_SECONDS

CATEGORIES = ("sky", "water", "mountain")
WINDOW_TIMEOUT_MS = 10_000


class LinkStandIn:
    """What SceneControls uses of the worker link: the models' categories and `send`."""

    def __init__(self, categories: tuple[str, ...] | None):
        self.runtime = None
        if categories is not None:
            self.use(categories)
        self.sent = []

    def use(self, categories: tuple[str, ...]) -> None:
        """New models with these categories (as WorkerLink.use_runtime, before the panel)."""
        self.runtime = SimpleNamespace(metadata=SimpleNamespace(categories=categories))

    def send(self, command) -> None:
        self.sent.append(command)


@pytest.fixture
def make_controls(qtbot, settings):
    def make(categories: tuple[str, ...] | None = CATEGORIES):
        panel = ControlPanel()
        qtbot.addWidget(panel)
        window = SimpleNamespace(
            settings=settings,
            panel=panel,
            link=LinkStandIn(categories),
            spectrogram=SimpleNamespace(set_colormap=lambda name: None),
        )
        controls = SceneControls(window)
        controls.show_categories(categories or ())
        window.link.sent.clear()
        return controls, window

    return make


def test_values_are_clipped_kept_shown_and_sent_as_commands(make_controls):
    controls, window = make_controls()
    controls.set_reactivity(5.0)
    controls.set_feel_strength(-1.0)
    controls.set_scene_memory(10_000.0)
    controls.set_av_offset(-40.0)
    controls.set_log_frequency(False)
    assert window.link.sent == [
        SetReactivity(3.0),
        SetFeelStrength(0.0),
        SetSceneMemory(float(MAX_APP_SECONDS)),
        SetAvOffset(-40.0),
        SetLogFrequency(False),
    ]
    settings = window.settings
    assert settings.reactivity == 3.0 and settings.feel_strength == 0.0
    assert settings.scene_memory_seconds == MAX_APP_SECONDS
    assert settings.av_offset_ms == -40.0 and settings.log_frequency is False
    assert window.panel.reactivity.value() == 300
    assert window.panel.scene_memory.value() == MAX_APP_SECONDS
    controls.set_feel_strength(MAX_FEEL_STRENGTH + 1)
    assert window.link.sent[-1] == SetFeelStrength(MAX_FEEL_STRENGTH)
    controls.set_crossfade(0.0)
    assert window.link.sent[-1] == SetCrossfade(MIN_CROSSFADE_SECONDS)
    controls.set_crossfade(6.25)  # as a MIDI knob or OSC may send it: kept, not rounded
    assert window.link.sent[-1] == SetCrossfade(6.25) and window.panel.crossfade.value() == 6.25
    assert settings.crossfade_seconds == 6.25
    controls.set_crossfade(99.0)
    assert window.link.sent[-1] == SetCrossfade(MAX_CROSSFADE_SECONDS)
    assert settings.crossfade_seconds == MAX_CROSSFADE_SECONDS
    assert window.panel.crossfade.value() == MAX_CROSSFADE_SECONDS
    controls.set_on_beat(True)
    assert window.link.sent[-1] == SetSceneOnBeat(True)
    assert settings.scene_on_beat and window.panel.on_beat.isChecked()


def test_the_mode_box_lists_auto_then_hold_then_bias_per_category(make_controls):
    controls, window = make_controls()
    box = window.panel.mode_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "auto (the music chooses)",
        *(f"hold {name}" for name in CATEGORIES),
        *(f"bias toward {name}" for name in CATEGORIES),
    ]
    controls.on_mode_chosen(2)  # hold water
    controls.on_mode_chosen(6)  # bias toward mountain
    controls.on_mode_chosen(0)
    assert window.link.sent == [
        SetSceneMode(SceneMode(HOLD, 1)),
        SetSceneMode(SceneMode(BIAS, 2)),
        SetSceneMode(SceneMode()),
    ]
    assert window.settings.scene_mode == AUTO and box.currentIndex() == 0


def test_a_scene_is_kept_by_name_and_applied_when_the_models_have_it(make_controls):
    controls, window = make_controls()
    controls.set_scene(BIAS, 1)
    assert window.settings.scene_category == "water"
    assert window.panel.mode_box.currentIndex() == 1 + 1 + len(CATEGORIES)
    controls.set_scene(HOLD, len(CATEGORIES))  # no such category: nothing changes
    assert window.link.sent == [SetSceneMode(SceneMode(BIAS, 1))]
    window.link.sent.clear()
    window.link.use(("water", "desert"))  # new models: water is now category 0
    controls.show_categories(("water", "desert"))
    assert window.link.sent == [SetSceneMode(SceneMode(BIAS, 0))]


def test_without_models_no_scene_mode_is_sent(make_controls):
    controls, window = make_controls(categories=None)
    controls.set_scene(HOLD, 0)
    controls.set_auto_mode()
    controls.on_mode_chosen(1)
    assert window.link.sent == []


def test_on_the_beat_a_held_scene_waits_for_a_beat_two_seconds_at_most(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)  # no music: no beat comes
    window.panel.on_beat.setChecked(True)
    assert window.settings.scene_on_beat
    qtbot.waitUntil(lambda: window.worker.settings.scene_on_beat, timeout=WINDOW_TIMEOUT_MS)
    asked = time.perf_counter()
    window.set_scene(HOLD, 0)
    qtbot.waitUntil(
        lambda: (
            window.panel.mode_label.text() == "auto (the music chooses); held sky on the next beat"
        ),
        timeout=WINDOW_TIMEOUT_MS,
    )
    qtbot.waitUntil(
        lambda: window.panel.mode_label.text().startswith("held sky"), timeout=WINDOW_TIMEOUT_MS
    )
    assert time.perf_counter() - asked >= MAX_BEAT_WAIT_SECONDS
    window.stage.perform("on_beat", (0,))  # as OSC /musicscape/on_beat 0 does
    assert not window.settings.scene_on_beat and not window.panel.on_beat.isChecked()
    window.set_auto_mode()  # at once now
    qtbot.waitUntil(
        lambda: window.panel.mode_label.text() == "auto (the music chooses)",
        timeout=WINDOW_TIMEOUT_MS,
    )


def test_a_scene_chosen_while_a_file_plays_is_that_files_the_next_time_it_plays(make_controls):
    controls, window = make_controls()
    panel, sent = window.panel, window.link.sent
    controls.track_started("file:a.ogg:1000")  # nothing remembered yet: the music chooses
    controls.set_scene(HOLD, 1)  # the listener corrects the scene of a: water
    assert sent == [SetSceneMode(SceneMode()), SetSceneMode(SceneMode(HOLD, 1))]
    assert panel.remember_scenes.text() == "Remember each track's scene (1 track)"
    controls.track_started("file:b.ogg:2000")  # no scene of its own: the hold goes on
    controls.set_auto_mode()  # and auto, as before, is the music's choice
    controls.track_started("file:a.ogg:1000")
    assert window.panel.mode_box.currentIndex() == 2  # "hold water"
    controls.track_started("file:b.ogg:2000")
    controls.track_started(None)  # an input
    assert sent[2:] == [
        SetSceneMode(SceneMode(HOLD, 1)),
        SetSceneMode(SceneMode()),
        SetSceneMode(SceneMode(HOLD, 1)),
        SetSceneMode(SceneMode()),
        SetSceneMode(SceneMode()),
    ]
    assert window.settings.scene_mode == AUTO  # the mode last chosen is untouched by a's

    again, _ = make_controls()  # the next start of the app, on the same settings
    again.track_started("file:a.ogg:1000")
    assert again.window.link.sent[-1] == SetSceneMode(SceneMode(HOLD, 1))
    again.set_auto_mode()  # auto while a plays forgets it
    assert again.track_scenes.scene("file:a.ogg:1000") is None
    assert again.panel.remember_scenes.text() == "Remember each track's scene (0 tracks)"
    again.track_started("file:a.ogg:1000")
    assert again.window.link.sent[-1] == SetSceneMode(SceneMode())


def test_the_scene_that_runs_is_known_to_be_the_files_own_only_while_it_plays(make_controls):
    controls, window = make_controls()
    controls.track_started("file:a.ogg:1000")
    controls.set_scene(BIAS, 2)
    assert controls.remembered_scene_runs
    controls.track_started("file:b.ogg:2000")
    assert not controls.remembered_scene_runs
    controls.set_scene(HOLD, 0)  # chosen with no file playing: the mode, nobody's own
    controls.track_started(None)
    assert not controls.remembered_scene_runs


def test_remembering_turned_off_keeps_what_was_remembered_and_remembers_nothing_new(
    make_controls,
):
    controls, window = make_controls()
    sent = window.link.sent
    controls.track_started("file:a.ogg:1000")
    controls.set_scene(BIAS, 0)
    controls.set_remember_track_scenes(False)  # while a plays: the mode last chosen runs
    assert not window.settings.remember_track_scenes
    assert not window.panel.remember_scenes.isChecked()
    controls.set_auto_mode()
    controls.track_started("file:b.ogg:2000")
    controls.set_scene(HOLD, 2)  # not remembered for b
    controls.track_started("file:a.ogg:1000")  # a's bias is kept, but not used
    assert sent[-1] == SetSceneMode(SceneMode(HOLD, 2))
    controls.set_remember_track_scenes(True)  # a plays: its own scene at once
    assert sent[-1] == SetSceneMode(SceneMode(BIAS, 0))
    assert controls.track_scenes.scene("file:b.ogg:2000") is None


def test_a_remembered_category_the_models_lack_leaves_the_music_to_choose(make_controls):
    controls, window = make_controls()
    controls.track_started("file:a.ogg:1000")
    controls.set_scene(HOLD, 2)  # mountain
    window.link.use(("water", "desert"))
    controls.show_categories(("water", "desert"))
    assert window.link.sent[-1] == SetSceneMode(SceneMode())
    assert not controls.remembered_scene_runs
    window.link.use(CATEGORIES)
    controls.show_categories(CATEGORIES)  # the models with mountain are back
    assert window.link.sent[-1] == SetSceneMode(SceneMode(HOLD, 2))
