"""`musicscape train` on data with damaged files: each is skipped with one line naming it
and counted once in run.json and the log, however many stages read it; training goes on."""

import json

from tests.bad_files import write_flac_with_a_damaged_comment_block, write_png_claiming
from tests.training.synthetic import make_dataset, write_config
from training.cli import main
from training.config import tiny_config
from training.data import split_data


def test_damaged_tracks_and_photos_are_skipped_named_and_counted_once(tmp_path):
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=3, images=5)
    bad = []
    for category in ("cat0", "cat1"):
        music, scenes = data / "music" / category, data / "scenes" / category
        (music / "junk.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
        bad.append(music / "junk.wav")
        bad.append(write_flac_with_a_damaged_comment_block(music / "flipped.flac"))
        for number in range(3):
            bad.append(write_png_claiming(scenes / f"huge{number}.png", 20_000, 20_000))
    split = split_data(data, tiny_config(16).data)
    read = {path for path, _ in split.train_tracks + split.validation_tracks + split.train_images}
    expected = sorted(str(path) for path in bad if path in read)
    assert len(expected) >= 6  # every track and at least the photos kept for training
    run = tmp_path / "run"
    arguments = ["--data", str(data), "--out", str(run), "--no-progress", "--stages", "embed,gan"]
    config = str(write_config(tmp_path / "config.json"))
    assert main([*arguments, "--config", config, "--cache-dir", str(tmp_path / "cache")]) == 0
    info = json.loads((run / "run.json").read_text())
    assert sorted(path for path, _ in info["skipped"]) == expected
    assert info["data"]["skipped_files"] == len(expected)
    reasons = dict(info["skipped"])
    for path in expected:
        if path.endswith(".png"):
            assert reasons[path].startswith(f"{path}: refused, too large to decode safely")
        elif path.endswith(".flac"):
            assert reasons[path].startswith(f"{path}: decoding failed near 0.0 s")
    log = (run / "train.log").read_text().splitlines()
    for path in expected:
        assert len([line for line in log if "skipping" in line and path in line]) == 1, path
