"""The app's icon (drawn in code) and its desktop entry, launched by GLib's own reader."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtGui import QImage

from visualizer.app.app_icon import (
    DUNE,
    ICON_SIZES,
    MOUNTAIN,
    SUN,
    WATER,
    app_icon,
    draw_icon,
    exec_argument,
    install_desktop_entry,
)

from .qimage_pixels import rgba_pixels


def test_the_icon_shows_sun_mountain_dune_and_water_in_a_rounded_square(qapp):
    rgba = rgba_pixels(draw_icon(100))  # drawn on a 100-unit grid: one pixel a unit
    assert rgba[0, 0, 3] == 0  # a rounded corner: transparent
    assert tuple(rgba[40, 66]) == (*SUN.getRgb()[:3], 255)  # the sun's centre
    assert tuple(rgba[55, 30]) == (*MOUNTAIN.getRgb()[:3], 255)
    assert tuple(rgba[60, 85]) == (*DUNE.getRgb()[:3], 255)
    assert tuple(rgba[90, 20]) == (*WATER.getRgb()[:3], 255)
    assert tuple(rgba[69, 66]) == (*SUN.getRgb()[:3], 255)  # its reflection on the water
    top, horizon = rgba[5, 50, :3].astype(int), rgba[58, 90, :3].astype(int)
    assert top[2] > top[0] and horizon[0] > horizon[2]  # blue above, dusk at the horizon


def test_the_window_icon_has_every_size_a_desktop_asks_for(qapp):
    sizes = sorted(size.width() for size in app_icon().availableSizes())
    assert sizes == sorted(ICON_SIZES)


def test_exec_arguments_are_quoted_as_the_desktop_entry_specification_says():
    assert exec_argument("/usr/bin/musicscape") == "/usr/bin/musicscape"
    assert exec_argument("/home/a b/$x/50%/musicscape") == '"/home/a b/\\\\$x/50%%/musicscape"'


@pytest.mark.skipif(shutil.which("gio") is None, reason="gio (libglib2.0-bin) is not installed")
def test_glib_starts_the_command_the_desktop_entry_names(qapp, tmp_path):
    """A launcher under a folder with a space and `$` in its name: GLib's desktop entry
    reader (what GNOME, XFCE and others start applications with) runs exactly it. (A `%`,
    written `%%` as the specification says, GLib looks for unexpanded and refuses.)"""
    folder = tmp_path / "my apps" / "$HOME"
    folder.mkdir(parents=True)
    marker = tmp_path / "started"
    launcher = folder / "musicscape"
    launcher.write_text(f"#!/bin/sh\ntouch '{marker}'\n")
    launcher.chmod(0o755)
    entry = install_desktop_entry(str(launcher), tmp_path / "data")
    assert entry == tmp_path / "data" / "applications" / "musicscape.desktop"
    subprocess.run(["gio", "launch", str(entry)], check=True, timeout=30)
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists()


def test_the_command_puts_musicscape_in_the_menu_with_its_icon(qapp, tmp_path, monkeypatch, capsys):
    from visualizer.cli import main

    launcher = Path(sys.executable).parent / "musicscape"  # the installed command
    monkeypatch.setattr(sys, "argv", [str(launcher), "--desktop-entry"])
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--desktop-entry"]) == 0
    entry = tmp_path / "applications" / "musicscape.desktop"
    assert capsys.readouterr().out.strip() == f"musicscape is in the application menu: {entry}"
    icon = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "musicscape.png"
    lines = entry.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    assert f"Exec={launcher}" in lines and f"Icon={icon}" in lines
    assert np.array_equal(rgba_pixels(QImage(str(icon))), rgba_pixels(draw_icon(256)))


def test_a_menu_folder_that_cannot_be_written_is_named(tmp_path, monkeypatch, capsys):
    from visualizer.cli import main

    blocked = tmp_path / "data"
    blocked.write_text("a file where the folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocked))
    monkeypatch.setattr(sys, "argv", [str(Path(sys.executable).parent / "musicscape")])
    assert main(["--desktop-entry"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("musicscape: --desktop-entry: ")
    assert str(blocked) in error
