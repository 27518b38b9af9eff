"""End-to-end `musicscape train` on tiny synthetic data: every stage, resume, Ctrl-C, DDP."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.training.synthetic import make_dataset, write_config
from training.checkpoint import LATEST, load_checkpoint
from training.cli import main
from training.config import TrainConfig, tiny_config
from training.gan_stage import sample_figures

REPO = Path(__file__).resolve().parents[2]
TINY_JUDGE = {
    "image_size": 16,
    "store_size": 20,
    "widths": [4, 8],
    "epochs": 1,
    "batch": 4,
}


def train(tmp_path: Path, data: Path, run: str, *extra: str, config=None) -> int:
    config_path = write_config(tmp_path / f"{run}.json", config)
    return main(
        [
            "--data", str(data), "--out", str(tmp_path / run), "--config", str(config_path),
            "--cache-dir", str(tmp_path / "cache"), "--no-progress", *extra,
        ]
    )  # fmt: skip


def weights(path: Path, stage: str, key: str) -> dict:
    return load_checkpoint(path / stage / LATEST, stage)[key]


def assert_same_weights(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=0, atol=0, msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("n_categories", [2, 3])
def test_all_stages_end_to_end(tmp_path, n_categories):
    data = make_dataset(tmp_path / "data", n_categories=n_categories)
    # with 3 categories, the judge is an ensemble of two (a list of configs)
    half_size = {**TINY_JUDGE, "image_size": 8, "store_size": 10}
    judge_config = TINY_JUDGE if n_categories == 2 else [TINY_JUDGE, half_size]
    (tmp_path / "judge.json").write_text(json.dumps(judge_config))
    code = train(
        tmp_path, data, "run", "--stages", "embed,gan,judge",
        "--judge-config", str(tmp_path / "judge.json"),
    )  # fmt: skip
    assert code == 0
    run = tmp_path / "run"
    for stage in ("embed", "gan"):
        saved = load_checkpoint(run / stage / LATEST, stage)
        assert saved["epoch"] == 2 and saved["step"] == 0
        assert saved["categories"] == [f"cat{i}" for i in range(n_categories)]
        assert len(saved["history"]) == 2
        assert (run / stage / "epoch_001.pt").is_file()
        assert TrainConfig.from_dict(json.loads((run / stage / "config.json").read_text())) == (
            TrainConfig.from_dict(saved["config"])
        )
        assert list((run / stage / "tensorboard").iterdir())
    embed_history = load_checkpoint(run / "embed" / LATEST, "embed")["history"]
    assert "validation_window_accuracy" in embed_history[-1]
    from PIL import Image

    grid = Image.open(run / "gan" / "samples_epoch_002.png")
    assert grid.size == (8 * 16, n_categories * 16)
    # the epoch's picture figures are those of the grid's pictures as written
    tiles = np.asarray(grid).reshape(n_categories, 16, 8, 16, 3).transpose(0, 2, 1, 3, 4)
    figures = sample_figures(tiles.reshape(-1, 16, 16, 3))
    gan_history = load_checkpoint(run / "gan" / LATEST, "gan")["history"]
    assert {name: gan_history[-1][name] for name in figures} == figures
    from training.judge.checkpoint import load_judge
    from training.judge.models import JudgeEnsemble

    judge, _ = load_judge(run / "judge" / "judge.pt")
    assert isinstance(judge, JudgeEnsemble) == (n_categories == 3)
    assert (run / "judge" / "member_1" / "judge.pt").is_file() == (n_categories == 3)
    first_judge = (run / "judge" / ("member_0" if n_categories == 3 else "")) / "latest.pt"
    assert load_checkpoint(first_judge, "judge")["epoch"] == TINY_JUDGE["epochs"]
    assert json.loads((run / "judge" / "judge_config.json").read_text()) == judge_config
    # --resume without --judge-config finds the recorded configs; every epoch is done, so
    # the judge comes out the same.
    before = judge.state_dict()
    assert main(["--resume", str(run), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--stages", "judge"]) == 0  # fmt: skip
    assert_same_weights(before, load_judge(run / "judge" / "judge.pt")[0].state_dict())
    info = json.loads((run / "run.json").read_text())
    assert info["data"]["categories"] == [f"cat{i}" for i in range(n_categories)]
    assert len(info["data"]["train_tracks"]) + len(info["data"]["validation_tracks"]) == (
        3 * n_categories
    )


def test_gan_stage_alone_needs_an_embedding(tmp_path, dataset, capsys):
    assert train(tmp_path, dataset, "run", "--stages", "gan") == 1
    assert "needs a trained embedding" in capsys.readouterr().err


def test_threads_option_sets_torch_threads_and_refuses_zero(tmp_path, dataset, capsys):
    assert train(tmp_path, dataset, "run", "--stages", "gan", "--threads", "2") == 1
    assert torch.get_num_threads() == 2
    assert train(tmp_path, dataset, "run0", "--threads", "0") == 2
    assert "--threads must be >= 1, got 0" in capsys.readouterr().err


def test_resumed_run_equals_uninterrupted_run(tmp_path, dataset):
    assert train(tmp_path, dataset, "straight") == 0
    assert train(tmp_path, dataset, "stopped", "--epochs-embed", "1", "--stages", "embed") == 0
    assert main(["--resume", str(tmp_path / "stopped"), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--epochs-embed", "2", "--stages", "embed,gan"]) == 0  # fmt: skip
    for stage, key in (("embed", "model"), ("gan", "generator"), ("gan", "discriminator")):
        assert_same_weights(
            weights(tmp_path / "straight", stage, key), weights(tmp_path / "stopped", stage, key)
        )
    info = json.loads((tmp_path / "stopped" / "run.json").read_text())
    assert info["stages"] == ["embed", "gan"]


def test_resume_without_stages_continues_the_stages_the_run_was_started_with(tmp_path, dataset):
    assert train(tmp_path, dataset, "run", "--epochs-embed", "1", "--stages", "embed") == 0
    assert json.loads((tmp_path / "run" / "run.json").read_text())["stages"] == ["embed"]
    assert main(["--resume", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--epochs-embed", "2"]) == 0  # fmt: skip
    assert load_checkpoint(tmp_path / "run" / "embed" / LATEST, "embed")["epoch"] == 2
    assert not (tmp_path / "run" / "gan").exists()  # the default stages would train a GAN
    assert json.loads((tmp_path / "run" / "run.json").read_text())["stages"] == ["embed"]


def test_embed_stage_with_consistency_pairs_logs_their_loss_and_stability(tmp_path, dataset):
    base = tiny_config(16)
    config = dataclasses.replace(
        base, embed=dataclasses.replace(base.embed, consistency_weight=0.5, per_class=2)
    )
    assert train(tmp_path, dataset, "paired", "--stages", "embed", config=config) == 0
    history = load_checkpoint(tmp_path / "paired" / "embed" / LATEST, "embed")["history"]
    assert len(history) == 2
    for epoch in history:
        assert 0.0 <= epoch["loss_consistency"] <= 2.0
        # every synthetic track is shorter than a window: one window each, no pair to compare
        assert np.isnan(epoch["train_stability"])


@pytest.mark.slow
def test_gan_resumed_from_an_epoch_checkpoint_reproduces_its_average_decay_and_regularisers(
    tmp_path, dataset
):
    base = tiny_config(16)
    gan = dataclasses.replace(
        base.gan,
        ema_decay=0.9,
        lr_decay_epochs=1,
        learning_rate=1e-3,
        condition_noise=0.5,
        diff_augment=("color", "translation", "cutout"),
        spectrum_weight=1.0,
        fixed_pattern_weight=1.0,
        streak_weight=1.0,
        r1_weight=1.0,
        r1_every=2,
        lecam_weight=0.3,
        lecam_decay=0.5,
        discriminator=dataclasses.replace(base.gan.discriminator, normalization="spectral"),
        discriminator_lr_scale=2.0,
    )
    config = dataclasses.replace(base, gan=gan)
    assert train(tmp_path, dataset, "straight", "--stages", "embed,gan", config=config) == 0
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    shutil.copy(
        tmp_path / "resumed" / "gan" / "epoch_001.pt", tmp_path / "resumed" / "gan" / LATEST
    )
    assert main(["--resume", str(tmp_path / "resumed"), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--stages", "gan"]) == 0  # fmt: skip
    straight = load_checkpoint(tmp_path / "straight" / "gan" / LATEST, "gan")
    resumed = load_checkpoint(tmp_path / "resumed" / "gan" / LATEST, "gan")
    for key in ("generator", "discriminator"):
        assert_same_weights(straight[key], resumed[key])
    assert_same_weights(
        straight["generator_average"]["model"], resumed["generator_average"]["model"]
    )
    assert resumed["generator_average"]["updates"] == 2 * gan.steps_per_epoch
    # epoch 1 at the full rate; epoch 2 (the decay epoch, 3 steps) at 3/4, 2/4 and 1/4 of it
    rates = [epoch["learning_rate"] for epoch in resumed["history"]]
    assert rates == pytest.approx([1e-3, 0.5e-3])
    # D steps at twice G's rate through the same schedule: the last step's rates
    last_g = resumed["optimizer_g"]["param_groups"][0]["lr"]
    assert last_g == pytest.approx(0.25e-3)
    assert resumed["optimizer_d"]["param_groups"][0]["lr"] == pytest.approx(2 * last_g)
    assert all(epoch["g_spectrum"] > 0 for epoch in resumed["history"])
    assert all(epoch["g_fixed_pattern"] > 0 for epoch in resumed["history"])
    assert [epoch["g_streaks"] for epoch in resumed["history"]] == [
        epoch["g_streaks"] for epoch in straight["history"]
    ]
    assert all(epoch["d_r1"] > 0 for epoch in resumed["history"])
    assert all(epoch["d_lecam"] > 0 for epoch in resumed["history"])
    assert torch.equal(straight["lecam_anchors"], resumed["lecam_anchors"])
    assert resumed["lecam_anchors"].abs().min() > 0


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_resume_finishes_identically(tmp_path, dataset):
    base = tiny_config(16)
    config = dataclasses.replace(base, embed=dataclasses.replace(base.embed, steps_per_epoch=25))
    assert train(tmp_path, dataset, "straight", "--stages", "embed", config=config) == 0
    config_path = write_config(tmp_path / "c.json", config)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    # the real SIGINT handler, signalled at the 30th stop check: the stage saves after 30
    # steps, 25 of epoch 1 and 5 of epoch 2
    command = [
        sys.executable, "-m", "tests.training.sigint_at_step", "30", "--data", str(dataset),
        "--out", str(tmp_path / "stopped"), "--config", str(config_path), "--cache-dir",
        str(tmp_path / "cache"), "--no-progress", "--stages", "embed",
    ]  # fmt: skip
    stopped = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )
    assert stopped.returncode == 130, stopped.stderr
    errors = stopped.stderr
    saved = load_checkpoint(tmp_path / "stopped" / "embed" / LATEST, "embed")
    assert (saved["epoch"], saved["step"]) == (1, 5), errors
    assert "interrupted at epoch 2" in errors
    resumed = subprocess.run(
        [sys.executable, "-m", "training.cli", "--resume", str(tmp_path / "stopped"),
         "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--stages", "embed"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(
        weights(tmp_path / "straight", "embed", "model"),
        weights(tmp_path / "stopped", "embed", "model"),
    )


@pytest.mark.slow
def test_two_gloo_processes_with_torchrun(tmp_path):
    data = make_dataset(tmp_path / "data", n_categories=2)
    config_path = write_config(tmp_path / "c.json")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "training.cli", "--data", str(data), "--out", str(tmp_path / "run"),
         "--config", str(config_path), "--cache-dir", str(tmp_path / "cache"), "--no-progress"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in ("embed", "gan"):
        saved = load_checkpoint(tmp_path / "run" / stage / LATEST, stage)
        assert saved["epoch"] == 2
        assert len(saved["rng"]) == 2  # one sampling state per rank
        assert saved["rng"][0]["numpy"] != saved["rng"][1]["numpy"]


@pytest.mark.slow
def test_generator_draws_the_colour_of_the_category_its_music_belongs_to(tmp_path):
    """Colour-coded toy (tones per category, one colour per category's photos): each row of
    the last sample grid, drawn from one category's music, must have that category's colour."""
    data = make_dataset(tmp_path / "data", n_categories=3)
    base = tiny_config(16)
    gan = base.gan
    config = dataclasses.replace(
        base,
        embed=dataclasses.replace(base.embed, steps_per_epoch=60),
        gan=dataclasses.replace(
            gan,
            generator=dataclasses.replace(gan.generator, base_channels=8),
            discriminator=dataclasses.replace(gan.discriminator, base_channels=8),
            batch_size=12,
            steps_per_epoch=1000,
            epochs=1,
            learning_rate=1e-3,
        ),
    )
    assert train(tmp_path, data, "run", config=config) == 0
    from PIL import Image

    from tests.training.synthetic import COLOURS

    grid = np.asarray(Image.open(tmp_path / "run" / "gan" / "samples_epoch_001.png"), float)
    row_colours = grid.reshape(3, 16, -1, 3).mean(axis=(1, 2))  # [category, rgb]
    distances = np.linalg.norm(row_colours[:, None] - np.asarray(COLOURS[:3])[None], axis=2)
    assert distances.argmin(axis=1).tolist() == [0, 1, 2], row_colours.round()
    assert distances.diagonal().max() < 40.0, row_colours.round()


@pytest.mark.slow
def test_constant_rate_gan_resumed_with_a_decay_trains_on_as_if_decayed_from_the_start(
    tmp_path, dataset
):
    base = tiny_config(16)
    decayed = dataclasses.replace(
        base, gan=dataclasses.replace(base.gan, epochs=2, lr_decay_epochs=1, learning_rate=1e-3)
    )
    constant = dataclasses.replace(
        decayed, gan=dataclasses.replace(decayed.gan, epochs=1, lr_decay_epochs=0)
    )
    assert train(tmp_path, dataset, "straight", "--stages", "embed,gan", config=decayed) == 0
    assert train(tmp_path, dataset, "resumed", "--stages", "embed,gan", config=constant) == 0
    assert main(["--resume", str(tmp_path / "resumed"), "--cache-dir", str(tmp_path / "cache"),
                 "--no-progress", "--stages", "gan", "--epochs-gan", "2",
                 "--lr-decay-epochs-gan", "1"]) == 0  # fmt: skip
    straight = load_checkpoint(tmp_path / "straight" / "gan" / LATEST, "gan")
    resumed = load_checkpoint(tmp_path / "resumed" / "gan" / LATEST, "gan")
    assert [epoch["learning_rate"] for epoch in resumed["history"]] == pytest.approx([1e-3, 0.5e-3])
    assert_same_weights(straight["generator"], resumed["generator"])
    recorded = json.loads((tmp_path / "resumed" / "run.json").read_text())["config"]["gan"]
    assert (recorded["epochs"], recorded["lr_decay_epochs"]) == (2, 1)


def test_epochs_below_one_and_bad_configs_are_refused_in_one_line(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", n_categories=2)
    common = ["--data", str(data), "--out", str(tmp_path / "run"), "--no-progress"]
    assert main([*common, "--epochs-gan", "0"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "musicscape train: --epochs-gan must be at least 1, got 0"
    )
    assert main([*common, "--epochs-gan", "3", "--lr-decay-epochs-gan", "4"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "musicscape train: gan.lr_decay_epochs must be in [0, epochs=3], got 4"
    )
    missing = tmp_path / "generator.onnx"
    assert main([*common, "--stages", "gan", "--grow-gan-from", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape train: --grow-gan-from {missing}: no such file"
    )
    # both GAN flags are checked as a pair: shortening a run whose decay is longer than the
    # new length works when the decay is shortened with it (it stops at the missing photos)
    long_decay = tmp_path / "long_decay.json"
    long_decay.write_text('{"gan": {"epochs": 20, "lr_decay_epochs": 20}}')
    empty = tmp_path / "empty"
    empty.mkdir()
    shortened = ["--data", str(empty), "--out", str(tmp_path / "short"), "--no-progress",
                 "--config", str(long_decay), "--epochs-gan", "3"]  # fmt: skip
    assert main(shortened) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape train: gan.lr_decay_epochs must be in [0, epochs=3], got 20"
    )
    assert main([*shortened, "--lr-decay-epochs-gan", "1"]) == 2
    assert capsys.readouterr().err.strip() == f"musicscape train: {empty}/scenes: no such folder"
    broken = tmp_path / "broken.json"
    broken.write_text('{"gan": {"ema_decay": 2.0}}')
    assert main([*common, "--config", str(broken)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"musicscape train: --config {broken}: gan.ema_decay must be in [0, 1)")
    broken.write_text("{not json")
    assert main([*common, "--config", str(broken)]) == 2
    assert capsys.readouterr().err.startswith(f"musicscape train: --config {broken}: Expecting")


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ('{"embed": {"epochs": -3}}', "embed.epochs must be at least 1, got -3"),
        ('{"embed": {"per_class": 0}}', "embed.per_class must be at least 1, got 0"),
        ('{"gan": {"steps_per_epoch": 0}}', "gan.steps_per_epoch must be at least 1, got 0"),
        ('{"gan": {"batch_size": 0}}', "gan.batch_size must be at least 1, got 0"),
        (
            '{"pretrain": {"learning_rate": -1e-3}}',
            "pretrain.learning_rate must be >= 0, got -0.001",
        ),
        ('{"gan": {"learning_rate": NaN}}', "gan.learning_rate must be >= 0, got nan"),
        ('{"embed": {"weight_decay": -0.1}}', "embed.weight_decay must be >= 0, got -0.1"),
        ('{"pretrain": {"grad_clip": 0}}', "pretrain.grad_clip must be > 0, got 0.0"),
    ],
)
def test_a_schedule_that_would_train_nothing_is_refused_before_any_work(
    tmp_path, capsys, values, reason
):
    data = make_dataset(tmp_path / "data", n_categories=2)
    config = tmp_path / "config.json"
    config.write_text(values)
    run = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(run), "--no-progress", "--config", str(config)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == f"musicscape train: --config {config}: {reason}"
    assert not run.exists()


def test_an_out_that_is_a_file_is_refused_and_left_alone(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", n_categories=2)
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    assert main(["--data", str(data), "--out", str(taken), "--no-progress"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape train: --out: {taken} is a file, not a run folder"
    )
    assert taken.read_text() == "mine\n"


@pytest.mark.slow
def test_a_gan_grown_to_twice_the_size_starts_by_drawing_the_small_ones_pictures(
    tmp_path, dataset, capsys
):
    base = tiny_config(16)

    def sized(size: int, channels: int, learning_rate: float) -> TrainConfig:
        gan = base.gan
        return dataclasses.replace(
            base,
            gan=dataclasses.replace(
                gan,
                generator=dataclasses.replace(
                    gan.generator, image_size=size, base_channels=channels, upsample="resize"
                ),
                discriminator=dataclasses.replace(
                    gan.discriminator, image_size=size, base_channels=channels
                ),
                epochs=1,
                learning_rate=learning_rate,
            ),
        )

    small_config = sized(16, 16, 2e-4)
    assert train(tmp_path, dataset, "small", "--stages", "embed,gan", config=small_config) == 0
    small = tmp_path / "small" / "gan" / "epoch_001.pt"
    # at learning rate 0 the grown pair stays as grown, so its grid shows what growing gives
    assert train(tmp_path, dataset, "grown", "--stages", "embed,gan", "--grow-gan-from",
                 str(small), config=sized(32, 8, 0.0)) == 0  # fmt: skip
    recorded = json.loads((tmp_path / "grown" / "run.json").read_text())["config"]["gan"]
    assert recorded["grow_from"] == str(small.resolve())
    small_grid = np.asarray(Image.open(tmp_path / "small" / "gan" / "samples_epoch_001.png"))
    grown_grid = np.asarray(Image.open(tmp_path / "grown" / "gan" / "samples_epoch_001.png"))
    assert small_grid.shape == (2 * 16, 8 * 16, 3) and grown_grid.shape == (2 * 32, 8 * 32, 3)
    repeated = small_grid.repeat(2, axis=0).repeat(2, axis=1).astype(float)
    difference = np.abs(grown_grid - repeated)
    # equal up to the rounding to 8 bits (0.13 mean, 1 at most, measured), where the
    # grids' pixels lie 33 from their mean on average
    assert difference.mean() < 0.5 and difference.max() <= 2, difference.mean()
    assert main(["--resume", str(tmp_path / "grown"), "--grow-gan-from", str(small)]) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape train: --grow-gan-from starts a new run; a resumed run goes on as it was"
    )
    # a checkpoint that does not fit the run is refused in one line naming it
    assert train(tmp_path, dataset, "too_large", "--stages", "embed,gan", "--grow-gan-from",
                 str(small), config=sized(64, 8, 2e-4)) == 1  # fmt: skip
    assert capsys.readouterr().err.strip() == (
        f"musicscape train: {small.resolve()}: cannot grow into this run: image size 16 "
        "cannot grow to 64 (only to 32)"
    )


def test_a_feature_cache_that_cannot_be_a_folder_is_refused_before_any_track_is_read(
    tmp_path, capsys
):
    data = make_dataset(tmp_path / "data", n_categories=2)
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    run = tmp_path / "run"
    argv = ["--data", str(data), "--out", str(run), "--no-progress", "--cache-dir", str(taken)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape train: --cache-dir {taken}: {taken} is not a folder"
    )
    assert taken.read_text() == "mine\n" and not run.exists()
