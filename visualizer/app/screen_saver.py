"""Keeps the desktop from blanking the screen while music plays.

A desktop's screen saver, and the power saving that turns the screen off, wake on input
only: a show that no one touches goes black after a few minutes (GNOME's default is 5).
While a source plays, `ScreenSaverInhibitor` holds an inhibition through the freedesktop
`org.freedesktop.ScreenSaver` interface on the D-Bus session bus (GNOME, KDE Plasma, XFCE,
Cinnamon, MATE and LXQt implement it) and releases it when playing stops (paused, ended,
no source) and when the app closes; a desktop also drops it when the app's bus connection
goes. Calls are asynchronous, so the GUI never waits on the bus. Where there is no session
bus or no such service, `status` says so in words: the show's own power settings must then
keep the screen on.
"""

from __future__ import annotations

from PyQt6.QtCore import QMetaType, QObject, pyqtSignal

try:  # Qt builds for Linux have D-Bus; others may not, and then there is nothing to ask
    from PyQt6 import QtDBus
except ImportError:
    QtDBus = None

SERVICE = "org.freedesktop.ScreenSaver"
OBJECT_PATH = "/org/freedesktop/ScreenSaver"
INTERFACE = "org.freedesktop.ScreenSaver"
APPLICATION = "musicscape"
REASON = "showing scenes to music"
CALL_TIMEOUT_MS = 5000
RELEASE_TIMEOUT_MS = 1000  # at close, the release may wait this long for its answer

HELD = "kept on while music plays"
IDLE = "may blank: nothing plays"
UNAVAILABLE = "may blank"


class ScreenSaverInhibitor(QObject):
    """`hold(True)` while music plays, `hold(False)` when it stops; `status` says what the
    screen may do, in words, and `changed(status)` fires when that changes."""

    changed = pyqtSignal(str)

    def __init__(self, bus: QtDBus.QDBusConnection | None = None, parent: QObject | None = None):
        super().__init__(parent)
        if bus is None and QtDBus is not None:
            bus = QtDBus.QDBusConnection.sessionBus()
        self.bus = bus
        self.wanted = False
        self.cookie: int | None = None
        self.status = IDLE
        self._watcher: QtDBus.QDBusPendingCallWatcher | None = None

    def hold(self, wanted: bool) -> None:
        if wanted != self.wanted:
            self.wanted = wanted
            self._sync()

    def close(self) -> None:
        """Release a held inhibition before the app goes (waiting at most
        RELEASE_TIMEOUT_MS, events still served)."""
        self.wanted = False
        if self.cookie is not None and self.bus.isConnected():
            self.bus.call(
                self._message("UnInhibit", self.cookie),
                QtDBus.QDBus.CallMode.BlockWithGui,
                RELEASE_TIMEOUT_MS,
            )
        self.cookie = None

    def _sync(self) -> None:
        """Ask the bus for what `wanted` needs; an answer on its way syncs again when it
        comes, so quick play / pause changes end in the last one's state."""
        if self._watcher is not None:
            return
        if self.wanted and self.cookie is None:
            if self.bus is None:
                self._set_status(f"{UNAVAILABLE}: this Qt has no D-Bus module to ask the desktop")
                return
            if not self.bus.isConnected():
                self._set_status(f"{UNAVAILABLE}: no D-Bus session bus to ask the desktop")
                return
            self._call(self._message("Inhibit", APPLICATION, REASON), self._inhibited)
        elif not self.wanted and self.cookie is not None:
            cookie, self.cookie = self.cookie, None
            self._call(self._message("UnInhibit", cookie), self._released)
        elif not self.wanted:
            self._set_status(IDLE)

    def _message(self, method: str, *args) -> QtDBus.QDBusMessage:
        message = QtDBus.QDBusMessage.createMethodCall(SERVICE, OBJECT_PATH, INTERFACE, method)
        if method == "UnInhibit":
            # the cookie is a uint32 ("u"); a plain int would go as an int32 and match no method
            message.setArguments([QtDBus.QDBusArgument(args[0], QMetaType.Type.UInt.value)])
        else:
            message.setArguments(list(args))
        return message

    def _call(self, message: QtDBus.QDBusMessage, answered) -> None:
        self._watcher = QtDBus.QDBusPendingCallWatcher(
            self.bus.asyncCall(message, CALL_TIMEOUT_MS), self
        )
        self._watcher.finished.connect(answered)

    def _answer(self, watcher: QtDBus.QDBusPendingCallWatcher) -> QtDBus.QDBusPendingReply:
        self._watcher = None
        watcher.deleteLater()
        return QtDBus.QDBusPendingReply(watcher)

    def _inhibited(self, watcher: QtDBus.QDBusPendingCallWatcher) -> None:
        reply = self._answer(watcher)
        if reply.isError():
            self._set_status(
                f"{UNAVAILABLE}: the desktop did not take the request ({reply.error().message()})"
            )
            return
        self.cookie = int(reply.argumentAt(0))
        self._set_status(HELD)
        self._sync()

    def _released(self, watcher: QtDBus.QDBusPendingCallWatcher) -> None:
        self._answer(watcher)
        self._set_status(IDLE)
        self._sync()

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.changed.emit(status)
