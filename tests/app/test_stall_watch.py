"""The GUI thread's stalls in the show's log: a real timer, a real watcher thread, a real
log file, and a slot that holds the GUI thread for a known time."""

from __future__ import annotations

import re
import threading
import time

from PyQt6.QtCore import QTimer

from visualizer.app.show_log import ShowLog
from visualizer.app.stall_watch import StallWatch

HELD_SECONDS = 0.8


def hold_the_gui_thread() -> None:
    time.sleep(HELD_SECONDS)  # a call that waits (it lets go of Python's lock, as I/O does)


def test_a_stall_is_written_with_how_long_from_when_and_where(qtbot, tmp_path):
    log = ShowLog(tmp_path / "show.log")
    watch = StallWatch(log, stall_seconds=0.3)
    watch.start()
    try:
        qtbot.wait(200)
        QTimer.singleShot(0, hold_the_gui_thread)
        qtbot.waitUntil(lambda: "hold_the_gui_thread" in log.path.read_text(), timeout=5000)
    finally:
        watch.stop()
        log.close()
    assert not watch._watcher.is_alive()
    entries = [line for line in log.path.read_text().splitlines() if "hold_the_gui_thread" in line]
    assert len(entries) == 1
    match = re.fullmatch(
        r"\S+ (\d\d:\d\d:\d\d\.\d{3}) the window stood still for (\d+\.\d\d) s "
        r"\(from (\d\d:\d\d:\d\d\.\d{3})\), held in test_stall_watch\.py:\d+ "
        r"hold_the_gui_thread < .+",
        entries[0],
    )
    assert match, entries[0]
    written, held, began = match.groups()
    assert float(held) >= HELD_SECONDS

    def seconds(clock: str) -> float:
        hours, minutes, rest = clock.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    # written when the beats came back: as long after the stall began as it lasted
    assert abs(seconds(written) - seconds(began) - float(held)) < 0.1
    assert watch.stalls >= 1


def wait_on_a_thread() -> None:
    waiter = threading.Thread(target=time.sleep, args=(HELD_SECONDS,))
    waiter.start()
    waiter.join()


def test_a_stall_in_a_join_is_named_by_who_joins(qtbot, tmp_path):
    log = ShowLog(tmp_path / "show.log")
    watch = StallWatch(log, stall_seconds=0.3)
    watch.start()
    try:
        QTimer.singleShot(0, wait_on_a_thread)
        qtbot.waitUntil(lambda: "wait_on_a_thread" in log.path.read_text(), timeout=5000)
    finally:
        watch.stop()
        log.close()
    (entry,) = [line for line in log.path.read_text().splitlines() if "wait_on_a_thread" in line]
    assert re.search(r"held in test_stall_watch\.py:\d+ wait_on_a_thread < ", entry), entry
