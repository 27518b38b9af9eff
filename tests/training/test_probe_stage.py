"""`musicscape train --stages probe`: the category probe on the run's training tracks."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tests.training.synthetic import RATE, click_track, make_dataset, write_config
from training.checkpoint import LATEST, load_checkpoint
from training.cli import main
from training.config import PROBE_WEIGHT_DECAYS, ProbeStageConfig, tiny_config
from training.models.category_probe import CategoryProbe
from visualizer.frontend import FrontEndContract, analyse_window

# category: clicks every this many seconds (the probe hears tempo, not pitch)
CLICK_PERIODS = (0.25, 0.7)


def click_dataset(root: Path) -> Path:
    """The synthetic photos, and per category four click tracks at its period (+-3%)."""
    make_dataset(root, n_categories=2, tracks=4)
    for category, period in enumerate(CLICK_PERIODS):
        for track in range(4):
            path = root / "music" / f"cat{category}" / f"track{track}.wav"
            sf.write(path, click_track(period * (0.97 + 0.02 * track)), RATE)
    return root


def test_the_probe_learns_tempo_from_the_training_tracks_alone(tmp_path):
    data = click_dataset(tmp_path / "data")
    arguments = [
        "--data", str(data), "--out", str(tmp_path / "run"), "--config",
        str(write_config(tmp_path / "c.json", tiny_config(16))), "--cache-dir",
        str(tmp_path / "cache"), "--no-progress", "--stages", "probe",
    ]  # fmt: skip
    assert main(arguments) == 0
    saved = load_checkpoint(tmp_path / "run" / "probe" / LATEST, "probe")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    # trained on the run's training tracks (3 of 4 per category), never its held-out ones
    assert saved["train_tracks"] == run["data"]["train_tracks"]
    assert len(saved["train_tracks"]) == 6
    assert saved["categories"] == ["cat0", "cat1"]
    assert saved["weight_decay"] in PROBE_WEIGHT_DECAYS
    assert set(saved["cv_accuracy"]) == {str(w) for w in PROBE_WEIGHT_DECAYS}
    assert saved["training_accuracy"] == 1.0
    # rebuilt from the checkpoint alone, it names the tempo of held-out click tracks
    contract = FrontEndContract.from_dict(saved["contract"])
    probe = CategoryProbe(contract, 2)
    probe.load_state_dict(saved["probe"])
    unheard = np.stack(
        [analyse_window(click_track(p * 1.04), contract) for p in CLICK_PERIODS]
    )  # fmt: skip
    with torch.no_grad():
        log_p = probe.eval()(torch.from_numpy(unheard)).numpy()
    assert log_p.argmax(1).tolist() == [0, 1]


def test_a_probe_fitted_on_every_labelled_track_hears_the_validation_tracks_too(tmp_path):
    data = click_dataset(tmp_path / "data")
    config = tiny_config(16)
    config = dataclasses.replace(config, probe=dataclasses.replace(config.probe, tracks="labelled"))
    arguments = [
        "--data", str(data), "--out", str(tmp_path / "run"), "--config",
        str(write_config(tmp_path / "c.json", config)), "--cache-dir",
        str(tmp_path / "cache"), "--no-progress", "--stages", "probe",
    ]  # fmt: skip
    assert main(arguments) == 0
    saved = load_checkpoint(tmp_path / "run" / "probe" / LATEST, "probe")
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert sorted(saved["train_tracks"]) == sorted(
        run["data"]["train_tracks"] + run["data"]["validation_tracks"]
    )
    assert len(saved["train_tracks"]) == 8
    assert saved["training_accuracy"] == 1.0


def test_the_probe_tracks_setting_is_checked():
    with pytest.raises(ValueError, match="probe.tracks must be one of training, labelled"):
        ProbeStageConfig(tracks="everything")
