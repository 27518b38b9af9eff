"""The keyboard: every key binding of the main window, and the help overlay that lists them.

The table of keys and what they do and the bindings live side by side here, so the help
the window shows (H or ?) is the list of what the keys are bound to.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QLabel

from .corner_pin import CORNER_NAMES, CornerPin
from .presets import PRESET_SLOTS
from .scene_director import BIAS, HOLD

if TYPE_CHECKING:
    from .main_window import MainWindow

SHORTCUTS = (
    ("F11", "full screen on / off"),
    ("Esc", "leave full screen, close this help, end pinning"),
    ("H or ?", "show / hide this help"),
    ("Tab", "hide / show the controls and spectrogram"),
    ("S", "canvas alone on a chosen screen (Esc brings it back)"),
    ("F", "fill the screen with the scene (edges cropped) / whole scene with bars"),
    ("M", "mirror the canvas left and right, for rear projection, or not"),
    ("G", "the test card in place of the scene, for setting up a screen / the scene"),
    ("C", "pin the canvas's corners (keystone) on the test card / done"),
    (
        "while pinning",
        "drag a corner (Shift: slowly), or 1 … 4 pick one and ← → ↑ ↓ move it a pixel (Shift: 10); "
        "Backspace: that corner back, Delete: all; Esc: done",
    ),
    ("O / Shift+O", "open audio files, playlists or cue sheets / a folder of music"),
    ("Space", "play / pause the file (after the last file: from the start)"),
    ("N", "the next track (of a cue sheet) or file of the list"),
    ("Ctrl+← / Ctrl+→", "the track's start (in its first 3 s: the one before) / the next one"),
    ("← / →", "seek 5 s back / forward"),
    ("0 or A", "scene chosen by the music (auto)"),
    ("1 … 9", "hold that category"),
    ("Shift+1 … 9", "bias toward that category"),
    ("+ / −", "more / less reactive to beats"),
    ("F1 … F8", "recall that preset: scene mode, reactivity, feel, memory, cross-fade"),
    ("Shift+F1 … F8", "store the look that runs now in that preset"),
    ("L", "log / linear frequency axis"),
    ("T", "show each track's title on the scene when it starts, or not"),
    ("Ctrl+R", "reload the models"),
    ("B", "blackout on / off: fade to black and back over the Blackout fade time"),
    ("Z", "freeze: the picture holds still while the music goes on / live again"),
    ("R", "record what the canvas shows, with the sound, on / off"),
    ("P", "save the picture the canvas shows (PNG, in the record folder)"),
    ("Shift+N", "NDI output of the picture on / off"),
    ("K / Shift+K", "tap the beat (from the second tap the beats follow the taps) / forget"),
)


def help_overlay() -> QLabel:
    """The help the window shows over its canvas (hidden until H or ?)."""
    rows = "".join(f"<tr><td><b>{key}</b></td><td>{what}</td></tr>" for key, what in SHORTCUTS)
    overlay = QLabel(f"<h3>Keyboard</h3><table cellspacing='6'>{rows}</table>")
    overlay.setStyleSheet(
        "QLabel { background: rgba(0, 0, 0, 200); color: white; padding: 16px; "
        "border-radius: 8px; }"
    )
    overlay.setTextFormat(Qt.TextFormat.RichText)
    return overlay


PIXEL_STEP, SHIFT_STEP = 1, 10  # pixels an arrow moves a pinned corner, without / with Shift


def bind_keys(window: MainWindow) -> list[QShortcut]:
    """Bind every key of SHORTCUTS to the window's actions (application-wide, so they work
    on the detached canvas too). Returns the keys that act only while the corners are
    pinned (the window enables them then: on the rest of the time, ↑ and ↓ would be taken
    from the panel's lists and boxes). The keys bound already (← →, the digits) do their
    pinning work while pinning and their own the rest of the time."""

    def bind(keys: str, action, repeat: bool = False) -> QShortcut:
        """`repeat`: a held key acts again as it repeats (seeking, stepping); else once (a
        held B is one blackout, a held K one tap)."""
        shortcut = QShortcut(QKeySequence(keys), window)
        shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
        shortcut.setAutoRepeat(repeat)
        shortcut.activated.connect(action)
        return shortcut

    def unless_pinning(action, pinning_action=lambda: None):
        return lambda: pinning_action() if window.pinning else action()

    bind("F11", window.toggle_fullscreen)
    bind("Esc", window.leave_fullscreen)
    bind("H", window.toggle_help)
    bind("?", window.toggle_help)
    bind("Tab", window.toggle_chrome)
    bind("S", window.choose_canvas_screen)
    bind("F", window.toggle_fill)
    bind("M", lambda: window.set_mirrored(not window.canvas.orientation.mirrored))
    bind("G", lambda: window.set_test_card(not window.canvas.test_card))
    bind("O", window.choose_file)
    bind("Shift+O", window.choose_folder)
    bind("Space", window.toggle_pause)
    bind("N", window.next_file)
    bind("Ctrl+Left", window.previous_file)
    bind("Ctrl+Right", window.next_file)
    nudge = window.nudge_corner
    bind(
        "Left",
        unless_pinning(lambda: window.seek_relative(-5.0), lambda: nudge(-PIXEL_STEP, 0)),
        repeat=True,
    )
    bind(
        "Right",
        unless_pinning(lambda: window.seek_relative(5.0), lambda: nudge(PIXEL_STEP, 0)),
        repeat=True,
    )
    bind("0", window.set_auto_mode)
    bind("A", window.set_auto_mode)
    for number in range(1, 10):
        index = number - 1  # a category's, and while pinning a corner's (1-4 only)
        pick = partial(window.pick_corner, index) if index < len(CORNER_NAMES) else lambda: None
        bind(str(number), unless_pinning(partial(window.set_scene, HOLD, index), pick))
        bind(f"Shift+{number}", unless_pinning(partial(window.set_scene, BIAS, index), pick))
    bind("C", lambda: window.set_pinning(not window.pinning))
    pinning_keys = [
        bind("Up", lambda: nudge(0, -PIXEL_STEP), repeat=True),
        bind("Down", lambda: nudge(0, PIXEL_STEP), repeat=True),
        bind("Shift+Left", lambda: nudge(-SHIFT_STEP, 0), repeat=True),
        bind("Shift+Right", lambda: nudge(SHIFT_STEP, 0), repeat=True),
        bind("Shift+Up", lambda: nudge(0, -SHIFT_STEP), repeat=True),
        bind("Shift+Down", lambda: nudge(0, SHIFT_STEP), repeat=True),
        bind("Backspace", window.reset_corner),
        bind("Delete", lambda: window.set_corner_pin(CornerPin())),
    ]
    for shortcut in pinning_keys:
        shortcut.setEnabled(False)
    bind("+", lambda: window.set_reactivity(window.settings.reactivity + 0.25), repeat=True)
    bind("=", lambda: window.set_reactivity(window.settings.reactivity + 0.25), repeat=True)
    bind("-", lambda: window.set_reactivity(window.settings.reactivity - 0.25), repeat=True)
    for slot in range(1, PRESET_SLOTS + 1):
        bind(f"F{slot}", lambda slot=slot: window.recall_preset(slot))
        bind(f"Shift+F{slot}", lambda slot=slot: window.store_preset(slot))
    bind("L", lambda: window.panel.log_frequency.toggle())
    bind("T", lambda: window.set_title_cards(not window.settings.title_cards))
    bind("Ctrl+R", window.reload_models)
    bind("B", lambda: window.stage.toggle_blackout())
    bind("Z", lambda: window.stage.perform("freeze"))
    bind("R", lambda: window.stage.toggle_recording())
    bind("P", lambda: window.stage.perform("picture"))
    bind("Shift+N", lambda: window.stage.toggle_ndi())
    bind("K", lambda: window.stage.perform("tap"))
    bind("Shift+K", lambda: window.stage.perform("tap", (0,)))
    return pinning_keys
