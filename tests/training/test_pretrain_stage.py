"""Self-supervised pretraining: views, augmentations with known answers, loss, the stage, and
the embedding stage starting from its encoder."""

import json
import logging

import numpy as np
import pytest
import torch

from tests.training.synthetic import make_dataset, write_config
from training.checkpoint import LATEST, load_checkpoint
from training.cli import EXIT_FAILED, main
from training.config import (
    MUSIC_ENCODER_PARTS,
    EmbedStageConfig,
    PretrainStageConfig,
    TrainConfig,
    tiny_config,
)
from training.models import MusicEncoder
from training.pretrain_stage import nt_xent, reverberate, time_stretch


def test_time_stretch_reads_columns_at_the_rate():
    window = np.tile(np.arange(10, dtype=np.float32), (2, 3, 1))  # value = column index
    assert time_stretch(window, 1.5, 4)[0, 0].tolist() == [0.0, 1.5, 3.0, 4.5]
    assert time_stretch(window, 1.0, 10)[1, 2].tolist() == list(range(10))


def test_reverb_holds_a_click_and_lets_it_decay():
    power = np.full((1, 6), -1.0, dtype=np.float32)
    power[0, 1] = 0.5
    assert reverberate(power, 0.25)[0].tolist() == [-1.0, 0.5, 0.25, 0.0, -0.25, -0.5]


def test_nt_xent_by_hand():
    projections = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    loss, top1 = nt_xent(projections, temperature=1.0)
    # each row: partner cosine 1, the other two cosine 0
    expected = -np.log(np.e / (np.e + 2.0))
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert top1 == 1.0


def test_config_rejects_a_batch_of_one_track():
    with pytest.raises(ValueError, match="batch_tracks must be >= 2"):
        PretrainStageConfig(batch_tracks=1)


def test_the_frozen_parts_are_the_music_encoders_parts_with_weights():
    encoder = MusicEncoder(tiny_config(16).embed.music)
    with_weights = [name for name, part in encoder.named_children() if list(part.parameters())]
    assert tuple(with_weights) == MUSIC_ENCODER_PARTS


def test_embed_config_rejects_unknown_or_all_frozen_parts():
    with pytest.raises(ValueError, match=r"unknown parts \['cnn'\]"):
        EmbedStageConfig(frozen_music=("power", "cnn"))
    with pytest.raises(ValueError, match="no music weight would train"):
        EmbedStageConfig(frozen_music=MUSIC_ENCODER_PARTS)


def _pretrain_values() -> dict:
    values = tiny_config(16).to_dict()
    values["pretrain"] = {
        "crop_frames": 32, "batch_tracks": 3, "head_hidden": 8, "head_dim": 4,
        "steps_per_epoch": 2, "epochs": 1,
    }  # fmt: skip
    return values


@pytest.mark.slow
def test_embedding_starts_from_the_pretrained_encoder_with_its_cnns_frozen(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=2, seconds=2.0)
    common = ["--data", str(data), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    values = _pretrain_values()
    config = write_config(tmp_path / "pretrain.json", TrainConfig.from_dict(values))
    pretrain_run = tmp_path / "pretrain_run"
    assert main([*common, "--out", str(pretrain_run), "--config", str(config),
                 "--stages", "pretrain"]) == 0  # fmt: skip
    pretrained = load_checkpoint(pretrain_run / "pretrain" / LATEST, "pretrain")["music_encoder"]

    values["embed"]["music_init"] = str(pretrain_run / "pretrain" / LATEST)
    values["embed"]["frozen_music"] = ["power", "phase"]
    config = write_config(tmp_path / "embed.json", TrainConfig.from_dict(values))
    embed_run = tmp_path / "embed_run"
    assert main([*common, "--out", str(embed_run), "--config", str(config),
                 "--stages", "embed"]) == 0  # fmt: skip
    saved = load_checkpoint(embed_run / "embed" / LATEST, "embed")
    weights = saved["model"]
    music = {k.removeprefix("music."): v for k, v in weights.items() if k.startswith("music.")}
    assert music.keys() == pretrained.keys()
    for name, start in pretrained.items():
        part = name.split(".")[0]
        if part in ("power", "phase"):  # weights and BatchNorm statistics as pretrained
            assert torch.equal(music[name], start), name
    for name in ("lstm.weight_ih_l0", "head.weight", "fuse.0.weight"):
        assert not torch.equal(music[name], pretrained[name]), name
    assert tuple(saved["config"]["embed"]["frozen_music"]) == ("power", "phase")

    values["embed"]["music"]["lstm_hidden"] = 8  # not the pretrained encoder's 16
    config = write_config(tmp_path / "other.json", TrainConfig.from_dict(values))
    code = main([*common, "--out", str(tmp_path / "other_run"), "--config", str(config),
                 "--stages", "embed"])  # fmt: skip
    assert code == EXIT_FAILED
    error = capsys.readouterr().err
    assert f"{pretrain_run / 'pretrain' / LATEST}: pretrained a music encoder with" in error
    assert "lstm_hidden=16" in error and "lstm_hidden=8" in error


@pytest.mark.slow
def test_pretrain_stage_reads_labelled_and_unlabelled_music(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=2, seconds=2.0)
    unlabelled = make_dataset(tmp_path / "more", n_categories=1, tracks=3, seconds=2.0)
    (unlabelled / "music").rename(data / "unlabelled")
    values = _pretrain_values()
    values["pretrain"]["music_dirs"] = ["unlabelled"]
    config = write_config(tmp_path / "config.json", TrainConfig.from_dict(values))
    common = ["--data", str(data), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    run = tmp_path / "run"
    assert main([*common, "--out", str(run), "--config", str(config), "--stages", "pretrain"]) == 0
    saved = load_checkpoint(run / "pretrain" / LATEST, "pretrain")
    assert saved["epoch"] == 1
    assert len(saved["history"]) == 1 and np.isfinite(saved["history"][0]["loss"])
    assert "music_encoder" in saved and "head" in saved
    assert "pretrain: 7 tracks (0 skipped)" in caplog.text  # 4 labelled + 3 unlabelled
    recorded = json.loads((run / "run.json").read_text())
    assert recorded["config"]["pretrain"]["music_dirs"] == ["unlabelled"]
