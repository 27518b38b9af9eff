"""The scene controls: the scene mode (and the scene remembered for each track), reactivity,
feel, scene memory, their presets, A/V offset, the spectrogram's axis and colours.

Keys, the panel, OSC and MIDI all land here. Each control is kept in the user's settings
and reaches the worker as a `WorkerCommand` between its frames; the panel shows the value
that was applied (clipped to its range).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.scene_memory import DEFAULT_SCENE_MEMORY_SECONDS, MAX_APP_SECONDS

from .control_panel import FEEL_STEPS, REACTIVITY_STEPS
from .frame_worker import (
    SetAvOffset,
    SetCrossfade,
    SetFeelStrength,
    SetLogFrequency,
    SetReactivity,
    SetSceneMemory,
    SetSceneMode,
    SetSceneOnBar,
    SetSceneOnBeat,
)
from .presets import PRESET_SLOTS, Look, PresetError
from .scene_director import (
    AUTO,
    BIAS,
    HOLD,
    MAX_CROSSFADE_SECONDS,
    MAX_REACTIVITY,
    MIN_CROSSFADE_SECONDS,
    SceneMode,
)
from .track_scenes import TrackScene, TrackScenes

if TYPE_CHECKING:
    from .main_window import MainWindow


class SceneControls:
    """What the user steers of the picture, for one window."""

    def __init__(self, window: MainWindow):
        self.window = window
        self.settings = window.settings
        self.panel = window.panel
        self.track_scenes = TrackScenes(self.settings.track_scenes)
        self.playing_track: str | None = None  # track_scenes' key of the track that plays
        self.track_scene: TrackScene | None = None  # its remembered scene, which runs

    def _categories(self) -> tuple[str, ...] | None:
        runtime = self.window.link.runtime
        return None if runtime is None else runtime.metadata.categories

    def show_categories(self, names: tuple[str, ...]) -> None:
        """The models' categories: one bar each, and the mode box's hold / bias entries."""
        panel = self.panel
        panel.set_categories(names)
        panel.mode_box.clear()
        panel.mode_box.addItem("auto (the music chooses)")
        for name in names:
            panel.mode_box.addItem(f"hold {name}")
        for name in names:
            panel.mode_box.addItem(f"bias toward {name}")
        self.apply_scene_mode()

    def set_scene(self, kind: str, index: int) -> None:
        """Hold or bias toward category `index`; while a known track plays (a file, or a
        named track another player plays into an input; remembering on) it is also
        remembered for that track."""
        categories = self._categories()
        if categories is None or index >= len(categories):
            return
        self.settings.scene_mode = kind
        self.settings.scene_category = categories[index]
        self.track_scene = None
        if self._remembering():
            self.track_scene = TrackScene(kind, categories[index])
            self.track_scenes.remember(self.playing_track, self.track_scene)
            self._keep_track_scenes()
        self.apply_scene_mode()

    def set_auto_mode(self) -> None:
        """The music chooses; the playing track's remembered scene, if any, is forgotten."""
        self.settings.scene_mode = AUTO
        self.track_scene = None
        if self._remembering():
            if self.track_scenes.forget(self.playing_track):
                self._keep_track_scenes()
        self.apply_scene_mode()

    def _remembering(self) -> bool:
        """Whether a choice made now is remembered: a known track plays, remembering on."""
        return self.playing_track is not None and self.settings.remember_track_scenes

    def track_started(self, key: str | None) -> None:
        """A track known by `key` starts (None: an input, with no named track); its
        remembered scene runs while it plays, else the mode last chosen."""
        self.playing_track = key
        remembered = None if key is None else self.track_scenes.scene(key)
        self.track_scene = remembered if self.settings.remember_track_scenes else None
        self.apply_scene_mode()

    def set_remember_track_scenes(self, enabled: bool) -> None:
        """The Scene box's check box: whether a track keeps the scene chosen for it."""
        self.settings.remember_track_scenes = enabled
        if self.panel.remember_scenes.isChecked() != enabled:
            self.panel.remember_scenes.setChecked(enabled)
        self.track_started(self.playing_track)

    def _keep_track_scenes(self) -> None:
        self.settings.track_scenes = self.track_scenes.to_json()
        self.panel.show_remembered_count(len(self.track_scenes))

    def _running_choice(self) -> tuple[str, str]:
        """The mode and category that run: the playing track's remembered scene, else the
        mode last chosen."""
        if self.track_scene is not None:
            return self.track_scene.mode, self.track_scene.category
        return self.settings.scene_mode, self.settings.scene_category

    def apply_scene_mode(self) -> None:
        categories = self._categories()
        if categories is None:
            return
        kind, name = self._running_choice()
        if kind not in (HOLD, BIAS) or name not in categories:
            mode = SceneMode()
            box_index = 0
        else:
            mode = SceneMode(kind, categories.index(name))
            box_index = 1 + mode.category + (len(categories) if kind == BIAS else 0)
        self.window.link.send(SetSceneMode(mode))
        self.panel.mode_box.setCurrentIndex(box_index)
        self.panel.show_remembered(self.remembered_scene_runs)

    @property
    def remembered_scene_runs(self) -> bool:
        """Whether the scene that runs is the playing track's remembered one."""
        categories = self._categories() or ()
        return self.track_scene is not None and self.track_scene.category in categories

    def on_mode_chosen(self, index: int) -> None:
        count = len(self._categories() or ())
        if index == 0 or count == 0:
            self.set_auto_mode()
        elif index <= count:
            self.set_scene(HOLD, index - 1)
        else:
            self.set_scene(BIAS, index - 1 - count)

    def set_reactivity(self, value: float) -> None:
        value = min(max(value, 0.0), MAX_REACTIVITY)
        self.settings.reactivity = value
        self.window.link.send(SetReactivity(value))
        if self.panel.reactivity.value() != round(value * REACTIVITY_STEPS):
            self.panel.reactivity.setValue(round(value * REACTIVITY_STEPS))

    def set_crossfade(self, seconds: float) -> None:
        """How long a change of scene takes, 10% to 90% (kept in the settings)."""
        seconds = min(max(seconds, MIN_CROSSFADE_SECONDS), MAX_CROSSFADE_SECONDS)
        self.settings.crossfade_seconds = seconds
        self.window.link.send(SetCrossfade(seconds))
        if self.panel.crossfade.value() != round(seconds, 2):
            self.panel.crossfade.setValue(seconds)

    def set_on_beat(self, enabled: bool) -> None:
        """Whether a change of scene waits for the next beat (kept in the settings)."""
        self.settings.scene_on_beat = enabled
        self.window.link.send(SetSceneOnBeat(enabled))
        if self.panel.on_beat.isChecked() != enabled:
            self.panel.on_beat.setChecked(enabled)

    def set_on_bar(self, enabled: bool) -> None:
        """Whether a change of scene waits for the next bar's first beat of a beat grid
        (kept in the settings)."""
        self.settings.scene_on_bar = enabled
        self.window.link.send(SetSceneOnBar(enabled))
        if self.panel.on_bar.isChecked() != enabled:
            self.panel.on_bar.setChecked(enabled)

    def set_feel_strength(self, value: float) -> None:
        """How strongly light and colour follow the music's feel (kept in the settings)."""
        value = min(max(value, 0.0), MAX_FEEL_STRENGTH)
        self.settings.feel_strength = value
        self.window.link.send(SetFeelStrength(value))
        if self.panel.feel.value() != round(value * FEEL_STEPS):
            self.panel.feel.setValue(round(value * FEEL_STEPS))

    def set_scene_memory(self, seconds: float) -> None:
        """The user's scene memory: kept in the settings, used at once and by later models."""
        seconds = min(max(seconds, 0.0), float(MAX_APP_SECONDS))
        self.settings.scene_memory_seconds = seconds
        self.window.link.send(SetSceneMemory(seconds))
        if self.panel.scene_memory.value() != round(seconds):
            self.panel.scene_memory.setValue(round(seconds))

    # ----- presets -----
    def current_look(self) -> Look:
        """The look that runs now: the scene mode that runs (a track's remembered scene, else
        the one the user chose) and the reactivity, feel, scene memory and cross-fade the
        worker was sent (the model's memory if the user chose none)."""
        link = self.window.link
        running = link.worker_settings  # the GUI's copy, in step with every command sent
        memory = running.scene_memory_seconds
        if memory is None:
            runtime = link.runtime
            memory = (
                runtime.metadata.scene_memory_seconds if runtime else DEFAULT_SCENE_MEMORY_SECONDS
            )
        memory = min(memory, float(MAX_APP_SECONDS))  # a model may name more than the app offers
        mode, category = self._running_choice()
        categories = self._categories() or ()
        held = mode in (HOLD, BIAS) and category in categories
        return Look(
            mode=mode if held else AUTO,
            category=category if held else "",
            reactivity=running.reactivity,
            feel_strength=running.feel_strength,
            scene_memory_seconds=memory,
            crossfade_seconds=running.crossfade_seconds,
        )

    def store_preset(self, slot: int) -> Look:
        """Keep the look that runs now in preset `slot` (1 ... PRESET_SLOTS)."""
        look = self.current_look()
        self.settings.set_preset(slot, look.to_json())
        self.show_presets(f"preset {slot} stored: {look.describe()}")
        return look

    def recall_preset(self, slot: int) -> Look:
        """Run the look of preset `slot`; PresetError (nothing changed) for an empty slot or
        a category these models do not have."""
        look = Look.from_json(self.settings.preset(slot))
        if look is None:
            raise PresetError(f"preset {slot} is empty (Shift+F{slot} stores the look that runs)")
        categories = self._categories() or ()
        if look.mode != AUTO and look.category not in categories:
            raise PresetError(
                f"preset {slot} {'holds' if look.mode == HOLD else 'biases toward'} "
                f"'{look.category}', which these models do not have ({', '.join(categories)})"
            )
        if look.mode == AUTO:
            self.set_auto_mode()
        else:
            self.set_scene(look.mode, categories.index(look.category))
        self.set_reactivity(look.reactivity)
        self.set_feel_strength(look.feel_strength)
        self.set_scene_memory(look.scene_memory_seconds)
        self.set_crossfade(look.crossfade_seconds)
        self.show_presets(f"preset {slot}: {look.describe()}")
        return look

    def stored_presets(self) -> list[int]:
        """The numbers of the preset slots that hold a look."""
        return [
            slot
            for slot in range(1, PRESET_SLOTS + 1)
            if Look.from_json(self.settings.preset(slot)) is not None
        ]

    def show_presets(self, last: str = "") -> None:
        """The panel's Presets row: which slots hold a look, and what was last done."""
        stored = [str(slot) for slot in self.stored_presets()]
        held = f"stored: {', '.join(stored)}" if stored else "none stored (Shift+F1 … F8)"
        self.panel.preset_label.setText(f"{held}\n{last}" if last else held)

    def set_av_offset(self, milliseconds: float) -> None:
        self.settings.av_offset_ms = milliseconds
        self.window.link.send(SetAvOffset(milliseconds))

    def set_log_frequency(self, enabled: bool) -> None:
        self.settings.log_frequency = enabled
        self.window.link.send(SetLogFrequency(enabled))

    def set_colormap(self, name: str) -> None:
        self.settings.colormap = name
        self.window.spectrogram.set_colormap(name)
