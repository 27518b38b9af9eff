"""The judge on a separable toy: three colours of noisy photos, plus one broken file."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from PIL import Image

from export.judge_export import export_judge
from tests.training.stop_flags import StopAfterChecks
from training.checkpoint import LATEST, CheckpointError, load_checkpoint
from training.context import TrainingInterrupted
from training.judge.augment import augment, cutmix
from training.judge.checkpoint import JudgeCheckpointError, load_judge
from training.judge.config import JudgeConfig
from training.judge.distill import judge_loss
from training.judge.ensemble import combine_judges
from training.judge.models import JudgeEnsemble, SceneJudge
from training.judge.trainer import train_judge, training_memory_format
from visualizer.app.model_runtime import default_model_dir
from visualizer.folders import IMAGE_EXTENSIONS, find_category_files
from visualizer.frontend import FrontEndContract
from visualizer.model_files import JUDGE_FILE, ModelFileError, ModelMetadata
from visualizer.photos import read_photo, split_photos

COLOURS = {"blue": (40, 60, 200), "green": (40, 190, 60), "red": (200, 40, 40)}
PHOTOS_PER_CATEGORY = 15
TOY_CONFIG = JudgeConfig(
    image_size=16, store_size=20, widths=(8, 16), blocks_per_stage=1, epochs=6, batch=16, lr=5e-3
)


def models_metadata() -> ModelMetadata:
    """The exported models' metadata a judge export is checked against and joins."""
    return ModelMetadata(
        frontend=FrontEndContract(),
        categories=("red", "green", "blue"),
        feature_dim=1024,
        noise_dim=100,
        image_size=64,
        model_version="run-1",
    )


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("scenes")
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir()
        for index in range(PHOTOS_PER_CATEGORY):
            noise = rng.normal(0, 25, (24, 24, 3))
            pixels = np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index:02d}.png")
    (root / "red" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return root


ONE_EPOCH = dataclasses.replace(TOY_CONFIG, epochs=1)


def more_photos(scenes: Path, root: Path) -> Path:
    """The scenes plus one more photo per category: another held-out split."""
    shutil.copytree(scenes, root)
    for name in COLOURS:
        shutil.copy(scenes / name / "00.png", root / name / "99.png")
    return root


@pytest.fixture(scope="module")
def checkpoint(scenes, tmp_path_factory):
    torch.set_num_threads(1)
    return train_judge(scenes, tmp_path_factory.mktemp("run"), TOY_CONFIG, "cpu")


@pytest.fixture(scope="module")
def half_size_checkpoint(scenes, tmp_path_factory):
    """A second judge at 8 pixels: same categories and held-out photos as `checkpoint`."""
    torch.set_num_threads(1)
    config = dataclasses.replace(TOY_CONFIG, image_size=8, store_size=10)
    return train_judge(scenes, tmp_path_factory.mktemp("run8"), config, "cpu")


def test_judge_learns_a_separable_toy_and_records_the_held_out_photos(checkpoint, scenes):
    model, info = load_judge(checkpoint)
    assert info["categories"] == ["blue", "green", "red"]
    assert info["validation_accuracy"] == 1.0
    assert info["validation_per_category"] == {"blue": 1.0, "green": 1.0, "red": 1.0}
    # 15 readable photos per category, 20% held out per category = 3 each: the one photo
    # split, which the embedding and GAN hold out too.
    assert len(info["validation_photos"]) == 9
    found = find_category_files(scenes, IMAGE_EXTENSIONS)
    assert info["validation_photos"] == [
        path.relative_to(scenes).as_posix()
        for name in found.categories
        for path in split_photos(found.files[name])[1]
    ]
    assert info["train_photo_count"] == 36
    assert [entry[0].endswith("red/broken.jpg") for entry in info["skipped"]] == [True]
    assert info["config"]["widths"] == (8, 16)
    assert isinstance(model, SceneJudge) and not model.training


def test_loaded_judge_classifies_its_held_out_photos(checkpoint, scenes):
    model, info = load_judge(checkpoint)
    photos = np.stack([read_photo(scenes / path, 16) for path in info["validation_photos"]])
    images = torch.from_numpy(photos).permute(0, 3, 1, 2).float() * (2 / 255) - 1
    with torch.no_grad():
        logits, features = model(images)
    assert logits.shape == (9, 3)
    assert features.shape == (9, 16)
    expected = [info["categories"].index(path.split("/")[0]) for path in info["validation_photos"]]
    assert logits.argmax(1).tolist() == expected


def test_judge_accepts_the_generators_64_pixel_output():
    model = SceneJudge(JudgeConfig(), 4).eval()
    with torch.no_grad():
        logits, features = model(torch.zeros(2, 3, 64, 64))
    assert logits.shape == (2, 4)
    assert features.shape == (2, 256)


def test_flip_average_makes_the_judge_mirror_invariant():
    model = SceneJudge(JudgeConfig(image_size=16, widths=(4, 8)), 3).eval()
    image = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        logits, features = model(image)
        mirrored_logits, mirrored_features = model(torch.flip(image, dims=[3]))
    assert torch.allclose(logits, mirrored_logits, atol=1e-5)
    assert torch.allclose(features, mirrored_features, atol=1e-5)


def test_augment_gives_training_size_images_in_range():
    config = JudgeConfig(image_size=16, store_size=20, widths=(4, 8))
    batch = torch.rand(5, 3, 20, 20) * 2 - 1
    out = augment(batch, config, torch.Generator().manual_seed(0))
    assert out.shape == (5, 3, 16, 16)
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_augment_on_a_gpu_draws_the_same_augmentations_as_on_the_cpu():
    config = JudgeConfig(image_size=16, store_size=20, widths=(4, 8), blur_probability=0.5)
    batch = torch.rand(8, 3, 20, 20, generator=torch.Generator().manual_seed(1)) * 2 - 1
    on_cpu = augment(batch, config, torch.Generator().manual_seed(0))
    on_gpu = augment(batch.cuda(), config, torch.Generator().manual_seed(0))
    assert on_gpu.device.type == "cuda"
    assert torch.allclose(on_gpu.cpu(), on_cpu, atol=1e-5)


def test_export_judge_writes_onnx_with_the_judges_metadata(checkpoint, tmp_path):
    import onnxruntime as ort

    shared = models_metadata()
    out = tmp_path / "judge.onnx"
    difference = export_judge(checkpoint, out, shared.to_props())
    assert difference < 1e-4
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    metadata = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map, str(out))
    assert metadata.categories == ("blue", "green", "red")  # the judge's own output order
    assert (metadata.image_size, metadata.feature_dim, metadata.noise_dim) == (16, 16, 100)
    assert len(metadata.training_data["validation_photos"]) == 9
    assert metadata.eval_figures["validation_accuracy"] == 1.0
    assert [value.name for value in session.get_inputs()] == ["image"]
    logits, features = session.run(
        ["logits", "features"], {"image": np.zeros((3, 3, 16, 16), np.float32)}
    )
    assert logits.shape == (3, 3) and features.shape == (3, 16)


def test_export_judge_refuses_other_categories(checkpoint, tmp_path):
    shared = ModelMetadata(
        frontend=FrontEndContract(),
        categories=("sky", "water"),
        feature_dim=8,
        noise_dim=4,
        image_size=16,
        model_version="run-1",
    )
    with pytest.raises(ModelFileError, match="judge categories .* do not match"):
        export_judge(checkpoint, tmp_path / "judge.onnx", shared.to_props())


def test_load_judge_refuses_a_missing_or_foreign_file(checkpoint, tmp_path):
    with pytest.raises(CheckpointError, match="absent.pt: no such checkpoint"):
        load_judge(tmp_path / "absent.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="garbage.pt: refused"):
        load_judge(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt: not a musicscape training checkpoint"):
        load_judge(foreign)
    # The trainer's resumable checkpoint beside judge.pt is no finished judge.
    with pytest.raises(CheckpointError, match="a 'judge' checkpoint, expected 'judge_model'"):
        load_judge(checkpoint.parent / LATEST)


def test_judge_config_refuses_impossible_sizes():
    with pytest.raises(ValueError, match="too small for 3 downsampling stages"):
        JudgeConfig(image_size=4, widths=(8, 16, 32, 64))
    assert JudgeConfig(image_size=128).store_size == 160
    with pytest.raises(ValueError, match="store_size 32 < image_size 64"):
        JudgeConfig(store_size=32)
    with pytest.raises(ValueError, match="JudgeConfig: unknown keys colour"):
        JudgeConfig.from_dict({"colour": 1})
    # Older judges recorded their own photo split; every stage now shares one.
    assert JudgeConfig.from_dict({"validation_fraction": 0.3}) == JudgeConfig()


def test_training_continues_from_a_judge_with_the_same_shape_and_split(
    checkpoint, scenes, tmp_path
):
    config = dataclasses.replace(TOY_CONFIG, epochs=1, lr=1e-3)
    continued = train_judge(scenes, tmp_path / "more", config, "cpu", initial_checkpoint=checkpoint)
    assert load_judge(continued)[1]["validation_accuracy"] == 1.0
    wider = dataclasses.replace(TOY_CONFIG, widths=(8, 32))
    with pytest.raises(JudgeCheckpointError, match="cannot continue from this judge"):
        train_judge(scenes, tmp_path / "wider", wider, "cpu", initial_checkpoint=checkpoint)


def test_cutmix_pastes_one_box_from_each_images_partner_and_reports_the_kept_share():
    count, size = 6, 20
    # Image i is the constant i, so every pixel tells which image it came from.
    images = (
        torch.arange(count, dtype=torch.float32).view(count, 1, 1, 1).expand(count, 3, size, size)
    )
    for seed in range(20):
        mixed, partner, kept = cutmix(images, torch.Generator().manual_seed(seed))
        assert sorted(partner.tolist()) == list(range(count))
        for index in range(count):
            pasted = mixed[index] == partner[index]
            own = mixed[index] == index
            if partner[index] != index:
                assert torch.all(pasted | own)
                assert float(own.float().mean()) == pytest.approx(kept, abs=1e-6)
                rows = torch.nonzero(pasted[0].any(dim=1)).flatten()
                columns = torch.nonzero(pasted[0].any(dim=0)).flatten()
                if len(rows):  # one solid box
                    box = pasted[0, rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
                    assert torch.all(box)
        assert 0.0 <= kept <= 1.0
    assert torch.equal(images[:, 0, 0, 0], torch.arange(count, dtype=torch.float32))


def test_saved_judge_is_the_average_of_the_last_epochs_with_fresh_batch_norm(scenes, tmp_path):
    last = load_judge(train_judge(scenes, tmp_path / "last", TOY_CONFIG, "cpu"))[0]
    one = dataclasses.replace(TOY_CONFIG, average_epochs=1, average_calibration_batches=3)
    averaged, info = load_judge(train_judge(scenes, tmp_path / "one", one, "cpu"))
    # The average of one epoch is that epoch's weights; only BatchNorm's statistics change.
    for (name, value), (_, expected) in zip(
        averaged.state_dict().items(), last.state_dict().items(), strict=True
    ):
        if "running_" in name:
            assert not torch.equal(value, expected), name
        elif "num_batches" not in name:
            assert torch.equal(value, expected), name
    # The recorded accuracy is the saved (averaged) judge's own.
    photos = np.stack([read_photo(scenes / path, 16) for path in info["validation_photos"]])
    images = torch.from_numpy(photos).permute(0, 3, 1, 2).float() * (2 / 255) - 1
    with torch.no_grad():
        predicted = averaged(images)[0].argmax(1)
    truth = torch.tensor(
        [info["categories"].index(p.split("/")[0]) for p in info["validation_photos"]]
    )
    assert info["validation_accuracy"] == float((predicted == truth).float().mean())
    three = dataclasses.replace(TOY_CONFIG, average_epochs=3, cutmix_probability=0.5)
    mixed_average, _ = load_judge(train_judge(scenes, tmp_path / "three", three, "cpu"))
    assert not torch.equal(mixed_average.classifier.weight, last.classifier.weight)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cutmix_probability": 1.5}, "cutmix_probability must be in"),
        ({"average_epochs": 7}, r"average_epochs must be in \[0, epochs=6\]"),
        ({"average_epochs": 2, "average_calibration_batches": 0}, "calibration_batches"),
        ({"optimizer": "adam"}, r"optimizer must be one of \('adamw', 'sgd'\): 'adam'"),
        ({"teacher_weight": 1.5}, r"teacher_weight must be in \[0, 1\]: 1.5"),
    ],
)
def test_judge_config_refuses_bad_cutmix_and_averaging(changes, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TOY_CONFIG, **changes)


@pytest.mark.parametrize(("optimizer", "lr"), [("adamw", 5e-3), ("sgd", 0.05)])
def test_interrupted_judge_resumes_exactly_and_refuses_another_config(
    scenes, tmp_path, optimizer, lr
):
    config = dataclasses.replace(
        TOY_CONFIG, cutmix_probability=0.5, average_epochs=3, optimizer=optimizer, lr=lr
    )
    straight = load_judge(train_judge(scenes, tmp_path / "straight", config, "cpu"))[0]
    # 36 training photos in batches of 16: 2 steps an epoch; stop before epoch 4's 2nd step,
    # inside the averaged epochs.
    with pytest.raises(TrainingInterrupted, match="interrupted at epoch 4 step 1"):
        train_judge(scenes, tmp_path / "stopped", config, "cpu", stop=StopAfterChecks(7))
    saved = load_checkpoint(tmp_path / "stopped" / LATEST, "judge")
    assert (saved["epoch"], saved["step"], saved["average"]["count"]) == (3, 1, 0)
    assert JudgeConfig.from_dict(saved["config"]) == config
    assert ("momentum_buffer" in saved["optimizer"]["state"][0]) == (optimizer == "sgd")
    resumed = load_judge(train_judge(scenes, tmp_path / "stopped", config, "cpu"))[0]
    for name, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[name]), name
    other = dataclasses.replace(config, lr=lr / 5)
    with pytest.raises(JudgeCheckpointError, match="another JudgeConfig .differs in lr"):
        train_judge(scenes, tmp_path / "stopped", other, "cpu")


def test_blur_augmentation_softens_fine_texture():
    checkerboard = (torch.arange(20).view(1, -1) + torch.arange(20).view(-1, 1)) % 2 * 2.0 - 1
    batch = checkerboard.expand(4, 3, 20, 20).contiguous()

    def texture(blur_probability: float) -> float:
        config = JudgeConfig(
            image_size=16,
            store_size=20,
            widths=(4, 8),
            crop_min_area=1.0,
            colour_jitter=0.0,
            blur_probability=blur_probability,
        )
        out = augment(batch, config, torch.Generator().manual_seed(0))
        return float((out[..., 1:] - out[..., :-1]).abs().mean())

    assert texture(1.0) < 0.5 * texture(0.0)


def test_ensemble_averages_member_probabilities_with_each_at_its_own_size(
    checkpoint, half_size_checkpoint, tmp_path
):
    combined = combine_judges([checkpoint, half_size_checkpoint], tmp_path / "ensemble")
    ensemble, info = load_judge(combined)
    assert isinstance(ensemble, JudgeEnsemble) and ensemble.image_size == 16
    assert info["validation_accuracy"] == 1.0
    assert info["member_accuracies"] == [1.0, 1.0]
    assert info["split"] == {"seed": 0, "validation_fraction": 0.2}
    full, _ = load_judge(checkpoint)
    half, _ = load_judge(half_size_checkpoint)
    image = torch.rand(4, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        logits, features = ensemble(image)
        full_logits, full_features = full(image)
        half_logits, half_features = half(torch.nn.functional.avg_pool2d(image, 2))
    expected = (torch.softmax(full_logits, 1) + torch.softmax(half_logits, 1)) / 2
    torch.testing.assert_close(logits.exp(), expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(features, torch.cat([full_features, half_features], 1))


def test_exported_ensemble_matches_torch_and_records_its_members(
    checkpoint, half_size_checkpoint, tmp_path
):
    import onnxruntime as ort

    combined = combine_judges([checkpoint, half_size_checkpoint], tmp_path / "ensemble")
    shared = models_metadata()
    out = tmp_path / "judge.onnx"
    assert export_judge(combined, out, shared.to_props()) < 1e-4
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    metadata = ModelMetadata.from_props(session.get_modelmeta().custom_metadata_map, str(out))
    assert (metadata.image_size, metadata.feature_dim) == (16, 32)
    assert metadata.eval_figures["member_accuracies"] == [1.0, 1.0]
    assert metadata.training_data["seed"] == 0


def test_combine_refuses_other_held_out_photos_and_nested_ensembles(checkpoint, scenes, tmp_path):
    reshuffled = train_judge(
        more_photos(scenes, tmp_path / "more_photos"), tmp_path / "other", ONE_EPOCH, "cpu"
    )
    with pytest.raises(JudgeCheckpointError, match="held-out photos differ"):
        combine_judges([checkpoint, reshuffled], tmp_path / "refused")
    pair = combine_judges([checkpoint, checkpoint], tmp_path / "pair")
    with pytest.raises(JudgeCheckpointError, match="already an ensemble"):
        combine_judges([pair, checkpoint], tmp_path / "nested")
    with pytest.raises(JudgeCheckpointError, match="an ensemble; continue from one"):
        train_judge(scenes, tmp_path / "more", TOY_CONFIG, "cpu", initial_checkpoint=pair)


def test_judge_loss_mixes_the_labels_and_the_teachers_cross_entropy():
    logits = torch.tensor([[0.0, float(np.log(3.0))]])  # probabilities 0.25, 0.75
    labels = torch.tensor([1])
    teacher = torch.tensor([[0.5, 0.5]])
    plain = dataclasses.replace(TOY_CONFIG, label_smoothing=0.0, teacher_weight=0.5)
    hard = -np.log(0.75)
    soft = -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))
    assert float(judge_loss(logits, labels, None, plain)) == pytest.approx(hard, abs=1e-6)
    mixed = float(judge_loss(logits, labels, teacher, plain))
    assert mixed == pytest.approx(0.5 * hard + 0.5 * soft, abs=1e-6)
    smoothed = dataclasses.replace(plain, label_smoothing=0.1, teacher_weight=1.0)
    assert float(judge_loss(logits, labels, teacher, smoothed)) == pytest.approx(soft, abs=1e-6)
    smoothed = dataclasses.replace(smoothed, teacher_weight=0.0)
    expected = -(0.05 * np.log(0.25) + 0.95 * np.log(0.75))
    assert float(judge_loss(logits, labels, teacher, smoothed)) == pytest.approx(expected, abs=1e-6)


def test_judge_learns_from_a_teacher_with_the_same_held_out_photos(checkpoint, scenes, tmp_path):
    # A teacher trained where every category's folder holds another category's photos
    # (same file names, so the same held-out photos) names each colour wrongly.
    swapped = tmp_path / "swapped"
    names = list(COLOURS)
    for name, source in zip(names, names[1:] + names[:1], strict=True):
        shutil.copytree(scenes / source, swapped / name)
    (swapped / "green" / "broken.jpg").rename(swapped / "red" / "broken.jpg")  # from red/
    wrong_teacher = train_judge(swapped, tmp_path / "wrong_teacher", TOY_CONFIG, "cpu")
    for weight, accuracy in ((1.0, 0.0), (0.0, 1.0)):
        student = dataclasses.replace(TOY_CONFIG, teacher=str(wrong_teacher), teacher_weight=weight)
        _, info = load_judge(train_judge(scenes, tmp_path / f"student_{weight}", student, "cpu"))
        assert info["validation_accuracy"] == accuracy
        assert info["config"]["teacher"] == str(wrong_teacher)
    reshuffled = train_judge(
        more_photos(scenes, tmp_path / "more_photos"), tmp_path / "other", ONE_EPOCH, "cpu"
    )
    refused = dataclasses.replace(TOY_CONFIG, teacher=str(reshuffled))
    with pytest.raises(JudgeCheckpointError, match="teacher's categories or held-out photos"):
        train_judge(scenes, tmp_path / "refused", refused, "cpu")


def test_the_judge_recipe_is_the_shipped_judges():
    """training/recipes/judge_128x3.json is what `--judge-config` takes to retrain the
    shipped judge: its members have exactly the convolutions judge.onnx holds."""
    recipe = Path(__file__).parents[2] / "training" / "recipes" / "judge_128x3.json"
    members = [JudgeConfig.from_dict(values) for values in json.loads(recipe.read_text())]
    ensemble = JudgeEnsemble([SceneJudge(config, 4) for config in members])
    shipped = onnx.load(str(default_model_dir() / JUDGE_FILE))
    metadata = ModelMetadata.from_props(
        {p.key: p.value for p in shipped.metadata_props}, JUDGE_FILE
    )
    assert (metadata.image_size, metadata.feature_dim) == (128, ensemble.feature_dim)
    assert len(metadata.eval_figures["member_accuracies"]) == len(members) == 3
    shipped_convolutions = {
        init.name: list(init.dims) for init in shipped.graph.initializer if len(init.dims) == 4
    }
    recipe_convolutions = {
        name: list(value.shape) for name, value in ensemble.state_dict().items() if value.ndim == 4
    }
    assert len(recipe_convolutions) == 50
    assert shipped_convolutions == recipe_convolutions


def test_narrow_judges_train_in_the_plain_layout_and_wide_ones_channels_last():
    """oneDNN's channels_last backward corrupts memory with 4- and 8-channel layers."""
    assert training_memory_format(JudgeConfig(widths=(4, 8))) == torch.contiguous_format
    assert training_memory_format(JudgeConfig(widths=(16, 32))) == torch.channels_last
