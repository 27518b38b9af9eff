"""Ctrl-C and SIGTERM close the app the way its window's close button does.

Without this, SIGTERM (a show-control script, `kill`, a service manager) ends the process on
the spot: a recording in progress is left without its index (unplayable), the window's
settings are not saved. Python runs its signal handlers only between bytecodes, and Qt's
event loop runs no Python while idle, so the signal also wakes the loop: Python's C-level
handler writes the signal's number to a socket (`signal.set_wakeup_fd`) that a
QSocketNotifier watches; its slot lets the Python handler run and then calls `on_quit` on
the GUI thread. A second signal while closing ends the process at once, as without this.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable

from PyQt6.QtCore import QObject, QSocketNotifier

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class QuitOnSignals(QObject):
    """While alive, QUIT_SIGNALS call `on_quit` once (on the GUI thread); `received` is the
    signal's number, for the exit status (128 + it)."""

    def __init__(self, on_quit: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self.on_quit = on_quit
        self.received: int | None = None
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
        if self.received is not None:  # the second: no more waiting on a graceful close
            os._exit(128 + number)
        self.received = number

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
        """The signal handling there was before."""
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_wakeup)
        self._notifier.setEnabled(False)
