"""The control panel's "Now" box: every value is shown whole at the panel's width."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtWidgets import QApplication

from visualizer.app.control_panel import ControlPanel
from visualizer.app.frame_worker import FramePacket
from visualizer.app.scene_director import HOLD, SceneMode
from visualizer.app.spectrogram_image import SpectrogramImage
from visualizer.frontend import FrontEndContract

CATEGORIES = ("desert", "mountain", "sky", "water")


def _packet(arousal: float, valence: float) -> FramePacket:
    return FramePacket(
        sequence=1,
        image=np.zeros((8, 8, 3), np.uint8),
        produced_time=0.0,
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
    )


def test_the_widest_values_wrap_inside_the_panel_instead_of_being_cut(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.resize(panel.maximumWidth(), 900)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_categories(CATEGORIES)
    panel.show_frame(_packet(0.99, -0.05), CATEGORIES)
    panel.source_label.setText("file: a very long name of a live set recording, part 2.flac")
    panel.provider_label.setText("CPU (CUDA asked for; libcublasLt.so.12 not found)")
    QApplication.processEvents()
    assert panel.feel_label.text() == "energetic, neutral (arousal +0.99, valence -0.05)"
    assert panel.mode_label.text() == "held mountain (waiting to hear it once)"
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
