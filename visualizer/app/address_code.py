"""The HTTP remote's addresses as QR codes, for a phone's camera: typing
"http://192.168.1.23:8080/" on a phone in a dark venue is slow and easy to get wrong.
The Stage box's QR code button opens `AddressCodeDialog`: each address the remote is
reached at (the phone page; `/screen`, the picture alone for a second screen; the live
picture for OBS or VLC), the picked one as a QR code large enough to scan from across a
desk (segno makes the code)."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QPixmap
from PyQt6.QtWidgets import QComboBox, QDialog, QLabel, QLayout, QVBoxLayout

QUIET_MODULES = 4  # the white margin a QR code needs around it, in modules
MODULE_PIXELS = 8  # a version-2 code (an address with a port) is then 264 px across


def qr_pixels(text: str, module_pixels: int = MODULE_PIXELS) -> np.ndarray:
    """`text` as a QR code (error correction M), uint8 [N, N]: 0 black, 255 white, with
    its quiet zone, each module `module_pixels` square."""
    import segno

    code = segno.make(text, error="m", micro=False)
    modules = np.array(list(code.matrix_iter(scale=1, border=QUIET_MODULES)), dtype=bool)
    pixels = np.where(modules, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(pixels.repeat(module_pixels, 0).repeat(module_pixels, 1))


def grey_image(pixels: np.ndarray) -> QImage:
    """uint8 [H, W] as a QImage that owns a copy."""
    height, width = pixels.shape
    return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()


class AddressCodeDialog(QDialog):
    """`urls` (described: {description: url}) to pick from, the picked one as a QR code
    and as text."""

    def __init__(self, urls: dict[str, str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Open on a phone")
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # fits each code whole
        self.picker = QComboBox()
        for description, url in urls.items():
            self.picker.addItem(description, url)
        self.picker.currentIndexChanged.connect(self._show_picked)
        layout.addWidget(self.picker)
        self.code = QLabel()
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.code)
        self.url = QLabel()
        self.url.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.url)
        self._show_picked()

    @property
    def picked_url(self) -> str:
        return self.picker.currentData()

    def _show_picked(self) -> None:
        url = self.picked_url
        self.code.setPixmap(QPixmap.fromImage(grey_image(qr_pixels(url))))
        self.url.setText(url)
        self.layout().activate()  # the dialog takes the code's size now, not at the next turn
