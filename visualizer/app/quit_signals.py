"""Ctrl-C and SIGTERM close the app the way its window's close button does.

Without this, SIGTERM (a show-control script, `kill`, a service manager) ends the process on
the spot: a recording in progress is left without its index (unplayable), the window's
settings are not saved. Python runs its signal handlers only between bytecodes, and Qt's
event loop runs no Python while idle, so the signal also wakes the loop: Python's C-level
handler writes the signal's number to a socket (`signal.set_wakeup_fd`) that a
QSocketNotifier watches; its slot lets the Python handler run and then calls `on_quit` on
the GUI thread. A second signal REPEAT_SECONDS or more after the first, while closing (Ctrl-C
pressed again because a close hangs), ends the process at once, as without this; one that
comes with the first is the same request: GNU timeout, and service managers that signal a
whole process group, send SIGTERM to the process and to its group, so it arrives twice
within milliseconds (seen as a close cut short, its log line lost, in 2 runs of 7 under
`timeout`).
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Callable

from PyQt6.QtCore import QObject, QSocketNotifier

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REPEAT_SECONDS = 1.0  # a signal this long after the first is a new request: quit at once


class QuitOnSignals(QObject):
    """While alive, QUIT_SIGNALS call `on_quit` once (on the GUI thread); `received` is the
    signal's number, for the exit status (128 + it)."""

    def __init__(self, on_quit: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self.on_quit = on_quit
        self.received: int | None = None
        self._received_at = 0.0  # time.monotonic() of the first signal
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)
        self._previous_wakeup = signal.set_wakeup_fd(self._writer.fileno())
        self._previous_handlers = {
            number: signal.signal(number, self._on_signal) for number in QUIT_SIGNALS
        }

    def _on_signal(self, number: int, frame) -> None:
        if self.insists(time.monotonic()):  # no more waiting on a graceful close
            os._exit(128 + number)
        if self.received is None:
            self.received, self._received_at = number, time.monotonic()

    def insists(self, now: float) -> bool:
        """Whether a signal at `now` (time.monotonic) comes after the first one by
        REPEAT_SECONDS or more: a new request, not the first one delivered twice."""
        return self.received is not None and now - self._received_at >= REPEAT_SECONDS

    def _woken(self) -> None:
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass
        if self.received is not None and self.on_quit is not None:
            on_quit, self.on_quit = self.on_quit, None
            on_quit()

    def restore(self) -> None:
        """The signal handling there was before; but once a quit signal has come, the
        process is ending on it: the quit signals are ignored from here, so a repeat of it
        during the last of the close (the show's log's last line after the event loop, the
        interpreter's exit, which would set a Python handler back to the default) changes
        nothing, and the exit status stays 128 + the signal."""
        signal.set_wakeup_fd(self._previous_wakeup)
        self._notifier.setEnabled(False)
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler if self.received is None else signal.SIG_IGN)
