"""The Stage box's wrapped labels get the height their lines need (wrapped_label.py): a long
message with a line break (why MIDI is off) was cut by a line in the real window."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from visualizer.app.wrapped_label import WrappedLabel

WHY_MIDI_IS_OFF = (
    "reactivity: not bound\nMIDI is off: this machine has no ALSA sequencer (/dev/snd/seq is "
    "missing; load the snd-seq kernel module, or run where the sound devices are visible)"
)


def _stage_labels(window) -> dict[str, WrappedLabel]:
    """Every wrapped label of the Stage box: the stage's own, its beat grids' and lights'."""
    stage = window.stage
    return {
        name: value
        for part in (stage, stage.beats, stage.lights)
        for name, value in vars(part).items()
        if isinstance(value, WrappedLabel)
    }


def test_every_stage_label_shows_all_its_lines_and_gives_the_room_back(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    window.resize(1100, 720)
    window.show()
    qtbot.waitExposed(window)
    labels = _stage_labels(window)
    expected = {"midi_label", "midi_clock_label", "link_label", "ndi_label", "record_label"}
    assert expected | {"tap_label", "dmx_label", "dmx_in_label"} <= set(labels)
    for label in labels.values():
        label.setText(WHY_MIDI_IS_OFF)
    qtbot.wait(200)
    line = window.stage.midi_label.fontMetrics().lineSpacing()
    for name, label in labels.items():
        needed = label.heightForWidth(label.width())
        assert needed >= 5 * line, name  # wrapped into many lines at the panel's width
        assert label.height() >= needed, name
    for label in labels.values():
        label.setText("off")
    qtbot.wait(200)
    for name, label in labels.items():  # one line again (a row with a button is its height)
        assert label.minimumHeight() < 2 * line and label.height() < 2 * line, name


def test_a_long_file_name_wraps_inside_instead_of_being_cut_at_the_edge(qapp):
    """A recording's name and path are wider than the Stage box's text column: shown with
    break opportunities after their separators, every line fits the label's width, and
    the text reads back as set; a selectable label (an address to copy) is shown as set."""
    text = "finishing /tmp/recordings/musicscape-20261207-121523.mov…"
    label = WrappedLabel(text)
    label.setFixedWidth(150)
    assert label.text() == text
    assert QLabel.text(label) == (
        "finishing /\u200btmp/\u200brecordings/\u200bmusicscape-\u200b20261207-\u200b"
        "121523.\u200bmov…"
    )
    assert label.minimumSizeHint().width() <= 150  # its widest unbreakable piece fits
    plain = QLabel(text)
    plain.setWordWrap(True)
    assert plain.minimumSizeHint().width() > 150  # as Qt shows it: cut at the edge
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setText("http://192.168.100.200:8080/")
    assert QLabel.text(label) == "http://192.168.100.200:8080/"
    label = WrappedLabel("off (--osc-in PORT, --osc-out HOST:PORT)")  # short words: as set
    assert QLabel.text(label) == label.text()
