"""The remote's addresses as QR codes (address_code.py): the codes as drawn, read back by
a real QR decoder (zbar's `zbarimg`, which `install.sh --dev` installs), as a phone's
camera reads them; skipped where zbar is absent."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from visualizer.app.address_code import MODULE_PIXELS, QUIET_MODULES, qr_pixels

from .qimage_pixels import rgb_pixels

ZBARIMG = shutil.which("zbarimg")
needs_zbar = pytest.mark.skipif(ZBARIMG is None, reason="zbar-tools is not installed")


def read_code(pixels: np.ndarray, path) -> str:
    """What a QR decoder reads in a grey picture."""
    Image.fromarray(pixels).save(path)
    decoded = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return decoded.stdout.rstrip("\n")


def test_a_code_has_its_quiet_zone_and_square_modules():
    pixels = qr_pixels("http://192.168.1.23:8080/")
    size = (25 + 2 * QUIET_MODULES) * MODULE_PIXELS  # version 2: 25 modules across
    assert pixels.shape == (size, size) and set(np.unique(pixels)) == {0, 255}
    margin = QUIET_MODULES * MODULE_PIXELS
    assert (pixels[:margin] == 255).all() and (pixels[:, -margin:] == 255).all()
    finder = pixels[margin : margin + 7 * MODULE_PIXELS, margin : margin + 7 * MODULE_PIXELS]
    assert (finder[:MODULE_PIXELS] == 0).all()  # the top-left finder's dark top edge
    modules = pixels[::MODULE_PIXELS, ::MODULE_PIXELS]
    assert (modules.repeat(MODULE_PIXELS, 0).repeat(MODULE_PIXELS, 1) == pixels).all()


@needs_zbar
def test_a_decoder_reads_each_code_back(tmp_path):
    for url in ("http://192.168.1.23:8080/", "http://10.0.0.7:45678/screen"):
        assert read_code(qr_pixels(url), tmp_path / "code.png") == url


@needs_zbar
def test_the_stage_box_shows_each_address_of_the_remote_as_a_code(
    qtbot, make_window, model_dir, tmp_path
):
    window = make_window(model_dir)
    stage = window.stage
    assert not stage.address_code_button.isEnabled()  # no remote yet
    assert stage.serve_http(0)
    stage.address_code_button.click()
    dialog = stage.address_code
    assert dialog is not None and dialog.isVisible()
    port = stage.http.port
    urls = [dialog.picker.itemData(index) for index in range(dialog.picker.count())]
    assert len(urls) % 3 == 0 and urls[0].endswith(f":{port}/")
    assert urls[1:3] == [urls[0] + "screen", urls[0] + "musicscape/live.mjpg"]
    for index, url in enumerate(urls[:3]):
        dialog.picker.setCurrentIndex(index)
        shown = rgb_pixels(dialog.code.grab().toImage())  # the label as it is drawn
        code = dialog.code.pixmap()
        assert dialog.code.width() >= code.width() and dialog.code.height() >= code.height()
        assert read_code(shown.min(axis=2), tmp_path / f"shown{index}.png") == url
        assert dialog.url.text() == url
    stage.address_code_button.click()  # again: a new dialog with the addresses now
    assert stage.address_code is not dialog and stage.address_code.isVisible()
    assert not dialog.isVisible()
