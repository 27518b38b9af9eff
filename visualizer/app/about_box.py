"""The About box (the panel's About button): the version, the models in use with their
model card (the data they were trained on and its licences), and the demo music's credits,
which its Creative Commons licences ask to be given where it plays. Everything is read from
the files that ship beside the models and the demo (`MODEL_CARD.md`, the demo's
`ATTRIBUTION.md`), so nothing is restated here and a retrained model's card is the one
shown.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from visualizer.bundled import package_version

MODEL_CARD_FILE = "MODEL_CARD.md"
ATTRIBUTION_FILE = "ATTRIBUTION.md"
_TABLE_ROW = re.compile(r"^\|\s*`(?P<file>[^`]+)`\s*\|(?P<cells>.*)\|\s*$")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class DemoCredit:
    """One row of the demo's attribution table; its cells as the file writes them
    (Markdown)."""

    file: str
    original: str
    author: str
    licence: str
    source: str


def demo_credits(attribution: Path) -> list[DemoCredit]:
    """The rows of `attribution`'s table (file, original, author, licence, source); none
    when the file is missing or holds no such rows."""
    try:
        lines = attribution.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    credits = []
    for line in lines:
        row = _TABLE_ROW.match(line.strip())
        if row is None:
            continue
        cells = [cell.strip() for cell in row["cells"].split("|")]
        if len(cells) == 4:
            credits.append(DemoCredit(row["file"], *cells))
    return credits


def markdown_html(text: str) -> str:
    """A table cell's Markdown (links and code) as HTML, everything else escaped."""
    escaped = html.escape(text, quote=False)
    linked = _MARKDOWN_LINK.sub(
        lambda m: f'<a href="{m[2].replace(chr(34), "&quot;")}">{m[1]}</a>', escaped
    )
    return _CODE.sub(r"<code>\1</code>", linked)


def about_html(model_dir: Path, demo_dir: Path) -> str:
    """The About box's text: version, models and their card, the demo's credits."""
    parts = [
        f"<h2>musicscape {html.escape(package_version())}</h2>",
        "<p>Natural scenes painted live to music: the models hear each 16-second window and "
        "a generator draws the scene that fits it (after Qiu &amp; Kataoka, <i>Image "
        "generation associated with music data</i>).</p>",
        f"<p><b>Models:</b> {html.escape(str(model_dir))}",
    ]
    card = model_dir / MODEL_CARD_FILE
    if card.is_file():
        parts.append(
            f'<br>What they were trained on, its licences and how well they do: <a href="'
            f'{card.absolute().as_uri()}">{MODEL_CARD_FILE}</a>'
        )
    parts.append("</p>")
    credits = demo_credits(demo_dir / ATTRIBUTION_FILE)
    if credits:
        parts.append("<p><b>Demo music</b> (excerpts; each keeps its licence):</p><ul>")
        for credit in credits:
            parts.append(
                f"<li><code>{html.escape(credit.file)}</code>: "
                f"{markdown_html(credit.original)} by {markdown_html(credit.author)}, "
                f"{markdown_html(credit.licence)}; from {markdown_html(credit.source)}</li>"
            )
        parts.append("</ul>")
    return "".join(parts)


class AboutBox(QDialog):
    def __init__(self, model_dir: Path, demo_dir: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About musicscape")
        layout = QVBoxLayout(self)
        self.text = QLabel(about_html(model_dir, demo_dir))
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())
