"""`musicscape eval --input-levels` on the tiny models (tiny_models.py): every track there is
a tone of amplitude 0.5 (-6.02 dBFS), so the automatic gain each track ends on is known."""

from __future__ import annotations

import argparse
import json

import pytest

from tests.eval import tiny_models
from visualizer.eval import cli as evaluate_cli

MUSIC_LEVEL_DB = -10.0
TONE_LEVEL_DB = -6.0206  # 20 log10(0.5)


def evaluate(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    return evaluate_cli.run(parser.parse_args(list(argv)))


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("levels")
    return {
        "models": tiny_models.build_model_dir(root / "models", music_level_db=MUSIC_LEVEL_DB),
        "plain": tiny_models.build_model_dir(root / "plain"),
        "music": tiny_models.build_music_dir(root / "music"),
        "root": root,
    }


def test_the_gain_each_track_ends_on_brings_it_to_the_music_level(dirs, capsys):
    out = dirs["root"] / "levels.json"
    assert evaluate("--models", str(dirs["models"]), "--music", str(dirs["music"]),
                    "--input-levels", "-30", "0", "6", "--threads", "1",
                    "--json", str(out)) == 0  # fmt: skip
    figures = json.loads(out.read_text())["input_levels"]
    # d1 (5 s: 2 windows), s1 (1 s: 1 padded window), w1 (6 s: 3 windows); broken.wav skipped
    assert (figures["tracks"], figures["windows"]) == (3, 6)
    assert figures["gains_db"] == [-30.0, 0.0, 6.0]
    assert figures["music_level_db"] == MUSIC_LEVEL_DB
    expected = [MUSIC_LEVEL_DB - (TONE_LEVEL_DB + gain) for gain in (-30.0, 0.0, 6.0)]
    assert figures["mean_end_gain_db"] == pytest.approx(expected, abs=0.1)
    # The tiny encoder hears which tone is loudest, whatever the level above the floor.
    assert figures["without_auto_level"]["same_scene"] == [1.0, 1.0, 1.0]
    assert figures["with_auto_level"]["same_scene"] == [1.0, 1.0, 1.0]
    printed = capsys.readouterr().out
    assert printed.startswith(
        "input level -30 / +0 / +6 dB (6 windows of 3 tracks; the encoder's music level -10 dB)\n"
        "  same scene as at the file's level, without auto level: 1.000 / 1.000 / 1.000\n"
        "  same scene as at the file's level, with auto level:    1.000 / 1.000 / 1.000\n"
    )


def test_a_model_without_a_music_level_or_a_gain_out_of_range_is_refused(dirs, capsys):
    music = str(dirs["music"])
    assert evaluate("--models", str(dirs["plain"]), "--music", music,
                    "--input-levels", "-30") == 1  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        "musicscape eval: music_encoder.onnx: its metadata names no music level "
        "(music_level_db), so there is no automatic gain to measure; add it with "
        "`musicscape export --music-level-only`"
    )
    assert evaluate("--models", str(dirs["models"]), "--music", music,
                    "--input-levels", "-30", "200") == 1  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        "musicscape eval: --input-levels must be gains of -100 to 40 dB, got [200.0]"
    )
