"""visualizer/app/screen_saver.py against a real D-Bus: a private dbus-daemon session bus,
on which the test serves org.freedesktop.ScreenSaver as a desktop does; the inhibitor
and the running window talk to it over their own connection."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from PyQt6 import sip
from PyQt6.QtCore import QObject, pyqtClassInfo, pyqtSlot
from PyQt6.QtDBus import QDBusAbstractAdaptor, QDBusConnection

from visualizer.app.screen_saver import (
    HELD,
    IDLE,
    OBJECT_PATH,
    SERVICE,
    UNAVAILABLE,
    ScreenSaverInhibitor,
)

TIMEOUT_MS = 10_000
needs_dbus_daemon = pytest.mark.skipif(
    shutil.which("dbus-daemon") is None, reason="needs dbus-daemon (install.sh --dev installs it)"
)


@pyqtClassInfo("D-Bus Interface", "org.freedesktop.ScreenSaver")
class ScreenSaverAdaptor(QDBusAbstractAdaptor):
    """What a desktop serves: Inhibit gives a cookie, UnInhibit takes it back."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.held: dict[int, tuple[str, str]] = {}
        self.calls: list[str] = []
        self._next_cookie = 41

    @pyqtSlot(str, str, result="uint")
    def Inhibit(self, application: str, reason: str) -> int:  # noqa: N802 - the interface's
        self._next_cookie += 1
        self.held[self._next_cookie] = (application, reason)
        self.calls.append(f"Inhibit {self._next_cookie}")
        return self._next_cookie

    @pyqtSlot("uint")
    def UnInhibit(self, cookie: int) -> None:  # noqa: N802 - the interface's
        self.calls.append(f"UnInhibit {cookie}")
        del self.held[cookie]


@pytest.fixture
def desktop(qapp, bus_address, request):
    """The desktop's side: org.freedesktop.ScreenSaver served on the private bus."""
    name = f"desktop-{request.node.name}"
    bus = QDBusConnection.connectToBus(bus_address, name)
    holder = QObject()
    adaptor = ScreenSaverAdaptor(holder)
    assert bus.registerObject(OBJECT_PATH, holder) and bus.registerService(SERVICE)
    yield adaptor
    bus.unregisterService(SERVICE)
    bus.unregisterObject(OBJECT_PATH)
    # The served object goes before its connection: QtDBus's own thread, tearing the
    # connection down, would otherwise call into this Python object while this thread,
    # deleting it, waits on that thread (a deadlock).
    sip.delete(holder)
    QDBusConnection.disconnectFromBus(name)


@pytest.fixture
def app_bus(qapp, bus_address, request):
    name = f"app-{request.node.name}"
    yield QDBusConnection.connectToBus(bus_address, name)
    QDBusConnection.disconnectFromBus(name)


@needs_dbus_daemon
def test_held_while_music_plays_and_released_when_it_stops(qtbot, desktop, app_bus):
    inhibitor = ScreenSaverInhibitor(app_bus)
    assert inhibitor.status == IDLE
    with qtbot.waitSignal(inhibitor.changed, timeout=TIMEOUT_MS) as signal:
        inhibitor.hold(True)
    assert signal.args == [HELD] and inhibitor.status == HELD
    assert desktop.held == {42: ("musicscape", "showing scenes to music")}
    inhibitor.hold(False)
    qtbot.waitUntil(lambda: inhibitor.status == IDLE, timeout=TIMEOUT_MS)
    assert desktop.held == {} and desktop.calls == ["Inhibit 42", "UnInhibit 42"]
    # quick changes while an answer is on its way end in the last one's state
    inhibitor.hold(True)
    inhibitor.hold(False)
    inhibitor.hold(True)
    qtbot.waitUntil(lambda: inhibitor.status == HELD, timeout=TIMEOUT_MS)
    assert list(desktop.held) == [43]
    inhibitor.close()  # the app goes: released before it does
    assert desktop.held == {} and desktop.calls[-1] == "UnInhibit 43"


@needs_dbus_daemon
def test_a_bus_without_the_service_or_no_bus_is_named(qtbot, app_bus, qapp):
    inhibitor = ScreenSaverInhibitor(app_bus)
    with qtbot.waitSignal(inhibitor.changed, timeout=TIMEOUT_MS):
        inhibitor.hold(True)
    assert inhibitor.status.startswith(f"{UNAVAILABLE}: the desktop did not take the request (")
    assert SERVICE in inhibitor.status and inhibitor.cookie is None
    nowhere = ScreenSaverInhibitor(QDBusConnection.connectToBus("unix:path=/nonexistent", "none"))
    nowhere.hold(True)
    assert nowhere.status == f"{UNAVAILABLE}: no D-Bus session bus to ask the desktop"
    QDBusConnection.disconnectFromBus("none")


@needs_dbus_daemon
def test_the_window_keeps_the_screen_on_while_its_music_plays(
    qtbot, desktop, app_bus, make_window, model_dir, beats_file
):
    window = make_window(model_dir, session_bus=app_bus)
    assert window.panel.screen_label.text() == IDLE  # the test's demo folder is empty
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.panel.screen_label.text() == HELD, timeout=TIMEOUT_MS)
    assert len(desktop.held) == 1
    window.toggle_pause()
    qtbot.waitUntil(lambda: window.panel.screen_label.text() == IDLE, timeout=TIMEOUT_MS)
    assert desktop.held == {}
    window.toggle_pause()
    qtbot.waitUntil(lambda: len(desktop.held) == 1, timeout=TIMEOUT_MS)


def test_a_qt_without_d_bus_says_so_and_the_window_still_imports():
    code = (
        "import sys; sys.modules['PyQt6.QtDBus'] = None\n"
        "from PyQt6.QtWidgets import QApplication\n"
        "app = QApplication(['musicscape', '-platform', 'offscreen'])\n"
        "from visualizer.app.screen_saver import ScreenSaverInhibitor\n"
        "import visualizer.app.main_window\n"
        "inhibitor = ScreenSaverInhibitor()\n"
        "inhibitor.hold(True)\n"
        "inhibitor.close()\n"
        "print(inhibitor.status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{UNAVAILABLE}: this Qt has no D-Bus module to ask the desktop"
