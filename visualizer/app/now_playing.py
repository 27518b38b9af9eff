"""What another media player on the desktop plays, while musicscape hears it through an input.

Most music is heard from a streaming app or a browser, which musicscape captures through a
system-audio monitor source: the audio carries no title. The app that plays it says what
it plays over MPRIS on the D-Bus session bus (`org.mpris.MediaPlayer2.*`: Spotify, Firefox
and Chromium, Rhythmbox, VLC, mpv with its plugin, ...), as the desktop's media widgets
read it. While an input is captured, `NowPlaying` asks every such player (but this app's
own) for its PlaybackStatus and Metadata once a second; the track is the title, artist and
album of the player that plays (the one that started playing last, if several do), or None.
Every call is asynchronous: the GUI never waits on the bus or on a player that does not
answer. Only calls are made: nothing is registered on the bus and no signal is listened to,
so nothing of this object stays linked to the bus connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from visualizer.frontend.decode import TrackTags

from .screen_saver import QtDBus

MPRIS_PREFIX = "org.mpris.MediaPlayer2."
OBJECT_PATH = "/org/mpris/MediaPlayer2"
PLAYER_INTERFACE = "org.mpris.MediaPlayer2.Player"
PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
POLL_MS = 1000
CALL_TIMEOUT_MS = 2000
PLAYING = "Playing"


@dataclass(frozen=True)
class PlayerTrack:
    player: str  # the player's name, as player_name gives it ("spotify", "firefox")
    tags: TrackTags


def player_name(bus_name: str) -> str:
    """A player's name from its MPRIS bus name, without the instance a player may add
    ("org.mpris.MediaPlayer2.firefox.instance_1_84" -> "firefox")."""
    return bus_name.removeprefix(MPRIS_PREFIX).split(".")[0]


def metadata_tags(metadata: dict) -> TrackTags:
    """The title, artist(s) and album of an MPRIS Metadata map, cleaned as a file's tags."""
    artists = metadata.get("xesam:artist", [])
    if isinstance(artists, str):  # some players send one string where MPRIS says a list
        artists = [artists]
    artist = ", ".join(str(name) for name in artists) if isinstance(artists, list) else ""
    return TrackTags.cleaned(
        str(metadata.get("xesam:title", "")), artist, str(metadata.get("xesam:album", ""))
    )


@dataclass
class _PlayerState:
    playing_since: float | None  # when this app first saw it playing; None: not playing
    tags: TrackTags


class NowPlaying(QObject):
    """`watch(True)` while an input is captured; `changed(PlayerTrack | None)` when what the
    desktop's players play changes."""

    changed = pyqtSignal(object)

    def __init__(self, bus, own_service: Callable[[], str | None], parent: QObject | None = None):
        super().__init__(parent)
        self.bus = bus if bus is not None or QtDBus is None else QtDBus.QDBusConnection.sessionBus()
        self._own_service = own_service
        self.track: PlayerTrack | None = None
        self._players: dict[str, _PlayerState] = {}
        self._waiting: set[str] = set()  # players asked whose answer has not come
        self._asking = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def available(self) -> bool:
        return self.bus is not None and self.bus.isConnected()

    def watch(self, on: bool) -> None:
        if on and self.available:
            if not self._timer.isActive():
                self._timer.start()
                self._poll()
            return
        self._timer.stop()
        self._players.clear()
        self._set_track(None)

    def _call(self, message, answered) -> None:
        watcher = QtDBus.QDBusPendingCallWatcher(self.bus.asyncCall(message, CALL_TIMEOUT_MS), self)
        watcher.finished.connect(answered)

    def _poll(self) -> None:
        if self._asking or not self.available:
            return
        self._asking = True
        message = QtDBus.QDBusMessage.createMethodCall(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames"
        )
        self._call(message, self._listed)

    def _listed(self, watcher) -> None:
        reply = QtDBus.QDBusPendingReply(watcher)
        watcher.deleteLater()
        if not self._timer.isActive():  # stopped meanwhile
            self._asking = False
            return
        own = self._own_service()
        names = [] if reply.isError() else [str(name) for name in reply.argumentAt(0)]
        players = sorted(name for name in names if name.startswith(MPRIS_PREFIX) and name != own)
        for gone in set(self._players) - set(players):
            del self._players[gone]
        self._waiting = set(players)
        if not players:
            self._asking = False
            self._decide()
            return
        for name in players:
            message = QtDBus.QDBusMessage.createMethodCall(
                name, OBJECT_PATH, PROPERTIES_INTERFACE, "GetAll"
            )
            message.setArguments([PLAYER_INTERFACE])
            self._call(message, partial(self._answered, name))

    def _answered(self, name: str, watcher) -> None:
        reply = QtDBus.QDBusPendingReply(watcher)
        watcher.deleteLater()
        properties = {} if reply.isError() else reply.argumentAt(0)
        if not isinstance(properties, dict):
            properties = {}
        playing = properties.get("PlaybackStatus") == PLAYING
        metadata = properties.get("Metadata")
        tags = metadata_tags(metadata) if isinstance(metadata, dict) else TrackTags()
        before = self._players.get(name)
        since = None
        if playing:
            kept = before is not None and before.playing_since is not None
            since = before.playing_since if kept else time.monotonic()
        self._players[name] = _PlayerState(since, tags)
        self._waiting.discard(name)
        if not self._waiting:
            self._asking = False
            self._decide()

    def _decide(self) -> None:
        if not self._timer.isActive():
            return
        playing = [
            (state.playing_since, name, state.tags)
            for name, state in self._players.items()
            if state.playing_since is not None and state.tags.title
        ]
        if not playing:
            self._set_track(None)
            return
        _, name, tags = max(playing)
        self._set_track(PlayerTrack(player_name(name), tags))

    def _set_track(self, track: PlayerTrack | None) -> None:
        if track != self.track:
            self.track = track
            self.changed.emit(track)
