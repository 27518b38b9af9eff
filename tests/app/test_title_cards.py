"""A file's title on the scene as it starts (scene_canvas.py's title card), in the panel,
the window's title, the HTTP state and the show's log: from its tags, else its name; on and
off by the panel's box, T and OSC's /musicscape/titles, remembered."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from visualizer.app.scene_canvas import TITLE_CARD_SECONDS, title_opacity

from .conftest import RATE, beats_signal
from .qimage_pixels import rgb_pixels

FRAME_TIMEOUT_MS = 10_000


def tagged_ogg(path, title: str = "", artist: str = "", album: str = ""):
    with sf.SoundFile(str(path), "w", RATE, 1, format="OGG") as out:
        for key, value in (("title", title), ("artist", artist), ("album", album)):
            if value:
                setattr(out, key, value)
        signal = beats_signal(10.0)
        for start in range(0, len(signal), RATE):
            out.write(signal[start : start + RATE])
    return path


@pytest.mark.parametrize(
    ("elapsed", "opacity"),
    [(-0.1, 0.0), (0.0, 0.0), (0.25, 0.5), (0.5, 1.0), (3.0, 1.0), (5.0, 1.0), (5.5, 0.5),
     (TITLE_CARD_SECONDS, 0.0), (60.0, 0.0)],
)  # fmt: skip
def test_the_card_fades_in_stays_and_fades_out(elapsed, opacity):
    assert title_opacity(elapsed) == pytest.approx(opacity)


def test_a_tagged_file_shows_its_title_and_artist_on_the_scene_and_around_it(
    qtbot, make_window, model_dir, tmp_path
):
    music = tagged_ogg(tmp_path / "track07.ogg", "Sands of Time", "Omri Lahav", "0 A.D.")
    window = make_window(model_dir)
    assert window.play_file(music)
    assert window.canvas.title_showing() == ("Sands of Time", "Omri Lahav · 0 A.D.")
    assert window.panel.source_label.text() == "file: track07.ogg\nSands of Time — Omri Lahav"
    assert window.windowTitle() == "Sands of Time — Omri Lahav — musicscape"
    assert window.stage.state()["track"] == {
        "file": "track07.ogg",
        "title": "Sands of Time",
        "artist": "Omri Lahav",
        "album": "0 A.D.",
        "player": "",
        "scene_remembered": False,
    }
    start = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > start + 40, timeout=FRAME_TIMEOUT_MS)
    # The same frame painted with the card and without: they differ in the scene's lower
    # left only, where the card's white letters are.
    canvas = window.canvas
    with_card = rgb_pixels(canvas.grab().toImage())
    canvas.title_cards = False
    without_card = rgb_pixels(canvas.grab().toImage())
    canvas.title_cards = True
    changed = np.abs(with_card.astype(int) - without_card.astype(int)).max(axis=2) > 0
    ratio = canvas.devicePixelRatioF()  # grabs are in device pixels (2 on a HiDPI screen)
    rect = canvas.target_rect()
    top, left, width, height = (
        v * ratio for v in (rect.top(), rect.left(), rect.width(), rect.height())
    )
    rows, columns = np.nonzero(changed)
    assert changed.sum() > 500
    assert rows.min() > top + height / 2
    assert columns.min() >= left and columns.max() < left + width * 0.9
    assert (with_card[changed] == 255).all(axis=1).sum() > 200  # white letters


def test_an_untagged_file_shows_its_name_and_the_cards_turn_off_and_stay_off(
    qtbot, make_window, model_dir, settings, tmp_path
):
    music = tagged_ogg(tmp_path / "late night set.ogg")
    window = make_window(model_dir)
    assert window.play_file(music)
    assert window.canvas.title_showing() == ("late night set", "")
    assert window.panel.source_label.text() == "file: late night set.ogg"
    assert window.windowTitle() == "late night set.ogg — musicscape"
    assert window.stage.state()["track"]["title"] == ""
    window.stage.perform("titles", (0,))  # OSC /musicscape/titles 0
    assert window.canvas.title_showing() is None
    assert not window.panel.title_cards.isChecked()
    assert settings.title_cards is False and window.stage.state()["titles"] is False
    window.stage.perform("titles")  # no argument: toggles
    assert settings.title_cards is True and window.panel.title_cards.isChecked()
    window.panel.title_cards.setChecked(False)  # the panel's box
    assert settings.title_cards is False
    again = make_window(model_dir)
    assert again.play_file(music)
    assert not again.panel.title_cards.isChecked()
    assert again.canvas.title_showing() is None
