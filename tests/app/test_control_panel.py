"""The control panel's "Now" box: every value is shown whole at the panel's width."""

from __future__ import annotations

import dataclasses

import numpy as np
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtWidgets import QApplication

from visualizer.app.control_panel import (
    ControlPanel,
    describe_bands,
    describe_level,
    describe_tempo,
)
from visualizer.app.frame_worker import FramePacket
from visualizer.app.scene_director import HOLD, SceneMode
from visualizer.app.spectrogram_image import SpectrogramImage
from visualizer.app.track_scenes import MAX_REMEMBERED_TRACKS
from visualizer.frontend import FrontEndContract

CATEGORIES = ("desert", "mountain", "sky", "water")


def _packet(
    arousal: float,
    valence: float,
    level_db: float = -20.0,
    gain_db: float = 0.0,
    produced_time: float = 0.0,
    meter_db: float | None = None,
) -> FramePacket:
    return FramePacket(
        sequence=1,
        image=np.zeros((8, 8, 3), np.uint8),
        produced_time=produced_time,
        audio_time=None,
        onset_time=None,
        probabilities=np.full(len(CATEGORIES), 0.25),
        spectrogram=None,
        spectrogram_layout=SpectrogramImage(FrontEndContract(), 16, True, 16),
        scene_mode=SceneMode(HOLD, 1),
        mode_waiting=True,
        output_size=512,
        upscaling="learned x4 (upscaler-x4-2)",
        arousal=arousal,
        valence=valence,
        input_meter_db=level_db if meter_db is None else meter_db,
        input_level_db=level_db,
        level_gain_db=gain_db,
        auto_level=True,
    )


def test_the_widest_values_wrap_inside_the_panel_instead_of_being_cut(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.resize(panel.maximumWidth(), 1400)  # taller than every row needs: none squeezed
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_categories(CATEGORIES)
    panel.show_frame(_packet(0.99, -0.05, level_db=-75.0), CATEGORIES, live_input=True)
    panel.source_label.setText("file: a very long name of a live set recording, part 2.flac")
    panel.provider_label.setText("CPU (CUDA asked for; libcublasLt.so.12 not found)")
    panel.show_remembered_count(MAX_REMEMBERED_TRACKS)  # the widest count
    QApplication.processEvents()
    assert panel.feel_label.text() == "energetic, neutral (arousal +0.99, valence -0.05)"
    assert panel.mode_label.text() == "held mountain (waiting to hear it once)"
    assert panel.level_label.text() == "silent (below -70 dBFS): is the input muted or turned down?"
    assert panel.minimumSizeHint().width() <= panel.maximumWidth()
    assert panel.width() == panel.maximumWidth()
    for label in panel.now_labels():
        _assert_text_fits(label)
        right_edge = label.mapTo(panel, label.contentsRect().topRight()).x()
        assert right_edge < panel.width(), label.text()


def _assert_text_fits(label) -> None:
    """The label's whole text, wrapped as the label wraps it, fits inside it."""
    inside = label.contentsRect()
    flags = Qt.TextFlag.TextWordWrap if label.wordWrap() else Qt.TextFlag.TextSingleLine
    needed = label.fontMetrics().boundingRect(
        QRect(0, 0, inside.width(), 10_000), int(flags.value), label.text()
    )
    assert needed.width() <= inside.width(), label.text()
    assert needed.height() <= inside.height(), label.text()


def test_a_short_window_scrolls_the_panel_instead_of_squeezing_its_rows(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    window.resize(900, 420)
    panel = window.panel
    panel.feel_label.setText("energetic, neutral (arousal +0.99, valence -0.05)")
    QApplication.processEvents()
    assert window.height() == 420
    assert panel.height() >= panel.minimumSizeHint().height()  # every row its full height
    scroll = window.panel_scroll
    assert scroll.verticalScrollBar().maximum() > 0
    for label in panel.now_labels():
        _assert_text_fits(label)
    button = window.stage.picture_button  # the last boxes are reached by scrolling
    scroll.ensureWidgetVisible(button)
    QApplication.processEvents()
    top_left = button.mapTo(scroll.viewport(), button.rect().topLeft())
    assert 0 <= top_left.y() and top_left.y() + button.height() <= scroll.viewport().height()


def test_the_level_row_says_how_loud_the_audio_comes_and_what_auto_level_does():
    assert describe_level(-28.0, -31.4, 14.3, True, True, True) == "-31 dBFS, +14 dB auto level"
    assert describe_level(-8.0, -8.0, -9.3, True, True, True) == "-8 dBFS, -9 dB auto level"
    assert describe_level(-0.2, -0.3, 0.2, True, True, True) == "0 dBFS, +0 dB auto level"
    assert describe_level(-40.0, -31.4, 0.0, False, True, True) == "-31 dBFS (auto level off)"
    assert describe_level(-31.4, -31.4, 0.0, True, True, False) == (
        "-31 dBFS (not levelled: the model names no music level)"
    )
    assert describe_level(-1.0, -4.2, -12.0, True, True, True, clipping=True) == (
        "-4 dBFS, -12 dB auto level; clipping: turn the input down"
    )
    assert describe_level(-1.0, -4.2, 0.0, False, False, True, clipping=True) == "-4 dBFS"
    assert describe_level(-17.2, None, 0.0, False, False, True) == "-17 dBFS"  # a file's own
    assert describe_level(-70.0, -20.0, 0.0, False, False, True) == "silent (below -70 dBFS)"
    assert describe_level(-120.0, None, 0.0, True, True, True) == (
        "silent (below -70 dBFS): is the input muted or turned down?"
    )


def test_the_level_row_is_written_at_most_four_times_a_second(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_categories(CATEGORIES)
    panel.show_frame(_packet(0, 0, -30.0, 13.0, produced_time=10.0), CATEGORIES, True, True)
    assert panel.level_label.text() == "-30 dBFS, +13 dB auto level"
    panel.show_frame(_packet(0, 0, -20.0, 3.0, produced_time=10.2), CATEGORIES, True, True)
    assert panel.level_label.text() == "-30 dBFS, +13 dB auto level"
    panel.show_frame(_packet(0, 0, -20.0, 3.0, produced_time=10.25), CATEGORIES, True, True)
    assert panel.level_label.text() == "-20 dBFS, +3 dB auto level"


def test_the_bands_row_reads_each_band_in_whole_db_or_a_dash_when_silent(qtbot):
    assert describe_bands((-12.4, -20.6, -35.0)) == "low -12 · mid -21 · high -35 dB"
    assert describe_bands((-6.0, -70.0, -120.0)) == "low -6 · mid – · high – dB"
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.set_categories(CATEGORIES)
    packet = dataclasses.replace(_packet(0, 0, produced_time=5.0), band_levels_db=(-9, -30, -41))
    panel.show_frame(packet, CATEGORIES, True, True)
    assert panel.bands_label.text() == "low -9 · mid -30 · high -41 dB"
    assert panel.bands_label in panel.now_labels()


def test_the_tempo_reads_in_whole_bpm_or_says_there_is_no_beat():
    assert describe_tempo(127.6) == "128 BPM"
    assert describe_tempo(60.04) == "60 BPM"
    assert describe_tempo(None) == "no steady beat"
    assert describe_tempo(None, listening=True) == "listening…"
    # a beat grid's tempo, to a tenth and named, also before the music has been heard long
    assert describe_tempo(127.5, listening=True, grid="Ableton Link") == "127.5 BPM (Ableton Link)"
    assert describe_tempo(124.04, grid="MIDI clock") == "124.0 BPM (MIDI clock)"
    assert describe_tempo(None, grid="MIDI clock") == "no steady beat"
