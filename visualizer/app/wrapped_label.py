"""A word-wrapped label that is always given the height its lines need.

In the Stage box (a QFormLayout whose label column holds buttons, in a group box, in the
panel's scroll area) Qt gives a wrapped label with more than about six lines the height of
one line fewer than it needs, so the last line of a long message (why MIDI is off, where a
picture was saved) was cut off. `WrappedLabel` asks for its own height at its own width as
its minimum each time its text or its width changes.
"""

from __future__ import annotations

from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QLabel, QWidget


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._fit()

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
