"""The canvas alone in a top-level window, for a second screen (S; Esc brings it back)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QVBoxLayout, QWidget


class CanvasWindow(QWidget):
    """A top-level window holding the canvas alone, for a second screen."""

    def __init__(self, on_close):
        super().__init__()
        self.setWindowTitle("musicscape canvas")
        self.setStyleSheet("background: black;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._on_close = on_close

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._on_close()
        super().closeEvent(event)
