"""Stalls of the GUI thread, written in the show's log.

Everything the audience sees is painted on the GUI thread, so a call that holds it (a sound
server that does not answer, a slow disk, a library's long call) stops the picture and the
remotes with it. A timer on the GUI thread beats every BEAT_SECONDS, and a watcher thread of
its own looks as often: once no beat has come for `stall_seconds`, it notes the GUI
thread's innermost calls. When the beats come back, the GUI thread writes the stall to the
show's log, how long the window stood still, from when, and where it was held, so a freeze
seen at 22:13 can be traced after the show ("the window stood still for 2.04 s (from
22:13:04.120), held in audio_sources.py:118 wait_on_sound_server < audio_sources.py:367
open_stream < …"; the waits inside Python's threading module are passed over).
A call that keeps Python's lock the whole time cannot be looked into; the entry says so.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QObject, QTimer

if TYPE_CHECKING:
    from .show_log import ShowLog

BEAT_SECONDS = 0.05
STALL_SECONDS = 0.5  # 30 frames at 60 fps: a hold the audience sees
WHERE_CALLS = 4  # the innermost calls named
UNSEEN = "a call that kept Python's lock (native code), where the watcher cannot look"


class StallWatch(QObject):
    """Made on the GUI thread, whose stalls it writes to `show_log` (see the docstring)."""

    def __init__(
        self, show_log: ShowLog, stall_seconds: float = STALL_SECONDS, parent=None
    ) -> None:
        super().__init__(parent)
        self.show_log = show_log
        self.stall_seconds = stall_seconds
        self.stalls = 0  # written so far
        self._gui_thread = threading.get_ident()
        self._lock = threading.Lock()
        self._last_beat = time.monotonic()
        self._where: str | None = None  # the held thread's calls, once seen
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(round(BEAT_SECONDS * 1000))
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        with self._lock:
            self._last_beat = time.monotonic()
        self._timer.start()
        self._watcher = threading.Thread(target=self._watch, name="stall-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=1.0)

    def _stalled(self) -> bool:
        return time.monotonic() - self._last_beat >= self.stall_seconds

    def _watch(self) -> None:
        while not self._stopping.wait(BEAT_SECONDS):
            with self._lock:
                if self._where is not None or not self._stalled():
                    continue
            where = self._gui_thread_calls()
            with self._lock:
                if self._where is None and self._stalled():  # the beat may be back already
                    self._where = where

    def _gui_thread_calls(self) -> str:
        frame = sys._current_frames().get(self._gui_thread)
        if frame is None:
            return UNSEEN
        calls = [  # the waits of Python's threading module say nothing of who waits
            call for call in traceback.extract_stack(frame) if call.filename != threading.__file__
        ][-WHERE_CALLS:]
        return " < ".join(
            f"{Path(call.filename).name}:{call.lineno} {call.name}" for call in reversed(calls)
        )

    def _beat(self) -> None:
        now = time.monotonic()
        with self._lock:
            held, self._last_beat = now - self._last_beat, now
            where, self._where = self._where, None
        if held < self.stall_seconds:
            return
        self.stalls += 1
        began = time.time() - held
        clock = time.strftime("%H:%M:%S", time.localtime(began))
        self.show_log.write(
            f"the window stood still for {held:.2f} s (from {clock}."
            f"{int(began * 1000) % 1000:03d}), held in {where or UNSEEN}"
        )
