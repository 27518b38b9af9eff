"""A word-wrapped label that is always given the height its lines need.

In the Stage box (a QFormLayout whose label column holds buttons, in a group box, in the
panel's scroll area) Qt gives a wrapped label with more than about six lines the height of
one line fewer than it needs, so the last line of a long message (why MIDI is off, where a
picture was saved) was cut off. `WrappedLabel` asks for its own height at its own width as
its minimum each time its text or its width changes.

Qt wraps only between words, so a word wider than the label (a recording's file name,
`musicscape-20261207-121523.mov`, or a path) was cut at the label's edge. A word of more
than LONG_WORD characters is shown with a zero-width space after each separator inside it
(a slash, backslash, hyphen, underscore or full stop), where Qt may then break the line;
`text()` gives the text as set. A label whose text can be selected (to copy an address) is
shown as set, since the spaces would be copied with it.
"""

from __future__ import annotations

import re

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QLabel, QWidget

LONG_WORD = 20  # characters: shorter words wrap as Qt wraps them
BREAK_AFTER = re.compile(r"([/\\\-_.])(?=\S)")  # a separator inside a word
ZERO_WIDTH_SPACE = "\u200b"


def breakable(text: str) -> str:
    """`text` with a zero-width space after each separator inside its long words."""
    return re.sub(
        rf"\S{{{LONG_WORD + 1},}}",
        lambda word: BREAK_AFTER.sub(rf"\1{ZERO_WIDTH_SPACE}", word[0]),
        text,
    )


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._text = text
        selectable = self.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
        shown = text if selectable else breakable(text)
        super().setText(shown)
        self._fit()

    def text(self) -> str:
        """The text as set (without the break opportunities it is shown with)."""
        return self._text

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        minimum = self.minimumHeight()
        self.setMinimumHeight(0)  # QLabel's heightForWidth answers at least the minimum
        needed = max(self.heightForWidth(self.width()), 0)
        if needed != minimum:
            self.setMinimumHeight(needed)
        else:
            self.setMinimumHeight(minimum)
