"""The Stage box's wrapped labels get the height their lines need (wrapped_label.py): a long
message with a line break (why MIDI is off) was cut by a line in the real window."""

from __future__ import annotations

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
