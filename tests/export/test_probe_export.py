"""The category probe joined inside music_encoder.onnx: by a whole export and --probe-only."""

import argparse
import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from export import cli as export_cli
from export.probe_export import PROBE_KEY, check_compatible, detach_category_probe
from tests.training.synthetic import click_track, make_dataset, write_config
from training.checkpoint import LATEST, load_checkpoint
from training.cli import main as train_main
from training.config import tiny_config
from training.models.category_probe import CategoryProbe, ProbeNudge
from visualizer.eval.tracks import heard_by_probe
from visualizer.folders import AUDIO_EXTENSIONS, find_category_files
from visualizer.frontend import FrontEndContract, analyse_window
from visualizer.model_files import ENCODER_FILE, ModelFileError, ModelMetadata


def export(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    return export_cli.run(parser.parse_args(list(argv)))


def train(root: Path, run: str, stages: str, config) -> Path:
    code = train_main(
        ["--data", str(root / "data"), "--out", str(root / run), "--config",
         str(write_config(root / f"{run}.json", config)), "--cache-dir", str(root / "cache"),
         "--no-progress", "--stages", stages]
    )  # fmt: skip
    assert code == 0
    return root / run


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A tiny run trained without a probe and exported, then given one; and a probe trained
    on another data split."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("probe_export")
    make_dataset(root / "data", n_categories=2, tracks=4)
    config = tiny_config(16)
    run = train(root, "run", "embed,gan", config)
    assert export("--run", str(run), "--out", str(root / "plain"), "--no-judge") == 0
    assert train_main(["--resume", str(run), "--stages", "probe", "--no-progress",
                       "--cache-dir", str(root / "cache")]) == 0  # fmt: skip
    # half the tracks held out instead of a quarter: fewer training tracks
    other_split = dataclasses.replace(
        config, data=dataclasses.replace(config.data, validation_fraction=0.5)
    )
    other = train(root, "other", "probe", other_split)
    # the same split, the probe fitted on every labelled track
    every_track = dataclasses.replace(
        config, probe=dataclasses.replace(config.probe, tracks="labelled")
    )
    labelled = train(root, "labelled", "probe", every_track)
    return {
        "root": root, "run": run, "plain": root / "plain", "other": other, "labelled": labelled
    }  # fmt: skip


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def metadata(path: Path) -> ModelMetadata:
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return ModelMetadata.from_props(props, path.name)


def real_windows(contract: FrontEndContract) -> np.ndarray:
    return np.stack([analyse_window(click_track(period), contract) for period in (0.25, 0.5, 1.0)])


@pytest.mark.slow  # trains a tiny run
def test_probe_only_joins_the_probe_after_the_encoder(runs, tmp_path):
    plain = runs["plain"] / ENCODER_FILE
    figures = tmp_path / "eval.json"
    figures.write_text(json.dumps({"train": {"windows": 7}}))
    assert export("--run", str(runs["run"]), "--out", str(tmp_path), "--probe-only",
                  "--encoder", str(plain), "--eval-json", str(figures)) == 0  # fmt: skip
    probed = tmp_path / ENCODER_FILE
    joined, original = session(probed), session(plain)
    assert [i.name for i in joined.get_inputs()] == ["window"]
    assert [o.name for o in joined.get_outputs()] == ["feature", "category_scores"]
    meta, before = metadata(probed), metadata(plain)
    saved = load_checkpoint(runs["run"] / "probe" / LATEST, "probe")
    assert meta.training_data[PROBE_KEY]["blend_weight"] == 0.5
    assert meta.training_data[PROBE_KEY]["weight_decay"] == saved["weight_decay"]
    assert meta.model_version == before.model_version + "+probe0.5"
    assert meta.category_prototypes == before.category_prototypes
    assert meta.eval_figures == {"train": {"windows": 7}}
    assert meta.training_data["train_tracks"] == before.training_data["train_tracks"]
    windows = real_windows(meta.frontend)
    feature, scores = joined.run(None, {"window": windows})
    plain_feature, plain_scores = original.run(None, {"window": windows})
    probe = CategoryProbe(meta.frontend, 2)
    probe.load_state_dict(saved["probe"])
    with torch.no_grad():
        log_p = probe.eval()(torch.from_numpy(windows)).numpy()
    change = 0.5 * (log_p - log_p.mean(axis=1, keepdims=True))
    np.testing.assert_allclose(scores, plain_scores + change, atol=1e-4)
    # the moved feature scores what the file says against the prototypes it carries
    prototypes = np.asarray(meta.category_prototypes, dtype=np.float32)
    np.testing.assert_allclose(feature @ prototypes.T, scores, rtol=1e-5, atol=1e-4)
    assert np.abs(feature - plain_feature).max() > 1e-4
    with torch.no_grad():
        nudge = ProbeNudge(probe, torch.from_numpy(prototypes), 0.5)
        expected = nudge(*(torch.from_numpy(x) for x in (windows, plain_feature, plain_scores)))
    np.testing.assert_allclose(feature, expected[0].numpy(), atol=1e-3)


@pytest.mark.slow  # trains a tiny run
def test_a_whole_export_of_a_run_with_a_probe_carries_it(runs, tmp_path):
    assert export("--run", str(runs["run"]), "--out", str(tmp_path), "--no-judge") == 0
    meta = metadata(tmp_path / ENCODER_FILE)
    assert PROBE_KEY in meta.training_data
    plain = metadata(runs["plain"] / ENCODER_FILE)
    assert meta.model_version == plain.model_version + "+probe0.5"


@pytest.mark.slow  # trains a tiny run
def test_a_probe_is_refused_by_an_encoder_it_does_not_fit(runs, tmp_path, capsys):
    plain = runs["plain"] / ENCODER_FILE
    # trained on another split: it has heard tracks the encoder held out
    assert export("--run", str(runs["other"]), "--out", str(tmp_path / "a"), "--probe-only",
                  "--encoder", str(plain)) == 1  # fmt: skip
    assert "trained on other tracks than music_encoder.onnx" in capsys.readouterr().err
    # twice: the file already carries one
    assert export("--run", str(runs["run"]), "--out", str(tmp_path / "b"), "--probe-only",
                  "--encoder", str(plain)) == 0  # fmt: skip
    assert export("--run", str(runs["run"]), "--out", str(tmp_path / "c"), "--probe-only",
                  "--encoder", str(tmp_path / "b" / ENCODER_FILE)) == 1  # fmt: skip
    assert "already carries a category probe" in capsys.readouterr().err
    # a run without a probe, and --probe-only without an encoder
    assert export("--run", str(runs["other"].parent / "nowhere"), "--out", str(tmp_path / "d"),
                  "--probe-only", "--encoder", str(plain)) == 1  # fmt: skip
    assert "probe/latest.pt is missing" in capsys.readouterr().err
    assert export("--run", str(runs["run"]), "--out", str(tmp_path / "e"), "--probe-only") == 1
    assert "--probe-only needs --encoder" in capsys.readouterr().err
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"RIFF not a model")
    assert export("--run", str(runs["run"]), "--out", str(tmp_path / "f"), "--probe-only",
                  "--encoder", str(garbage)) == 1  # fmt: skip
    assert f"{garbage}: not a readable ONNX model (" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() or not (tmp_path / "a" / ENCODER_FILE).exists()
    assert PROBE_KEY not in metadata(plain).training_data  # the file it read is unchanged


@pytest.mark.slow  # trains a tiny run
def test_a_probe_fitted_on_every_labelled_track_names_the_held_out_tracks_it_heard(runs, tmp_path):
    plain = runs["plain"] / ENCODER_FILE
    assert export("--run", str(runs["labelled"]), "--out", str(tmp_path), "--probe-only",
                  "--encoder", str(plain)) == 0  # fmt: skip
    meta, before = metadata(tmp_path / ENCODER_FILE), metadata(plain)
    held_out = before.training_data["validation_tracks"]
    assert len(held_out) == 2 and len(before.training_data["train_tracks"]) == 6
    assert meta.training_data[PROBE_KEY]["heard_validation_tracks"] == sorted(held_out)
    assert meta.training_data[PROBE_KEY]["tracks"] == 8
    assert meta.model_version == before.model_version + "+probe0.5-labelled"
    # eval names them: the held-out tracks are not unheard music for this file
    found = find_category_files(runs["root"] / "data" / "music", AUDIO_EXTENSIONS)
    tracks = [(path, 0) for name in found.categories for path in found.files[name]]
    named = ["/".join(Path(entry).parts[-2:]) for entry in held_out]
    assert heard_by_probe(tracks, meta) == sorted(named)
    assert heard_by_probe(tracks, before) == []
    # a probe fitted on every labelled track must still have heard the encoder's own tracks
    saved = load_checkpoint(runs["labelled"] / "probe" / LATEST, "probe")
    first = before.training_data["train_tracks"][0]
    saved["train_tracks"] = [track for track in saved["train_tracks"] if track != first]
    with pytest.raises(
        ModelFileError,
        match=re.escape(f"missed 1 of music_encoder.onnx's training tracks, e.g. ['{first}']"),
    ):
        check_compatible(before, saved, plain, runs["labelled"] / "probe" / LATEST)


@pytest.mark.slow  # trains a tiny run
def test_replacing_a_probe_gives_the_file_a_direct_join_gives(runs, tmp_path, capsys):
    plain = runs["plain"] / ENCODER_FILE
    assert export("--run", str(runs["run"]), "--out", str(tmp_path / "first"), "--probe-only",
                  "--encoder", str(plain)) == 0  # fmt: skip
    probed = tmp_path / "first" / ENCODER_FILE
    # taken out again: the encoder's own outputs and metadata
    detached = detach_category_probe(onnx.load(str(probed)))
    windows = real_windows(metadata(plain).frontend)
    theirs = ort.InferenceSession(detached.SerializeToString(), providers=["CPUExecutionProvider"])
    for got, expected in zip(
        theirs.run(None, {"window": windows}),
        session(plain).run(None, {"window": windows}),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    props = {p.key: p.value for p in detached.metadata_props}
    assert ModelMetadata.from_props(props, "detached") == metadata(plain)
    # replaced by the labelled run's probe: as if joined to the plain encoder directly
    assert export("--run", str(runs["labelled"]), "--out", str(tmp_path / "replaced"),
                  "--probe-only", "--encoder", str(probed), "--replace-probe") == 0  # fmt: skip
    assert export("--run", str(runs["labelled"]), "--out", str(tmp_path / "direct"),
                  "--probe-only", "--encoder", str(plain)) == 0  # fmt: skip
    replaced, direct = tmp_path / "replaced" / ENCODER_FILE, tmp_path / "direct" / ENCODER_FILE
    assert metadata(replaced) == metadata(direct)
    for got, expected in zip(
        session(replaced).run(None, {"window": windows}),
        session(direct).run(None, {"window": windows}),
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, atol=1e-5)
    assert export("--run", str(runs["labelled"]), "--out", str(tmp_path / "x"),
                  "--replace-probe", "--no-judge") == 1  # fmt: skip
    assert "--replace-probe goes with --probe-only" in capsys.readouterr().err
