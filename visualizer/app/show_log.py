"""The show's log, and the app's guard against errors nobody foresaw.

A performer learns after the show what the panel said at 22:13: each fault the window shows
(a device lost, a file refused, a model that failed) is written with its time when it
appears and when it goes. An exception that nothing caught, in the GUI thread (PyQt6 ends
the process on one that leaves a slot) or in any other thread (which would end silently),
is written with its traceback, printed on stderr as Python prints it, and told to the
window (`unexpected_error`), which says so for a while; the show goes on. An error a part
caught and got over (the worker's, `report`) is written with its traceback too. The same
error again is counted, not written again, until a minute has passed. `faulthandler` writes
a crash in native code (ONNX Runtime, PortAudio, Qt) to the same file.

The file is `$XDG_STATE_HOME/musicscape/musicscape.log` (`~/.local/state/musicscape/`), or
`--log FILE`; one that has grown past `LOG_LIMIT_BYTES` (at the start, or as it is written)
is moved to `musicscape.log.1` and a new one begun (one older log is kept). A log that
cannot be written leaves the app running (`problem` says why).
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import platform
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType

from PyQt6.QtCore import QObject, pyqtSignal

from visualizer.bundled import package_version
from visualizer.output_files import output_file_problem

LOG_LIMIT_BYTES = 1 << 20
REPEAT_NOTE_SECONDS = 60.0  # a repeated error is counted, and the count written this often


def default_log_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "musicscape" / "musicscape.log"


def error_summary(error: BaseException) -> str:
    """'KeyError: 'x'': the error's type and message on one line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class ShowLog(QObject):
    unexpected_error = pyqtSignal(str)  # 'in WHERE: Type: message', for the window

    def __init__(self, path: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = path
        self.problem: str | None = None  # why nothing is written, when the file cannot be
        self._lock = threading.Lock()
        # error -> (times since it was last written, when that was: time.monotonic)
        self._repeats: dict[str, tuple[int, float | None]] = {}
        self._previous_hooks: tuple | None = None
        self._faulthandler_was_on = False  # before `install`: Python's -X faulthandler, pytest
        self._faulthandler_on = False  # writing to this log
        self._file = self._open(path)

    def _open(self, path: Path):
        problem = output_file_problem(path, create_folders=True)
        if problem is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if path.is_file() and path.stat().st_size > LOG_LIMIT_BYTES:
                    path.replace(path.with_name(path.name + ".1"))
                return path.open("a", encoding="utf-8", buffering=1)
            except OSError as error:
                problem = error.strerror or str(error)
        self.problem = f"cannot write the log {path}: {problem}"
        print(f"musicscape: {self.problem}", file=sys.stderr)
        return None

    def write(self, text: str) -> None:
        """One entry, stamped with the local time to the millisecond."""
        now = time.time()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
        with self._lock:
            if self._file is None:
                return
            try:
                self._file.write(f"{stamp}.{int(now * 1000) % 1000:03d} {text}\n")
                full = self._file.tell() > LOG_LIMIT_BYTES  # a long show: start a new file
                if full:
                    self._file.close()
            except OSError as error:  # the disk filled, the folder went: the show goes on
                self.problem = f"cannot write the log {self.path}: {error.strerror or error}"
                print(f"musicscape: {self.problem}", file=sys.stderr)
                with contextlib.suppress(OSError):
                    self._file.close()
                self._file, full = None, False
                if self._faulthandler_on:
                    self._point_faulthandler()
            if full:
                self._file = self._open(self.path)
                if self._faulthandler_on:  # it wrote to the file just closed
                    self._point_faulthandler()

    def started(self, argv: list[str]) -> None:
        self.write(
            f"musicscape {package_version()} started ({' '.join(argv) or 'no options'}); "
            f"Python {platform.python_version()}, {platform.platform()}"
        )

    def fault(self, area: str, message: str | None) -> None:
        """The window shows `message` for `area` from now (None: the area's fault went)."""
        self.write(f"fault ({area}): {message}" if message else f"fault ({area}) cleared")

    def report(self, where: str, error: BaseException) -> None:
        """Write an error `where` caught and got over, with its traceback (the same error
        again within REPEAT_NOTE_SECONDS is only counted)."""
        key = f"in {where}: {error_summary(error)}"
        now = time.monotonic()
        with self._lock:
            unwritten, written_at = self._repeats.get(key, (0, None))
            if written_at is not None and now - written_at < REPEAT_NOTE_SECONDS:
                self._repeats[key] = (unwritten + 1, written_at)
                return
            self._repeats[key] = (0, now)
        if written_at is not None:
            self.write(f"{key} ({unwritten + 1} more times)")
        else:
            lines = "".join(traceback.format_exception(error)).rstrip()
            self.write(f"error {key}\n{lines}")

    def _unexpected(self, where: str, error: BaseException) -> None:
        """An exception nothing caught: printed as Python prints it, written, told."""
        traceback.print_exception(error, file=sys.stderr)
        self.report(where, error)
        self.unexpected_error.emit(f"in {where}: {error_summary(error)}")

    def _excepthook(
        self, kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        self._unexpected("the window", error.with_traceback(trace))

    def _thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "a thread"
        error = args.exc_value if args.exc_value is not None else args.exc_type()
        self._unexpected(f"thread {name}", error.with_traceback(args.exc_traceback))

    def install(self) -> None:
        """Catch uncaught exceptions of every thread, and native crashes, while the app runs."""
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_excepthook
        self._faulthandler_was_on = faulthandler.is_enabled()
        self._point_faulthandler()

    def _point_faulthandler(self) -> None:
        """faulthandler writes to this log, or, when it has none, as it did before."""
        if self._file is not None:
            faulthandler.enable(self._file)
            self._faulthandler_on = True
            return
        self._restore_faulthandler()

    def _restore_faulthandler(self) -> None:
        """faulthandler as it was before `install` (on stderr, or off)."""
        faulthandler.disable()
        if self._faulthandler_was_on:
            faulthandler.enable(sys.__stderr__)
        self._faulthandler_on = False

    def close(self) -> None:
        """Put the hooks back, write what repeated since it was last written, and close."""
        if self._previous_hooks is not None:
            sys.excepthook, threading.excepthook = self._previous_hooks
            self._previous_hooks = None
        if self._faulthandler_on:
            self._restore_faulthandler()
        with self._lock:
            repeated = [(key, count) for key, (count, _) in self._repeats.items() if count]
            self._repeats.clear()
        for key, count in repeated:
            self.write(f"{key} ({count} more times)")
        self.write("musicscape closed")
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
