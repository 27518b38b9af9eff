"""The app's persisted settings: typed access to one QSettings store.

The window takes the store as an argument, so tests (and `--settings FILE`) use an
IniFormat file of their own and never touch the user's settings.
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings

from visualizer.feel import DEFAULT_FEEL_STRENGTH, MAX_FEEL_STRENGTH
from visualizer.frontend.decode import TrackTags
from visualizer.scene_memory import MAX_APP_SECONDS
from visualizer.video_file import H264, VIDEO_CODECS

from .canvas_orientation import ROTATIONS, CanvasOrientation
from .corner_pin import CornerPin
from .cue_sheet import CueTrack
from .dmx_input import DeskPatch
from .dmx_output import PROTOCOL_NAMES, DmxTarget
from .output_level import MAX_FADE_SECONDS
from .playlist import Playlist
from .scene_director import (
    DEFAULT_CROSSFADE_SECONDS,
    DEFAULT_REACTIVITY,
    MAX_CROSSFADE_SECONDS,
    MAX_REACTIVITY,
    MIN_CROSSFADE_SECONDS,
)

SOURCE_DEMO = "demo"
SOURCE_FILE = "file"
SOURCE_INPUT = "input"


def settings_from_file(path: str) -> QSettings:
    return QSettings(path, QSettings.Format.IniFormat)


def user_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "musicscape", "app")


class AppSettings:
    """The user's settings, each written through to the file as it is set (a crash loses
    none), or several at once (`written_together`)."""

    def __init__(self, store: QSettings):
        self.store = store
        self._writing_together = False

    def _get(self, key: str, default, kind):
        value = self.store.value(key, default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _number(self, key: str, default: float | None, high: float) -> float | None:
        """The stored number at `key` when it is one in 0..`high`; else (missing, not a
        number, NaN, out of range) `default`."""
        value = self._get(key, default, float)
        return value if value is not None and 0.0 <= value <= high else default

    def _set(self, key: str, value) -> None:
        self.store.setValue(key, value)
        if not self._writing_together:
            self.store.sync()

    @contextlib.contextmanager
    def written_together(self) -> Iterator[None]:
        """The settings set in the block go to the file in one write as it ends (each file
        a list starts sets six: one write is 1-2 ms on the GUI thread)."""
        self._writing_together = True
        try:
            yield
        finally:
            self._writing_together = False
            self.store.sync()

    @property
    def source_kind(self) -> str:
        return self._get("source/kind", SOURCE_DEMO, str)

    @source_kind.setter
    def source_kind(self, value: str) -> None:
        self._set("source/kind", value)

    @property
    def file_path(self) -> str:
        return self._get("source/file", "", str)

    @file_path.setter
    def file_path(self, value: str) -> None:
        # absolute: a file given relative to one folder (`--file music.ogg`) must still be
        # found when the app next starts from another
        self._set("source/file", str(Path(value).absolute()))

    @property
    def file_list(self) -> Playlist | None:
        """The file list played last, at the file it had come to (None: none kept, or not
        readable)."""
        try:
            kept = json.loads(self._get("source/list", "", str))
            files = [Path(file) for file in kept["files"]]
            loop, shuffle = bool(kept["loop"]), bool(kept["shuffle"])
            cue_tracks = {
                Path(file): tuple(
                    CueTrack(float(start), TrackTags.cleaned(*tags)) for start, *tags in tracks
                )
                for file, tracks in kept.get("cue_tracks", {}).items()
            }
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not files:
            return None
        return Playlist.resumed(files, self.file_list_index, loop, shuffle, cue_tracks)

    @file_list.setter
    def file_list(self, playlist: Playlist) -> None:
        files = [str(file.absolute()) for file in playlist.files]  # found from any folder
        cue_tracks = {
            str(file.absolute()): [
                [track.start_seconds, track.tags.title, track.tags.artist, track.tags.album]
                for track in tracks
            ]
            for file, tracks in playlist.cue_tracks.items()
        }
        kept = {"files": files, "loop": playlist.loop, "shuffle": playlist.shuffle}
        if cue_tracks:
            kept["cue_tracks"] = cue_tracks
        self._set("source/list", json.dumps(kept))
        self.file_list_index = playlist.index

    @property
    def file_list_index(self) -> int:
        return self._get("source/list_index", 0, int)

    @file_list_index.setter
    def file_list_index(self, value: int) -> None:
        self._set("source/list_index", value)

    @property
    def file_seconds(self) -> float:
        """How far the list's file had played, in seconds."""
        return self._number("source/file_seconds", 0.0, math.inf)

    @file_seconds.setter
    def file_seconds(self, value: float) -> None:
        self._set("source/file_seconds", float(value))

    @property
    def input_key(self) -> str:
        return self._get("source/input", "", str)

    @input_key.setter
    def input_key(self, value: str) -> None:
        """A key alone (no name the picker showed for it: `remember_input`)."""
        self._set("source/input", value)
        self._set("source/input_label", "")

    @property
    def input_label(self) -> str:
        """The picker's name for the remembered input when it was chosen ("" when none was
        kept): a PulseAudio source's description, which its key does not hold."""
        return self._get("source/input_label", "", str)

    def remember_input(self, key: str, label: str) -> None:
        """The input captured: its key, and its name as the picker showed it."""
        self.input_key = key
        self._set("source/input_label", label)

    @property
    def output_key(self) -> str:
        """The output files play through ("": the default output)."""
        return self._get("source/output", "", str)

    @output_key.setter
    def output_key(self, value: str) -> None:
        self._set("source/output", value)

    @property
    def av_offset_ms(self) -> float:
        return self._get("playback/av_offset_ms", 0.0, float)

    @av_offset_ms.setter
    def av_offset_ms(self, value: float) -> None:
        self._set("playback/av_offset_ms", float(value))

    @property
    def feel_strength(self) -> float:
        """How strongly light and colour follow the music's feel (a stored value out of
        range reads as the default)."""
        return self._number("scene/feel_strength", DEFAULT_FEEL_STRENGTH, MAX_FEEL_STRENGTH)

    @feel_strength.setter
    def feel_strength(self, value: float) -> None:
        self._set("scene/feel_strength", float(value))

    @property
    def blackout_fade_seconds(self) -> float:
        """How long the blackout takes to fade (a stored value out of range reads as 0)."""
        return self._number("stage/blackout_fade_seconds", 0.0, MAX_FADE_SECONDS)

    @blackout_fade_seconds.setter
    def blackout_fade_seconds(self, value: float) -> None:
        self._set("stage/blackout_fade_seconds", float(value))

    @property
    def record_codec(self) -> str:
        """What recordings are written as (a `VIDEO_CODECS` name; one stored that is not
        reads as H.264)."""
        value = self._get("stage/record_codec", H264, str)
        return value if value in VIDEO_CODECS else H264

    @record_codec.setter
    def record_codec(self, value: str) -> None:
        self._set("stage/record_codec", value)

    @property
    def reactivity(self) -> float:
        """How much beats move the picture (a stored value out of range reads as the
        default)."""
        return self._number("scene/reactivity", DEFAULT_REACTIVITY, MAX_REACTIVITY)

    @reactivity.setter
    def reactivity(self, value: float) -> None:
        self._set("scene/reactivity", float(value))

    @property
    def crossfade_seconds(self) -> float:
        """How long a change of scene takes, 10% to 90% (a stored time under the least the
        app offers reads as that least)."""
        seconds = self._number(
            "scene/crossfade_seconds", DEFAULT_CROSSFADE_SECONDS, MAX_CROSSFADE_SECONDS
        )
        return max(seconds, MIN_CROSSFADE_SECONDS)

    @crossfade_seconds.setter
    def crossfade_seconds(self, value: float) -> None:
        self._set("scene/crossfade_seconds", float(value))

    @property
    def scene_on_beat(self) -> bool:
        """A change of scene waits for the next beat."""
        return self._get("scene/on_beat", False, bool)

    @scene_on_beat.setter
    def scene_on_beat(self, value: bool) -> None:
        self._set("scene/on_beat", bool(value))

    @property
    def scene_on_bar(self) -> bool:
        """A change of scene waits for the next bar's first beat of a beat grid."""
        return self._get("scene/on_bar", False, bool)

    @scene_on_bar.setter
    def scene_on_bar(self, value: bool) -> None:
        self._set("scene/on_bar", bool(value))

    @property
    def scene_memory_seconds(self) -> float | None:
        """The scene memory the user chose; None: the model's own (also when the stored
        value is not one the app offers)."""
        return self._number("scene/memory_seconds", None, MAX_APP_SECONDS)

    @scene_memory_seconds.setter
    def scene_memory_seconds(self, value: float) -> None:
        self._set("scene/memory_seconds", float(value))

    @property
    def scene_mode(self) -> str:
        return self._get("scene/mode", "auto", str)

    @scene_mode.setter
    def scene_mode(self, value: str) -> None:
        self._set("scene/mode", value)

    @property
    def scene_category(self) -> str:
        return self._get("scene/category", "", str)

    @scene_category.setter
    def scene_category(self, value: str) -> None:
        self._set("scene/category", value)

    @property
    def remember_track_scenes(self) -> bool:
        """A scene held or biased while a track plays is kept for that track (track_scenes.py)."""
        return self._get("scene/remember_per_file", True, bool)

    @remember_track_scenes.setter
    def remember_track_scenes(self, value: bool) -> None:
        self._set("scene/remember_per_file", bool(value))

    @property
    def track_scenes(self) -> str:
        """The scenes remembered for tracks, as TrackScenes' JSON ("": none)."""
        return self._get("scene/per_file", "", str)

    @track_scenes.setter
    def track_scenes(self, value: str) -> None:
        self._set("scene/per_file", value)

    @property
    def auto_level(self) -> bool:
        """Live inputs are brought to the level of the models' training music."""
        return self._get("audio/auto_level", True, bool)

    @auto_level.setter
    def auto_level(self, value: bool) -> None:
        self._set("audio/auto_level", bool(value))

    def preset(self, slot: int) -> str:
        """The look stored in preset `slot` as JSON (presets.py); "" when it holds none."""
        return self._get(f"presets/{slot}", "", str)

    def set_preset(self, slot: int, look_json: str) -> None:
        self._set(f"presets/{slot}", look_json)

    @property
    def log_frequency(self) -> bool:
        return self._get("spectrogram/log_frequency", True, bool)

    @log_frequency.setter
    def log_frequency(self, value: bool) -> None:
        self._set("spectrogram/log_frequency", bool(value))

    @property
    def colormap(self) -> str:
        return self._get("spectrogram/colormap", "inferno", str)

    @colormap.setter
    def colormap(self, value: str) -> None:
        self._set("spectrogram/colormap", value)

    @property
    def canvas_screen(self) -> str:
        return self._get("vj/canvas_screen", "", str)

    @canvas_screen.setter
    def canvas_screen(self, value: str) -> None:
        self._set("vj/canvas_screen", value)

    @property
    def canvas_detached(self) -> bool:
        """The canvas was alone on `canvas_screen` when the app last closed (S put it there,
        Esc had not brought it back)."""
        return self._get("vj/canvas_detached", False, bool)

    @canvas_detached.setter
    def canvas_detached(self, value: bool) -> None:
        self._set("vj/canvas_detached", bool(value))

    @property
    def canvas_fill(self) -> bool:
        return self._get("vj/canvas_fill", False, bool)

    @canvas_fill.setter
    def canvas_fill(self, value: bool) -> None:
        self._set("vj/canvas_fill", bool(value))

    @property
    def canvas_orientation(self) -> CanvasOrientation:
        """How the canvas turns and mirrors the picture for its screen; a stored rotation
        that is not a quarter turn (a damaged file) reads as none."""
        rotation = self._get("vj/canvas_rotation", 0, int)
        return CanvasOrientation(
            rotation if rotation in ROTATIONS else 0,
            self._get("vj/canvas_mirrored", False, bool),
        )

    @canvas_orientation.setter
    def canvas_orientation(self, value: CanvasOrientation) -> None:
        self._set("vj/canvas_rotation", value.rotation)
        self._set("vj/canvas_mirrored", value.mirrored)

    @property
    def canvas_corner_pin(self) -> CornerPin:
        """Where the canvas's corners land on its screen (keystone); a stored pin that is
        not one (a damaged file) reads as not pinned."""
        try:
            return CornerPin.parse(self._get("vj/canvas_corners", "none", str))
        except ValueError:
            return CornerPin()

    @canvas_corner_pin.setter
    def canvas_corner_pin(self, value: CornerPin) -> None:
        self._set("vj/canvas_corners", value.text())

    @property
    def link_enabled(self) -> bool:
        """Ableton Link is on: the beats follow the session's grid while it has peers."""
        return self._get("vj/ableton_link", False, bool)

    @link_enabled.setter
    def link_enabled(self, value: bool) -> None:
        self._set("vj/ableton_link", bool(value))

    @property
    def midi_clock_enabled(self) -> bool:
        """The MIDI clock is followed: the beats come on it while it runs."""
        return self._get("vj/midi_clock", False, bool)

    @midi_clock_enabled.setter
    def midi_clock_enabled(self, value: bool) -> None:
        self._set("vj/midi_clock", bool(value))

    @property
    def dmx_enabled(self) -> bool:
        """DMX out is on (to `dmx_target`)."""
        return self._get("vj/dmx", False, bool)

    @dmx_enabled.setter
    def dmx_enabled(self, value: bool) -> None:
        self._set("vj/dmx", bool(value))

    @property
    def dmx_target(self) -> DmxTarget | None:
        """Where DMX out went last (None: never given, or not readable)."""
        protocol = self._get("vj/dmx_protocol", "", str)
        if protocol not in PROTOCOL_NAMES:
            return None
        return DmxTarget(
            protocol,
            self._get("vj/dmx_host", "", str),
            self._get("vj/dmx_port", 0, int),
            self._get("vj/dmx_universe", 0, int),
            self._get("vj/dmx_channel", 1, int),
        )

    @dmx_target.setter
    def dmx_target(self, target: DmxTarget) -> None:
        self._set("vj/dmx_protocol", target.protocol)
        self._set("vj/dmx_host", target.host)
        self._set("vj/dmx_port", target.port)
        self._set("vj/dmx_universe", target.universe)
        self._set("vj/dmx_channel", target.first_channel)

    @property
    def dmx_in_enabled(self) -> bool:
        """DMX in is on (from `dmx_in_patch`)."""
        return self._get("vj/dmx_in", False, bool)

    @dmx_in_enabled.setter
    def dmx_in_enabled(self, value: bool) -> None:
        self._set("vj/dmx_in", bool(value))

    @property
    def dmx_in_patch(self) -> DeskPatch | None:
        """Where DMX in last listened; None if never (or a protocol no longer known)."""
        protocol = self._get("vj/dmx_in_protocol", "", str)
        if protocol not in PROTOCOL_NAMES:
            return None
        return DeskPatch(
            protocol,
            self._get("vj/dmx_in_universe", 0, int),
            self._get("vj/dmx_in_channel", 1, int),
        )

    @dmx_in_patch.setter
    def dmx_in_patch(self, patch: DeskPatch) -> None:
        self._set("vj/dmx_in_protocol", patch.protocol)
        self._set("vj/dmx_in_universe", patch.universe)
        self._set("vj/dmx_in_channel", patch.first_channel)

    @property
    def sacn_source_id(self) -> bytes:
        """This installation's sACN CID: 16 bytes made once and kept, as E1.31 asks."""
        try:
            return uuid.UUID(self._get("vj/sacn_cid", "", str)).bytes
        except ValueError:
            made = uuid.uuid4()
            self._set("vj/sacn_cid", str(made))
            return made.bytes

    @property
    def title_cards(self) -> bool:
        return self._get("vj/title_cards", True, bool)

    @title_cards.setter
    def title_cards(self, value: bool) -> None:
        self._set("vj/title_cards", bool(value))

    @property
    def geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._set("window/geometry", value)
