"""The app's icon, drawn in code (no image file to license or ship): a scene of the four
categories in a rounded square (sky from dusk orange to blue, a sun, a mountain, a dune,
water with the sun's reflection), and the desktop entry that puts musicscape in a Linux
desktop's application menu with it (`musicscape --desktop-entry`).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import (
    QColor,
    QIcon,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPixmap,
)

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
DESKTOP_ENTRY_ICON_SIZE = 256
APP_ID = "musicscape"

SKY_TOP = QColor(46, 84, 160)
SKY_HORIZON = QColor(246, 168, 92)
SUN = QColor(255, 226, 120)
MOUNTAIN = QColor(70, 62, 96)
DUNE = QColor(214, 150, 78)
WATER = QColor(34, 70, 128)


def draw_icon(size: int) -> QImage:
    """The icon at `size` x `size` pixels (ARGB, transparent corners)."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 100.0, size / 100.0)  # drawn on a 100 x 100 grid
    frame = QPainterPath()
    frame.addRoundedRect(QRectF(2, 2, 96, 96), 18, 18)
    painter.setClipPath(frame)
    sky = QLinearGradient(QPointF(0, 2), QPointF(0, 62))
    sky.setColorAt(0.0, SKY_TOP)
    sky.setColorAt(1.0, SKY_HORIZON)
    painter.fillRect(QRectF(0, 0, 100, 62), sky)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(SUN)
    painter.drawEllipse(QPointF(66, 40), 13, 13)
    mountain = QPainterPath(QPointF(-2, 62))
    mountain.lineTo(30, 24)
    mountain.lineTo(62, 62)
    painter.setBrush(MOUNTAIN)
    painter.drawPath(mountain)
    dune = QPainterPath(QPointF(40, 62))
    dune.cubicTo(QPointF(62, 48), QPointF(84, 50), QPointF(102, 58))
    dune.lineTo(102, 62)
    painter.setBrush(DUNE)
    painter.drawPath(dune)
    painter.fillRect(QRectF(0, 62, 100, 38), WATER)
    painter.setBrush(SUN)
    for row, half_width in enumerate((10, 7, 4)):  # the sun's reflection, narrowing
        painter.drawRoundedRect(QRectF(66 - half_width, 68 + 9 * row, 2 * half_width, 3), 1, 1)
    painter.end()
    return image


def app_icon() -> QIcon:
    """The icon at every size a desktop asks for."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(QPixmap.fromImage(draw_icon(size)))
    return icon


def data_home() -> Path:
    """Where a user's desktop entries and icons go: $XDG_DATA_HOME, else ~/.local/share."""
    configured = os.environ.get("XDG_DATA_HOME")
    return Path(configured) if configured else Path.home() / ".local" / "share"


def exec_argument(text: str) -> str:
    """`text` as one argument of a desktop entry's Exec key, as the specification writes it:
    when it holds a reserved character (a path with a space), in double quotes with `"`,
    backquote, `$` and backslash escaped by a backslash; then every backslash doubled (the
    escape of all string values, undone first when the entry is read) and `%` doubled."""
    if not any(character in text for character in " \t\n\"'\\><~|&;$*?#()`%"):
        return text
    quoted = '"' + "".join("\\" + c if c in '"`$\\' else c for c in text) + '"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(command: str, icon_path: Path) -> str:
    """The freedesktop.org desktop entry that starts `command` (an absolute path)."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=musicscape",
            "GenericName=Music visualizer",
            "Comment=Paints natural scenes that fit the music you play, live",
            f"Exec={exec_argument(command)}",
            f"Icon={icon_path}",
            "Terminal=false",
            "Categories=AudioVideo;Audio;",
            "Keywords=visualizer;music;VJ;scenes;",
            f"StartupWMClass={APP_ID}",
            "",
        ]
    )


def launcher() -> str:
    """The absolute path of the `musicscape` command that runs now (else the one on PATH);
    OSError when there is none (run from a source tree without installing)."""
    launched = Path(sys.argv[0])
    if launched.name == APP_ID and launched.is_file():
        return str(launched.absolute())
    found = shutil.which(APP_ID)
    if found is None:
        raise OSError("no `musicscape` command to start: install musicscape first")
    return str(Path(found).absolute())


def install_desktop_entry(command: str | None = None, folder: Path | None = None) -> Path:
    """Write the icon and the desktop entry under `folder` (default: `data_home()`) for
    `command` (default: `launcher()`). Returns the entry's path; OSError when the folder
    cannot be written."""
    folder = folder or data_home()
    command = command or launcher()
    icon_path = folder / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png"
    icon_path.parent.mkdir(parents=True, exist_ok=True)
    if not draw_icon(DESKTOP_ENTRY_ICON_SIZE).save(str(icon_path), "PNG"):
        raise OSError(f"cannot write {icon_path}")
    entry_path = folder / "applications" / f"{APP_ID}.desktop"
    entry_path.parent.mkdir(parents=True, exist_ok=True)
    entry_path.write_text(desktop_entry(command, icon_path), encoding="utf-8")
    return entry_path
