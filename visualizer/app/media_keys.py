"""The desktop's media controls: musicscape as an MPRIS media player on the D-Bus session bus.

Linux desktops drive players through MPRIS (`org.mpris.MediaPlayer2`): the keyboard's
play/pause, next and previous keys, a headset's button, GNOME's and KDE's media widgets and
`playerctl` find every player on the session bus and call it. `MediaKeys` serves both
interfaces for the window at `/org/mpris/MediaPlayer2` under the name
`org.mpris.MediaPlayer2.musicscape` (with `.instance<pid>` added when that is taken):
- calls go through the window's own methods, as its keys do: PlayPause / Play / Pause / Stop
  (a pause; a live input cannot pause), Next (the `--file` list's next file), Previous (the
  file from its start), Seek and SetPosition, OpenUri (a `file://` file or folder), Raise,
  Quit;
- properties say what plays: PlaybackStatus, Metadata (the file's or input's name, the
  file's length and URL), Position, and what can be asked (CanPause, CanSeek, CanGoNext...).
  `refresh` (the window's health check, 4 Hz) announces the ones that changed with
  `org.freedesktop.DBus.Properties.PropertiesChanged`, and a seek with `Seeked`, as widgets
  expect. Where there is no session bus, or no QtDBus, `status` says so and nothing else
  changes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from PyQt6.QtCore import (
    QMetaType,
    QObject,
    QVariant,
    pyqtClassInfo,
    pyqtProperty,
    pyqtSignal,
    pyqtSlot,
)

from .audio_sources import CaptureSource, FilePlayback
from .screen_saver import QtDBus

if TYPE_CHECKING:
    from .main_window import MainWindow

SERVICE = "org.mpris.MediaPlayer2.musicscape"
OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_INTERFACE = "org.mpris.MediaPlayer2"
PLAYER_INTERFACE = "org.mpris.MediaPlayer2.Player"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
TRACK_PREFIX = "/org/musicscape/track/"
# MPRIS's LoopStatus values: the list's loop is "Playlist" (a list of one file loops that
# file); "Track" (one file of a longer list again and again) is not a mode this app has
LOOP_NONE, LOOP_PLAYLIST = "None", "Playlist"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
MICROSECONDS = 1_000_000
MIME_TYPES = [
    "audio/wav", "audio/x-wav", "audio/flac", "audio/ogg", "audio/mpeg", "audio/aiff",
    "audio/mp4", "audio/webm", "audio/x-matroska", "audio/x-ms-wma", "audio/x-mpegurl",
]  # fmt: skip

if QtDBus is not None:
    _AdaptorBase = QtDBus.QDBusAbstractAdaptor
else:  # no D-Bus in this Qt build: nothing is served
    _AdaptorBase = QObject


def int64(value: int) -> QVariant:
    """`value` as D-Bus's int64 (x), as MPRIS asks for lengths and positions."""
    variant = QVariant(int(value))
    variant.convert(QMetaType(QMetaType.Type.LongLong.value))
    return variant


def string_list(values: list[str]) -> QVariant:
    """`values` as D-Bus's array of strings (as), as MPRIS asks for artists."""
    variant = QVariant(list(values))
    variant.convert(QMetaType(QMetaType.Type.QStringList.value))
    return variant


@pyqtClassInfo("D-Bus Interface", ROOT_INTERFACE)
class _RootAdaptor(_AdaptorBase):
    def __init__(self, keys: MediaKeys):
        super().__init__(keys)
        self.keys = keys

    @pyqtProperty(str)
    def Identity(self) -> str:  # noqa: N802 - MPRIS's names
        return "musicscape"

    @pyqtProperty(str)
    def DesktopEntry(self) -> str:  # noqa: N802
        return "musicscape"

    @pyqtProperty(bool)
    def CanQuit(self) -> bool:  # noqa: N802
        return True

    @pyqtProperty(bool)
    def CanRaise(self) -> bool:  # noqa: N802
        return True

    @pyqtProperty(bool)
    def HasTrackList(self) -> bool:  # noqa: N802
        return False

    @pyqtProperty("QStringList")
    def SupportedUriSchemes(self) -> list[str]:  # noqa: N802
        return ["file"]

    @pyqtProperty("QStringList")
    def SupportedMimeTypes(self) -> list[str]:  # noqa: N802
        return MIME_TYPES

    @pyqtSlot()
    def Raise(self) -> None:  # noqa: N802
        self.keys.window.raise_()
        self.keys.window.activateWindow()

    @pyqtSlot()
    def Quit(self) -> None:  # noqa: N802
        self.keys.window.close()


@pyqtClassInfo("D-Bus Interface", PLAYER_INTERFACE)
class _PlayerAdaptor(_AdaptorBase):
    Seeked = pyqtSignal("qlonglong")  # noqa: N815 - MPRIS's name

    def __init__(self, keys: MediaKeys):
        super().__init__(keys)
        self.keys = keys

    @pyqtProperty(str)
    def PlaybackStatus(self) -> str:  # noqa: N802
        return self.keys.properties()["PlaybackStatus"]

    @pyqtProperty("QVariantMap")
    def Metadata(self) -> dict:  # noqa: N802
        return self.keys.properties()["Metadata"]

    @pyqtProperty("qlonglong")
    def Position(self) -> int:  # noqa: N802
        return self.keys.position_microseconds()

    @pyqtProperty(float)
    def Rate(self) -> float:  # noqa: N802
        return 1.0

    @pyqtProperty(float)
    def MinimumRate(self) -> float:  # noqa: N802
        return 1.0

    @pyqtProperty(float)
    def MaximumRate(self) -> float:  # noqa: N802
        return 1.0

    @pyqtProperty(float)
    def Volume(self) -> float:  # noqa: N802
        return 1.0

    @pyqtProperty(str)
    def LoopStatus(self) -> str:  # noqa: N802
        return self.keys.properties()["LoopStatus"]

    @LoopStatus.setter
    def LoopStatus(self, status: str) -> None:  # noqa: N802
        self.keys.set_loop_status(status)

    @pyqtProperty(bool)
    def Shuffle(self) -> bool:  # noqa: N802
        return self.keys.properties()["Shuffle"]

    @Shuffle.setter
    def Shuffle(self, shuffle: bool) -> None:  # noqa: N802
        self.keys.window.sources.set_list_shuffle(bool(shuffle))

    @pyqtProperty(bool)
    def CanGoNext(self) -> bool:  # noqa: N802
        return self.keys.properties()["CanGoNext"]

    @pyqtProperty(bool)
    def CanGoPrevious(self) -> bool:  # noqa: N802
        return self.keys.properties()["CanGoPrevious"]

    @pyqtProperty(bool)
    def CanPlay(self) -> bool:  # noqa: N802
        return self.keys.properties()["CanPlay"]

    @pyqtProperty(bool)
    def CanPause(self) -> bool:  # noqa: N802
        return self.keys.properties()["CanPause"]

    @pyqtProperty(bool)
    def CanSeek(self) -> bool:  # noqa: N802
        return self.keys.properties()["CanSeek"]

    @pyqtProperty(bool)
    def CanControl(self) -> bool:  # noqa: N802
        return True

    @pyqtSlot()
    def PlayPause(self) -> None:  # noqa: N802
        self.keys.play_pause()

    @pyqtSlot()
    def Play(self) -> None:  # noqa: N802
        self.keys.play(True)

    @pyqtSlot()
    def Pause(self) -> None:  # noqa: N802
        self.keys.play(False)

    @pyqtSlot()
    def Stop(self) -> None:  # noqa: N802
        self.keys.play(False)

    @pyqtSlot()
    def Next(self) -> None:  # noqa: N802
        self.keys.window.next_file()

    @pyqtSlot()
    def Previous(self) -> None:  # noqa: N802
        self.keys.window.previous_file()

    @pyqtSlot("qlonglong")
    def Seek(self, offset: int) -> None:  # noqa: N802
        self.keys.seek_to(self.keys.position_microseconds() + offset)

    @pyqtSlot(QtDBus.QDBusObjectPath if QtDBus is not None else str, "qlonglong")
    def SetPosition(self, track, position: int) -> None:  # noqa: N802
        if track.path() == self.keys.track_id:  # a position for a track since left: ignored
            self.keys.seek_to(position)

    @pyqtSlot(str)
    def OpenUri(self, uri: str) -> None:  # noqa: N802
        self.keys.open_uri(uri)


class MediaKeys(QObject):
    """The window as an MPRIS player (see the module docstring); `status` in words."""

    def __init__(self, window: MainWindow, bus=None):
        super().__init__(window)
        self.window = window
        self.track_id = NO_TRACK
        self._track_source = None  # the source `track_id` names
        self._tracks = 0
        self._announced: dict = {}
        self.service: str | None = None
        if QtDBus is None:
            self.status = "no media keys: this Qt has no D-Bus"
            return
        self.bus = bus if bus is not None else QtDBus.QDBusConnection.sessionBus()
        if not self.bus.isConnected():
            self.status = "no media keys: no D-Bus session bus"
            return
        self._root = _RootAdaptor(self)
        self._player = _PlayerAdaptor(self)
        if not self.bus.registerObject(OBJECT_PATH, self):
            self.status = f"no media keys: {OBJECT_PATH} is taken on the session bus"
            return
        for name in (SERVICE, f"{SERVICE}.instance{os.getpid()}"):
            if self.bus.registerService(name):
                self.service = name
                break
        else:
            self._leave_bus()
            self.status = f"no media keys: {SERVICE} is taken on the session bus"
            return
        self.status = f"media keys and the desktop's player controls ({self.service})"

    # ----- what plays -----
    def _current_track(self) -> str:
        """The track id of what plays now: a new one for each source started, and for each
        file of a list that a playback goes on into without a gap, and each track of a file's
        cue sheet."""
        source = self.window.source
        if source is None:
            return NO_TRACK
        playing = (source, getattr(source, "path", None), getattr(source, "cue_track_number", None))
        if playing != self._track_source:
            self._tracks += 1
            self._track_source = playing
            self.track_id = f"{TRACK_PREFIX}{self._tracks}"
        return self.track_id

    def properties(self) -> dict:
        window = self.window
        source = window.source
        track = self._current_track()
        is_file = isinstance(source, FilePlayback)
        if source is None:
            status = "Stopped"
        elif is_file and (source.paused or window.playlist_ended):
            status = "Paused"
        else:
            status = "Playing"
        metadata = {"mpris:trackid": QtDBus.QDBusObjectPath(track)}
        if is_file:
            tags = source.tags
            metadata.update(
                {
                    "mpris:length": int64(round(source.duration_seconds * MICROSECONDS)),
                    "xesam:title": tags.title or source.path.name,
                    "xesam:url": source.path.absolute().as_uri(),
                }
            )
            if tags.artist:
                metadata["xesam:artist"] = string_list([tags.artist])
            if tags.album:
                metadata["xesam:album"] = tags.album
        elif isinstance(source, CaptureSource):
            metadata["xesam:title"] = source.choice.label
        return {
            "PlaybackStatus": status,
            "Metadata": metadata,
            "CanGoNext": window.sources.can_go_next,
            "LoopStatus": LOOP_PLAYLIST if window.sources.list_loop else LOOP_NONE,
            "Shuffle": window.sources.list_shuffle,
            "CanGoPrevious": is_file,
            "CanPlay": is_file,
            "CanPause": is_file,
            "CanSeek": is_file,
        }

    def position_microseconds(self) -> int:
        source = self.window.source
        if isinstance(source, FilePlayback):
            return round(source.position_seconds * MICROSECONDS)
        return 0

    # ----- what is asked -----
    def play_pause(self) -> None:
        if isinstance(self.window.source, FilePlayback):
            self.window.toggle_pause()
            self.refresh()

    def play(self, playing: bool) -> None:
        source = self.window.source
        if isinstance(source, FilePlayback) and source.paused == playing:
            self.play_pause()

    def set_loop_status(self, status: str) -> None:
        """A desktop widget's repeat button: "Playlist" loops the list, "None" does not;
        "Track", a mode this app does not have, changes nothing."""
        if status in (LOOP_NONE, LOOP_PLAYLIST):
            self.window.sources.set_list_loop(status == LOOP_PLAYLIST)

    def seek_to(self, microseconds: int) -> None:
        source = self.window.source
        if not isinstance(source, FilePlayback):
            return
        seconds = min(max(microseconds / MICROSECONDS, 0.0), source.duration_seconds)
        self.window.seek(seconds)
        self._player.Seeked.emit(round(seconds * MICROSECONDS))

    def open_uri(self, uri: str) -> None:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            self.window.sources.play_paths([unquote(parts.path)])
        else:
            self.window.set_fault("source", f"Cannot open {uri}: only file:// addresses play")

    # ----- what the desktop is told -----
    def refresh(self) -> None:
        """Announce the player's properties that changed since the last call."""
        if self.service is None:
            return
        now = self.properties()
        comparable = {key: _comparable(value) for key, value in now.items()}
        changed = {
            key: now[key] for key, value in comparable.items() if self._announced.get(key) != value
        }
        self._announced = comparable
        if not changed:
            return
        message = QtDBus.QDBusMessage.createSignal(
            OBJECT_PATH, PROPERTIES_INTERFACE, "PropertiesChanged"
        )
        invalidated = string_list([])
        message.setArguments([PLAYER_INTERFACE, changed, invalidated])
        self.bus.send(message)

    def close(self) -> None:
        if self.service is not None:
            self.bus.unregisterService(self.service)
            self._leave_bus()
            self.service = None

    def _leave_bus(self) -> None:
        """Take the player off the bus, and the bus off the player: Qt's bus connection
        listens for the end of an object it serves and keeps listening after
        `unregisterObject`, and a connection that goes while still linked to this Python
        object calls into it from Qt's D-Bus thread under a Qt lock, which deadlocks when
        the main thread, holding the GIL, waits for that lock (seen in the tests: a
        connection released in a garbage collection that was deleting widgets)."""
        self.bus.unregisterObject(OBJECT_PATH)
        self.destroyed.disconnect()


def _comparable(value):
    """A property's value in a form `==` compares (object paths and variants by content)."""
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if QtDBus is not None and isinstance(value, QtDBus.QDBusObjectPath):
        return ("path", value.path())
    if isinstance(value, QVariant):
        return ("variant", value.value())
    return value
