"""`musicscape export --music-level-only`: the training music's level added to an encoder
file exported before files carried it, measured on the tracks its metadata lists."""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import onnx
import pytest
import soundfile as sf

from export import cli as export_cli
from tests.app.onnx_models import build_encoder, small_metadata
from visualizer.model_files import ENCODER_FILE, ModelMetadata

RATE = 22_050
HOP = 512
TRACK_LEVELS_DB = {"music/a/one.wav": -20.0, "music/a/two.wav": -31.0, "music/b/three.wav": -25.5}


def export(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    return export_cli.run(parser.parse_args(list(argv)))


def write_sine(path, level_db: float, seconds: float = 6.0) -> None:
    """A sine of whole periods in every hop, so its level is exactly `level_db`."""
    t = np.arange(round(seconds * RATE / HOP) * HOP) / RATE
    amplitude = 10 ** (level_db / 20)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, amplitude * np.sin(2 * np.pi * RATE * 8 / HOP * t), RATE, "FLOAT")


@pytest.fixture
def encoder_and_data(tmp_path):
    data = tmp_path / "data"
    for track, level in TRACK_LEVELS_DB.items():
        write_sine(data / track, level)
    training_data = {"train_tracks": list(TRACK_LEVELS_DB), "data_root": str(data)}
    metadata = dataclasses.replace(
        small_metadata(), training_data=training_data, music_level_db=None
    )
    (tmp_path / "old").mkdir()
    return build_encoder(tmp_path / "old" / ENCODER_FILE, metadata), data


def props_of(path) -> dict[str, str]:
    return {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}


def test_the_level_is_the_median_training_track_and_the_weights_are_unchanged(
    encoder_and_data, tmp_path, capsys
):
    encoder, _ = encoder_and_data
    out = tmp_path / "new"
    assert export("--music-level-only", "--encoder", str(encoder), "--out", str(out)) == 0
    assert capsys.readouterr().out == (
        "music_encoder.onnx: the training music's level, -25.5 dB, in its metadata\n"
    )
    props = props_of(out / ENCODER_FILE)
    assert json.loads(props["musicscape.music_level_db"]) == -25.5
    assert ModelMetadata.from_props(props, "new").music_level_db == -25.5
    before, after = onnx.load(str(encoder)), onnx.load(str(out / ENCODER_FILE))
    assert before.graph == after.graph
    old_props = props_of(encoder)
    changed = {key for key in props if old_props.get(key) != props[key]}
    assert changed == {"musicscape.music_level_db"}


def test_tracks_that_are_not_there_are_named_and_data_finds_them(
    encoder_and_data, tmp_path, capsys
):
    encoder, data = encoder_and_data
    moved = tmp_path / "moved"
    data.rename(moved)
    assert export("--music-level-only", "--encoder", str(encoder), "--out", str(tmp_path)) == 1
    assert capsys.readouterr().err == (
        f"musicscape export: 3 of the encoder's 3 training tracks are not under {data} "
        f"(first: {data / 'music/a/one.wav'}); pass the data root with --data\n"
    )
    assert export("--music-level-only", "--encoder", str(encoder), "--out", str(tmp_path),
                  "--data", str(moved)) == 0  # fmt: skip


def test_an_encoder_that_lists_no_training_tracks_or_none_at_all_is_refused(tmp_path, capsys):
    (tmp_path / "bare").mkdir()
    bare = build_encoder(tmp_path / "bare" / ENCODER_FILE, small_metadata())
    assert export("--music-level-only", "--encoder", str(bare), "--out", str(tmp_path)) == 1
    assert capsys.readouterr().err == (
        f"musicscape export: {bare}: its metadata lists no training tracks "
        "(musicscape.training_data.train_tracks) to measure the level of\n"
    )
    assert export("--music-level-only", "--out", str(tmp_path)) == 1
    assert "--music-level-only needs --encoder" in capsys.readouterr().err
    assert export("--out", str(tmp_path)) == 1
    assert capsys.readouterr().err == (
        "musicscape export: --run RUN_DIR is needed (all but --music-level-only)\n"
    )
