"""Export of a tiny trained run: files, tensor names, metadata round trip, torch parity."""

import argparse
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import numpy_helper

from export import cli as export_cli
from export.graph_speedups import speed_up_graph
from export.onnx_export import ExportMismatchError, check_against_torch, export_module
from tests.training.synthetic import make_dataset
from training.cli import main as train_main
from training.config import tiny_config
from visualizer.frontend.level import file_level_db, music_level_db
from visualizer.model_files import (
    ENCODER_FILE,
    GENERATOR_FILE,
    JUDGE_FILE,
    ModelFileError,
    ModelMetadata,
)

TINY_JUDGE = {"image_size": 16, "store_size": 20, "widths": [4, 8], "epochs": 1, "batch": 4}


def export(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    return export_cli.run(parser.parse_args(list(argv)))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("export")
    data = make_dataset(root / "data", n_categories=3)
    (root / "config.json").write_text(json.dumps(tiny_config(16).to_dict()))
    (root / "judge.json").write_text(json.dumps(TINY_JUDGE))
    code = train_main(
        ["--data", str(data), "--out", str(root / "run"), "--config", str(root / "config.json"),
         "--cache-dir", str(root / "cache"), "--no-progress", "--stages", "embed,gan,judge",
         "--judge-config", str(root / "judge.json")]
    )  # fmt: skip
    assert code == 0
    return root / "run"


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models")
    eval_json = out.parent / "eval.json"
    eval_json.write_text(json.dumps({"centroid_accuracy": 0.5}))
    assert export("--run", str(trained_run), "--out", str(out), "--eval-json", str(eval_json)) == 0
    return out


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.slow  # uses the trained run
def test_files_have_the_specified_tensors(exported):
    encoder = session(exported / ENCODER_FILE)
    assert [i.name for i in encoder.get_inputs()] == ["window"]
    assert [o.name for o in encoder.get_outputs()] == ["feature", "category_scores"]
    window = np.random.default_rng(0).uniform(-1, 1, (3, 2, 1024, 689)).astype(np.float32)
    feature, scores = encoder.run(None, {"window": window})
    assert feature.shape == (3, 32) and scores.shape == (3, 3)
    generator = session(exported / GENERATOR_FILE)
    assert [i.name for i in generator.get_inputs()] == ["noise", "feature"]
    (image,) = generator.run(
        None, {"noise": np.zeros((5, 8), np.float32), "feature": np.ones((5, 32), np.float32)}
    )
    assert image.shape == (5, 3, 16, 16) and np.abs(image).max() <= 1.0
    judge = session(exported / JUDGE_FILE)
    logits, _ = judge.run(None, {"image": image})
    assert logits.shape == (5, 3)


@pytest.mark.slow  # uses the trained run
def test_the_encoders_large_means_and_squares_are_exported_as_products(exported):
    """export.graph_speedups ran on the written file: nothing is left for it to rewrite,
    and the standardisation's mean over the bins is a product with a row of 1 / n_bins."""
    model = onnx.load(str(exported / ENCODER_FILE))
    assert "Pow" not in [node.op_type for node in model.graph.node]
    rows = [numpy_helper.to_array(init) for init in model.graph.initializer]
    assert any(row.shape == (1, 1024) and np.all(row == np.float32(1 / 1024)) for row in rows)
    assert speed_up_graph(model) == 0


@pytest.mark.slow  # uses the trained run
def test_metadata_round_trip(exported, trained_run):
    run_info = json.loads((trained_run / "run.json").read_text())
    for name in (ENCODER_FILE, GENERATOR_FILE):
        props = {p.key: p.value for p in onnx.load(str(exported / name)).metadata_props}
        metadata = ModelMetadata.from_props(props, name)
        assert metadata.categories == ("cat0", "cat1", "cat2")
        assert (metadata.feature_dim, metadata.noise_dim, metadata.image_size) == (32, 8, 16)
        assert metadata.frontend.to_dict() == run_info["frontend"]
        assert metadata.training_data["train_tracks"] == run_info["data"]["train_tracks"]
        assert metadata.training_data["validation_tracks"] == run_info["data"]["validation_tracks"]
        assert len(metadata.training_data["validation_tracks"]) == 3  # one per category
        # the settings that trained the file travel with it
        assert metadata.training_data["embed_config"] == run_info["config"]["embed"]
        assert metadata.training_data["data_config"] == run_info["config"]["data"]
        assert metadata.training_data["gan_config"] == run_info["config"]["gan"]
        assert metadata.eval_figures == {"centroid_accuracy": 0.5}
        # the training tracks' level, which the app brings live inputs to
        root = Path(run_info["data_root"])
        levels = [file_level_db(root / track, metadata.frontend) for track in
                  run_info["data"]["train_tracks"]]  # fmt: skip
        assert metadata.music_level_db == round(music_level_db(levels), 2)
        assert -60.0 < metadata.music_level_db < 0.0
        assert ModelMetadata.from_props(metadata.to_props(), name) == metadata


@pytest.mark.slow  # uses the trained run
def test_encoder_is_centred_and_scores_against_centred_image_centroids(exported, trained_run):
    from export.run_export import _scored_encoder, _trained_embedding, training_image_centroids
    from training.checkpoint import LATEST, load_checkpoint

    data_root = Path(json.loads((trained_run / "run.json").read_text())["data_root"])
    _, embedding, split = _trained_embedding(trained_run, data_root)
    saved_gan = load_checkpoint(trained_run / "gan" / LATEST, "gan")
    centre = saved_gan["feature_centre"].numpy()
    assert np.linalg.norm(centre) > 0.05  # centring is on by default, and moves something
    centroids = training_image_centroids(embedding, split).numpy() - centre
    encoder_props = {p.key: p.value for p in onnx.load(str(exported / ENCODER_FILE)).metadata_props}
    scored, _ = _scored_encoder(trained_run, data_root, encoder_props, saved_gan)
    np.testing.assert_allclose(scored.centroids.numpy(), centroids, atol=1e-6)
    window = torch.rand(2, 2, 1024, 689) * 2 - 1
    feature, scores = session(exported / ENCODER_FILE).run(None, {"window": window.numpy()})
    with torch.no_grad():
        plain = embedding.music(window).numpy()
    np.testing.assert_allclose(feature, plain - centre, atol=1e-4)
    np.testing.assert_allclose(scores, feature @ centroids.T, rtol=1e-4, atol=1e-4)
    assert check_against_torch(scored, exported / ENCODER_FILE, (window,)) <= 1e-4
    for name in (ENCODER_FILE, GENERATOR_FILE):
        props = {p.key: p.value for p in onnx.load(str(exported / name)).metadata_props}
        metadata = ModelMetadata.from_props(props, name)
        np.testing.assert_allclose(np.array(metadata.category_prototypes), centroids, atol=1e-6)
        length = metadata.training_data["feature_centre_length"]
        assert length == pytest.approx(np.linalg.norm(centre), abs=1e-6)


@pytest.mark.slow  # uses the trained run
def test_exported_generator_is_the_weight_average(exported, trained_run):
    from training.checkpoint import LATEST, load_checkpoint
    from training.config import TrainConfig
    from training.models import Generator

    saved = load_checkpoint(trained_run / "gan" / LATEST, "gan")
    config = TrainConfig.from_dict(saved["config"]).gan.generator
    noise, feature = torch.randn(4, config.noise_dim), torch.randn(4, config.feature_dim)
    (onnx_image,) = session(exported / GENERATOR_FILE).run(
        None, {"noise": noise.numpy(), "feature": feature.numpy()}
    )
    drawn = {}
    for name, weights in (("average", saved["generator_average"]["model"]),
                          ("last step", saved["generator"])):  # fmt: skip
        generator = Generator(config).eval()
        generator.load_state_dict(weights)
        with torch.no_grad():
            drawn[name] = generator(noise, feature).numpy()
    np.testing.assert_allclose(onnx_image, drawn["average"], atol=1e-5)
    assert np.abs(onnx_image - drawn["last step"]).max() > 1e-3
    props = {p.key: p.value for p in onnx.load(str(exported / GENERATOR_FILE)).metadata_props}
    metadata = ModelMetadata.from_props(props, GENERATOR_FILE)
    assert metadata.training_data["generator_weights"] == "weight average"
    assert metadata.training_data["noise_truncation"] == 1.0  # the default: no truncation
    assert metadata.training_data["category_pull"] == 0.0  # the default: no pull
    assert metadata.scene_memory_seconds == 16.0  # the default scene memory


@pytest.mark.slow  # uses the trained run
def test_truncation_scales_the_noise_inside_the_exported_generator(trained_run, tmp_path, capsys):
    from export.run_export import generator_weights
    from training.checkpoint import LATEST, load_checkpoint
    from training.config import TrainConfig
    from training.models import Generator

    out = tmp_path / "truncated"
    assert export("--run", str(trained_run), "--out", str(out), "--no-judge",
                  "--truncation", "0.5", "--scene-memory", "0") == 0  # fmt: skip
    saved = load_checkpoint(trained_run / "gan" / LATEST, "gan")
    config = TrainConfig.from_dict(saved["config"]).gan.generator
    generator = Generator(config).eval()
    generator.load_state_dict(generator_weights(saved))
    noise, feature = torch.randn(4, config.noise_dim), torch.randn(4, config.feature_dim)
    (image,) = session(out / GENERATOR_FILE).run(
        None, {"noise": noise.numpy(), "feature": feature.numpy()}
    )
    with torch.no_grad():
        np.testing.assert_allclose(image, generator(noise * 0.5, feature).numpy(), atol=1e-5)
        assert np.abs(image - generator(noise, feature).numpy()).max() > 1e-3
    for name in (ENCODER_FILE, GENERATOR_FILE):
        props = {p.key: p.value for p in onnx.load(str(out / name)).metadata_props}
        metadata = ModelMetadata.from_props(props, name)
        assert metadata.training_data["noise_truncation"] == 0.5
        assert metadata.scene_memory_seconds == 0.0
    for bad in ("0", "1.5"):
        assert export("--run", str(trained_run), "--out", str(out), "--truncation", bad) == 1
        assert f"--truncation must be in (0, 1], got {float(bad)}" in capsys.readouterr().err
    assert export("--run", str(trained_run), "--out", str(out), "--scene-memory", "-1") == 1
    assert "--scene-memory must be a number of seconds >= 0, got -1.0" in capsys.readouterr().err


@pytest.mark.slow  # uses the trained run
def test_category_pull_happens_inside_the_exported_generator(trained_run, tmp_path, capsys):
    from export.run_export import generator_weights
    from training.checkpoint import LATEST, load_checkpoint
    from training.config import TrainConfig
    from training.models import Generator

    out = tmp_path / "pulled"
    assert export("--run", str(trained_run), "--out", str(out), "--no-judge",
                  "--category-pull", "0.5") == 0  # fmt: skip
    saved = load_checkpoint(trained_run / "gan" / LATEST, "gan")
    config = TrainConfig.from_dict(saved["config"]).gan.generator
    generator = Generator(config).eval()
    generator.load_state_dict(generator_weights(saved))
    props = {p.key: p.value for p in onnx.load(str(out / GENERATOR_FILE)).metadata_props}
    metadata = ModelMetadata.from_props(props, GENERATOR_FILE)
    assert metadata.training_data["category_pull"] == 0.5
    assert metadata.training_data["category_pull_temperature"] == 0.02
    prototypes = np.asarray(metadata.category_prototypes, dtype=np.float32)  # [3, feature_dim]
    feature = prototypes[[2, 0, 1, 2]] + 0.3 * np.random.default_rng(0).standard_normal(
        (4, config.feature_dim), dtype=np.float32
    )
    logits = feature @ prototypes.T / 0.02  # the soft pull: softmax(scores / 0.02)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    pulled = feature + 0.5 * (weights @ prototypes - feature)
    noise = torch.randn(4, config.noise_dim)
    (image,) = session(out / GENERATOR_FILE).run(None, {"noise": noise.numpy(), "feature": feature})
    with torch.no_grad():
        expected = generator(noise, torch.from_numpy(pulled)).numpy()
        np.testing.assert_allclose(image, expected, atol=1e-5)
        unpulled = generator(noise, torch.from_numpy(feature)).numpy()
        assert np.abs(image - unpulled).max() > 1e-3
    for bad in ("-0.5", "2"):
        assert export("--run", str(trained_run), "--out", str(out), "--category-pull", bad) == 1
        assert f"--category-pull must be in [0, 1], got {float(bad)}" in capsys.readouterr().err


@pytest.mark.slow  # uses the trained run
def test_gan_epoch_exports_that_epochs_generator(exported, trained_run, tmp_path, capsys):
    from export.run_export import generator_weights
    from training.checkpoint import load_checkpoint
    from training.config import TrainConfig
    from training.models import Generator

    out = tmp_path / "epoch1"
    assert export("--run", str(trained_run), "--out", str(out), "--no-judge",
                  "--gan-epoch", "1") == 0  # fmt: skip
    saved = load_checkpoint(trained_run / "gan" / "epoch_001.pt", "gan")
    config = TrainConfig.from_dict(saved["config"]).gan.generator
    generator = Generator(config).eval()
    generator.load_state_dict(generator_weights(saved))
    noise, feature = torch.randn(4, config.noise_dim), torch.randn(4, config.feature_dim)
    inputs = {"noise": noise.numpy(), "feature": feature.numpy()}
    (image,) = session(out / GENERATOR_FILE).run(None, inputs)
    with torch.no_grad():
        np.testing.assert_allclose(image, generator(noise, feature).numpy(), atol=1e-5)
    (latest_image,) = session(exported / GENERATOR_FILE).run(None, inputs)
    assert np.abs(image - latest_image).max() > 1e-3
    for name, folder, epochs in ((GENERATOR_FILE, out, 1), (GENERATOR_FILE, exported, 2)):
        props = {p.key: p.value for p in onnx.load(str(folder / name)).metadata_props}
        assert ModelMetadata.from_props(props, name).training_data["gan_epochs"] == epochs
    assert export("--run", str(trained_run), "--out", str(out), "--gan-epoch", "7") == 1
    assert "epoch_007.pt: no such checkpoint" in capsys.readouterr().err
    assert export("--run", str(trained_run), "--out", str(out), "--gan-epoch", "0") == 1
    assert "--gan-epoch must be 1 or more, got 0" in capsys.readouterr().err


@pytest.mark.slow  # uses the trained run
def test_export_refuses_a_run_without_judge(trained_run, tmp_path, capsys):
    judge = trained_run / "judge" / "judge.pt"
    hidden = judge.with_suffix(".hidden")
    judge.rename(hidden)
    try:
        assert export("--run", str(trained_run), "--out", str(tmp_path)) == 1
        assert "--no-judge" in capsys.readouterr().err
    finally:
        hidden.rename(judge)


def test_model_without_metadata_is_refused(tmp_path):
    module = torch.nn.Linear(4, 2)
    export_module(module, (torch.randn(2, 4),), ["x"], ["y"], tmp_path / "m.onnx", {})
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    with pytest.raises(ModelFileError, match="not a musicscape model"):
        ModelMetadata.from_props(props, "m.onnx")


def test_exported_files_carry_no_source_annotations_and_repeat_byte_for_byte(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    example = (torch.randn(2, 4),)
    export_module(module, example, ["x"], ["y"], tmp_path / "a.onnx", {"k": "v"})
    # the same module exported from another source line: the traces would differ
    export_module(module, example, ["x"], ["y"], tmp_path / "b.onnx", {"k": "v"})
    written = onnx.load(str(tmp_path / "a.onnx"))
    annotated = [node.name for node in written.graph.node if len(node.metadata_props)]
    assert annotated == []
    assert all(len(v.metadata_props) == 0 for v in (*written.graph.input, *written.graph.output))
    assert str(Path(__file__).parent).encode() not in (tmp_path / "a.onnx").read_bytes()
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()


def test_parity_check_fails_with_figures(tmp_path):
    module = torch.nn.Linear(4, 2)
    export_module(module, (torch.randn(2, 4),), ["x"], ["y"], tmp_path / "m.onnx", {"k": "v"})
    assert check_against_torch(module, tmp_path / "m.onnx", (torch.randn(7, 4),)) <= 1e-6
    with torch.no_grad():
        module.bias += 0.01
    with pytest.raises(ExportMismatchError, match=r"max abs 0\.01 \(tolerance 0\.0001"):
        check_against_torch(module, tmp_path / "m.onnx", (torch.randn(3, 4),))


def test_export_needs_batch_two_for_a_dynamic_axis(tmp_path):
    with pytest.raises(ValueError, match="batch 2"):
        export_module(
            torch.nn.Linear(4, 2), (torch.randn(1, 4),), ["x"], ["y"], tmp_path / "m.onnx", {}
        )


def test_music_encoder_matches_torch_on_music_like_windows(tmp_path):
    """Analysed music sits far from zero mean; standardising it with one ReduceMean over
    1024 x 689 values (summed sequentially in float32 by ONNX Runtime) put a trained encoder
    5e-5 off torch. The encoder now reduces bins, then frames."""
    from training.models import MusicEncoder
    from visualizer.frontend import FrontEndContract, analyse_window

    torch.manual_seed(0)
    encoder = MusicEncoder(tiny_config(16).embed.music).eval()
    contract = FrontEndContract()
    rng = np.random.default_rng(0)
    time = np.arange(contract.window_samples) / contract.sample_rate
    windows = []
    for root in (110.0, 155.6):
        chord = sum(np.sin(2 * np.pi * root * ratio * time) for ratio in (1, 1.25, 1.5, 2, 3))
        signal = 0.2 * chord + 1e-3 * rng.standard_normal(time.size)
        windows.append(analyse_window(signal.astype(np.float32), contract))
    batch = torch.from_numpy(np.stack(windows))
    assert float(batch[:, 0].mean()) < -0.3  # mostly quiet bins: a large offset to remove
    path = tmp_path / "encoder.onnx"
    export_module(encoder, (batch,), ["window"], ["feature"], path, {"k": "v"})
    # measured: 7e-8 now, 1.0e-6 with the single long reduction
    assert check_against_torch(encoder, path, (batch,), atol=3e-7) <= 3e-7


@pytest.mark.parametrize("out", ["notes.txt", "notes.txt/models"])
def test_an_out_that_cannot_be_a_folder_is_refused_before_reading_the_run(tmp_path, capsys, out):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    target = tmp_path / out
    assert export("--run", str(tmp_path / "no_run"), "--out", str(target)) == 1
    assert (
        capsys.readouterr().err == f"musicscape export: --out {target}: {taken} is not a folder\n"
    )
    assert taken.read_text() == "mine\n"
