"""Checkpoints from user-supplied run folders are never unpickled into code, and a full
disk while saving one is named and leaves nothing behind."""

import argparse
import shutil
from pathlib import Path

import pytest
import torch

from export import cli as export_cli
from tests.training.synthetic import make_dataset, write_config
from training.checkpoint import (
    CHECKPOINT_FORMAT,
    LATEST,
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from training.cli import main as train_main
from training.judge.checkpoint import JUDGE_FILE_STAGE, SINGLE, load_judge
from training.judge.distill import teacher_probabilities


class CreatesAFileWhenUnpickled:
    """A pickle payload: unpickling it calls open(marker, "w")."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def plant_code(path: Path, stage: str, marker: Path) -> None:
    """Overwrite `path` with a checkpoint of `stage` that carries the payload."""
    payload = {"format": CHECKPOINT_FORMAT, "stage": stage, "config": {}}
    torch.save({**payload, "extra": CreatesAFileWhenUnpickled(marker)}, path)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("checkpoints")
    torch.set_num_threads(1)
    data = make_dataset(root / "data", n_categories=2)
    arguments = ["--data", str(data), "--out", str(root / "run"), "--no-progress"]
    arguments += ["--config", str(write_config(root / "config.json"))]
    assert train_main([*arguments, "--cache-dir", str(root / "cache"), "--epochs-embed", "1"]) == 0
    return root / "run"


def test_a_checkpoint_that_would_run_code_is_refused_unrun(tmp_path):
    path, marker = tmp_path / "latest.pt", tmp_path / "ran"
    plant_code(path, "embed", marker)
    with pytest.raises(
        CheckpointError,
        match=rf"^{path}: refused: it holds Python objects other than tensors, numbers and "
        r"arrays: io.open \(loading them could run code\)$",
    ):
        load_checkpoint(path, "embed")
    assert not marker.exists()


def test_resume_refuses_a_run_folder_whose_checkpoint_would_run_code(trained_run, tmp_path, capsys):
    marker = tmp_path / "ran"
    run = tmp_path / "run"
    (run / "embed").mkdir(parents=True)
    (run / "run.json").symlink_to(trained_run / "run.json")
    plant_code(run / "embed" / LATEST, "embed", marker)
    code = train_main(["--resume", str(run), "--cache-dir", str(tmp_path / "cache"),
                       "--no-progress", "--stages", "embed", "--epochs-embed", "2"])  # fmt: skip
    assert code == 1
    assert f"{run / 'embed' / LATEST}: refused" in capsys.readouterr().err
    assert not marker.exists()


@pytest.mark.parametrize("stage", ["embed", "gan"])
def test_export_refuses_a_run_folder_whose_checkpoint_would_run_code(
    trained_run, tmp_path, capsys, stage
):
    marker = tmp_path / "ran"
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    plant_code(run / stage / LATEST, stage, marker)
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    code = export_cli.run(parser.parse_args(["--run", str(run), "--out", str(tmp_path / "out")]))
    assert code == 1
    assert f"{run / stage / LATEST}: refused" in capsys.readouterr().err
    assert not marker.exists()


def test_a_judge_or_teacher_checkpoint_that_would_run_code_is_refused_unrun(tmp_path):
    path, marker = tmp_path / "judge.pt", tmp_path / "ran"
    payload = {"format": CHECKPOINT_FORMAT, "stage": JUDGE_FILE_STAGE, "kind": SINGLE}
    payload |= {"categories": ["a", "b"], "config": {}}
    torch.save({**payload, "extra": CreatesAFileWhenUnpickled(marker)}, path)
    refused = rf"^{path}: refused: it holds Python objects other than tensors"
    with pytest.raises(CheckpointError, match=refused):
        load_judge(path)
    with pytest.raises(CheckpointError, match=refused):
        teacher_probabilities(path, ("a", "b"), train_set=None, held_out_photos=[])
    assert not marker.exists()


def test_a_full_disk_while_saving_is_named_and_leaves_no_temporary_file(tmp_path):
    folder = tmp_path / "embed"
    state = {"stage": "embed", "epoch": 1, "config": {"seed": 1}, "weights": torch.ones(3)}
    save_checkpoint(folder, state, epoch_done=False)
    # Every write to /dev/full fails with ENOSPC, as on a full disk.
    (folder / (LATEST + ".tmp")).symlink_to("/dev/full")
    later = {**state, "epoch": 2, "weights": torch.zeros(3)}
    with pytest.raises(CheckpointError, match=rf"^no space left on {folder}: {LATEST} \("):
        save_checkpoint(folder, later, epoch_done=False)
    assert sorted(path.name for path in folder.iterdir()) == ["config.json", LATEST]
    kept = load_checkpoint(folder / LATEST, "embed")
    assert kept["epoch"] == 1 and torch.equal(kept["weights"], torch.ones(3))


def test_train_stops_on_a_full_disk_naming_the_folder(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", n_categories=2)
    run = tmp_path / "run"
    (run / "embed").mkdir(parents=True)
    (run / "embed" / (LATEST + ".tmp")).symlink_to("/dev/full")
    code = train_main(["--data", str(data), "--out", str(run), "--no-progress",
                       "--config", str(write_config(tmp_path / "config.json")),
                       "--cache-dir", str(tmp_path / "cache"), "--stages", "embed"])  # fmt: skip
    assert code == 1
    assert f"musicscape train: no space left on {run / 'embed'}: {LATEST} (" in (
        capsys.readouterr().err
    )
    assert sorted(path.name for path in (run / "embed").iterdir()) == ["tensorboard"]
