"""`musicscape eval` on a tiny model directory whose figures are known by construction.

See tiny_models.py: retrieval picks the loudest category tone; the generator paints the
retrieved category's colour except that water music paints sky's; the judge names the
nearest colour. Tracks: desert/d1 4 windows of desert; sky/s1 1 padded window of sky;
water/w1 5 windows retrieved water, water, desert, desert, desert; water/broken.wav unreadable.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from itertools import combinations

import numpy as np
import pytest

from tests.eval import tiny_models
from tests.eval.tiny_models import COLOUR_LEVELS, level_to_unit, photo_levels
from visualizer.eval import cli as evaluate_cli
from visualizer.eval.config import EvalConfig, EvaluationError
from visualizer.eval.evaluate import evaluate
from visualizer.eval.report import format_summary
from visualizer.metrics import frechet_distance
from visualizer.model_files import GENERATOR_FILE, JUDGE_FILE, ModelFileError


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    return {
        "models": tiny_models.build_model_dir(root / "models"),
        "music": tiny_models.build_music_dir(root / "music"),
        "scenes": tiny_models.build_scenes_dir(root / "scenes"),
        "root": root,
    }


@pytest.fixture(scope="module")
def result(data):
    return evaluate(data["models"], data["music"], data["scenes"], "all", EvalConfig(threads=1))


def test_retrieval_and_generation_figures_match_the_construction(result):
    assert result["categories"] == ["desert", "sky", "water"]
    assert result["tracks"] == 3
    assert result["windows"] == 10
    assert result["retrieval"]["accuracy"] == pytest.approx(0.7)
    assert result["retrieval"]["per_category"] == pytest.approx(
        {"desert": 1.0, "sky": 1.0, "water": 0.4}
    )
    # 4 desert + 3 of the 5 water windows are retrieved as desert
    assert result["retrieval"]["chosen_share"] == pytest.approx(
        {"desert": 0.7, "sky": 0.1, "water": 0.2}
    )
    generation = result["generation"]
    # rows = music category, columns = judge's category (in the encoder's order), 4 draws each
    assert generation["confusion"] == [[16, 0, 0], [0, 4, 0], [12, 8, 0]]
    assert generation["accuracy"] == pytest.approx(0.5)
    # the confusion's column sums over its 40 answers
    assert generation["chosen_share"] == pytest.approx({"desert": 0.7, "sky": 0.3, "water": 0.0})
    # water's mean feature is 0.4 water + 0.6 desert -> a desert-like colour -> judged desert
    assert generation["centroid_accuracy"] == pytest.approx(2 / 3)
    assert generation["centroid_per_category"] == {"desert": 1.0, "sky": 1.0, "water": 0.0}
    assert generation["centroid_draws"] == EvalConfig().centroid_draws
    assert (
        "centroid accuracy  0.667  (256 draws each: desert 1.000, sky 1.000, water 0.000)"
        in format_summary(result)
    )
    # desert track: 3 of 3 pairs agree; water track: 3 of 4; the 1-window sky track has none
    assert generation["stability"] == pytest.approx(6 / 7)


def test_without_scene_memory_the_per_window_figures_are_the_figures(result):
    assert result["scene_memory_seconds"] == 0.0
    per_window = result["per_window"]
    assert per_window["retrieval_accuracy"] == pytest.approx(result["retrieval"]["accuracy"])
    assert per_window["retrieval_chosen_share"] == result["retrieval"]["chosen_share"]
    assert per_window["stability"] == pytest.approx(6 / 7)


def test_windows_are_read_through_the_models_scene_memory(data, capsys):
    models = tiny_models.build_model_dir(data["root"] / "models_memory", scene_memory_seconds=3.0)
    result = evaluate(models, data["music"], None, "all", EvalConfig(threads=1))
    assert result["scene_memory_seconds"] == 3.0
    # water/w1 windows (1 s apart) alone: W W D D D. Remembered over 3 s, the third window
    # holds 1/3 of its desert feature (the running mean of three), so it stays water:
    # W W W D D, and the fourth turns desert (0.478 water, 0.522 desert).
    assert result["retrieval"]["per_category"] == pytest.approx(
        {"desert": 1.0, "sky": 1.0, "water": 0.6}
    )
    assert result["retrieval"]["chosen_share"] == pytest.approx(
        {"desert": 0.6, "sky": 0.1, "water": 0.3}
    )
    assert result["per_window"]["retrieval_accuracy"] == pytest.approx(0.7)
    assert result["generation"]["stability"] == pytest.approx(6 / 7)  # one switch either way
    assert "scene memory       3 s  (each window alone: retrieval 0.700" in format_summary(result)
    assert _cli("--models", str(models), "--music", str(data["music"]), "--scene-memory", "0") == 0
    assert "scene memory       0 s" in capsys.readouterr().out


def test_tracks_a_probe_heard_are_named_in_the_summary(result):
    # the tiny encoder carries no probe: no track it held out was heard
    assert result["heard_by_probe"] == []
    assert "heard by its category probe" not in format_summary(result)
    heard = {**result, "heard_by_probe": ["water/w1.wav", "sky/s0.wav"]}
    assert format_summary(heard).splitlines()[1] == (
        "2 of these tracks were held out from the encoder but heard by its category probe "
        "(fitted on every labelled track): not unheard music"
    )


def test_unreadable_track_is_skipped_and_reported(result):
    assert [entry["path"].rsplit("/", 2)[-2:] for entry in result["skipped_tracks"]] == [
        ["water", "broken.wav"]
    ]
    assert "broken.wav" in result["skipped_tracks"][0]["reason"]
    assert "skipped: " in format_summary(result)


def test_diversity_and_fid_use_the_judges_held_out_photos(result):
    assert result["real_photos"]["source"] == "held-out"
    assert result["real_photos"]["photos"] == 6
    assert result["real_photos"]["judge_accuracy"] == 1.0

    def feature(levels):
        return level_to_unit(levels).astype(np.float64)

    real = {name: [feature(photo_levels(name, s)) for s in (0, 1)] for name in COLOUR_LEVELS}
    desert, sky = feature(COLOUR_LEVELS["desert"]), feature(COLOUR_LEVELS["sky"])
    # generated images of water music: 8 in sky's colour, 12 in desert's
    water_generated = [sky] * 8 + [desert] * 12
    pair_mean = np.mean([np.linalg.norm(a - b) for a, b in combinations(water_generated, 2)])
    water_ratio = pair_mean / np.linalg.norm(real["water"][0] - real["water"][1])
    generation = result["generation"]
    assert generation["diversity_per_category"] == pytest.approx(
        {"desert": 0.0, "sky": 0.0, "water": water_ratio}, rel=1e-5, abs=1e-6
    )
    assert generation["diversity"] == pytest.approx(water_ratio / 3, rel=1e-5)

    generated = np.array([desert] * 16 + [sky] * 4 + water_generated)
    photos = np.array([row for name in ("desert", "sky", "water") for row in real[name]])
    assert generation["fid_judge"] == pytest.approx(frechet_distance(generated, photos), rel=1e-4)
    # the music's mix is desert 16, sky 4, water 20 of 40 pictures; 2 photos each of 6
    music_mix_weights = np.repeat([6 * 16 / 40 / 2, 6 * 4 / 40 / 2, 6 * 20 / 40 / 2], 2)
    assert generation["fid_judge_mix_matched"] == pytest.approx(
        frechet_distance(generated, photos, music_mix_weights), rel=1e-4
    )
    assert generation["fid_judge_mix_floor"] == pytest.approx(
        frechet_distance(photos, photos, music_mix_weights), rel=1e-4, abs=1e-6
    )
    assert "photos in the music's category mix" in format_summary(result)


def test_without_scenes_the_photo_figures_are_absent(data):
    result = evaluate(data["models"], data["music"], None, "all", EvalConfig(threads=1))
    assert result["generation"]["diversity"] is None
    assert result["generation"]["fid_judge"] is None
    assert result["generation"]["fid_judge_mix_matched"] is None
    assert "(needs --scenes)" in format_summary(result)


def test_a_music_category_without_photos_leaves_only_the_mix_figures_empty(data, tmp_path):
    import shutil

    scenes = tmp_path / "scenes"
    shutil.copytree(data["scenes"], scenes)
    shutil.rmtree(scenes / "sky")
    result = evaluate(data["models"], data["music"], scenes, "all", EvalConfig(threads=1))
    generation = result["generation"]
    assert result["real_photos"]["photos"] == 4
    assert generation["fid_judge_mix_matched"] is None
    assert generation["fid_judge_mix_floor"] is None
    desert, sky = (
        level_to_unit(COLOUR_LEVELS[name]).astype(np.float64) for name in ("desert", "sky")
    )
    generated = np.array([desert] * 16 + [sky] * 4 + [sky] * 8 + [desert] * 12)
    photos = np.array(
        [level_to_unit(photo_levels(name, s)) for name in ("desert", "water") for s in (0, 1)],
        dtype=np.float64,
    )
    assert generation["fid_judge"] == pytest.approx(frechet_distance(generated, photos), rel=1e-4)
    assert "photos in the music's category mix" not in format_summary(result)


@pytest.mark.parametrize(
    ("subset", "windows", "accuracy"), [("train", 9, 6 / 9), ("validation", 1, 1.0)]
)
def test_subset_selects_the_encoders_listed_tracks(data, subset, windows, accuracy):
    result = evaluate(data["models"], data["music"], None, subset, EvalConfig(threads=1))
    assert result["windows"] == windows
    assert result["retrieval"]["accuracy"] == pytest.approx(accuracy)


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    evaluate_cli.add_arguments(parser)
    return evaluate_cli.run(parser.parse_args(list(argv)))


def test_cli_writes_json_and_prints_the_table(data, capsys):
    out = data["root"] / "report.json"
    code = _cli("--models", str(data["models"]), "--music", str(data["music"]), "--json", str(out))
    assert code == 0
    written = json.loads(out.read_text())
    assert written["generation"]["confusion"] == [[16, 0, 0], [0, 4, 0], [12, 8, 0]]
    printed = capsys.readouterr().out
    assert "water" in printed and "0.700" in printed
    assert "min share      0.100       0.000" in printed


def test_sample_grid_draws_each_categorys_windows_in_track_order(data, capsys):
    from PIL import Image

    out = data["root"] / "samples.png"
    code = _cli("--models", str(data["models"]), "--music", str(data["music"]),
                "--samples", str(out), "--threads", "1")  # fmt: skip
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    grid = np.asarray(Image.open(out))
    size = tiny_models.IMAGE_SIZE
    assert grid.shape == (3 * size, 8 * size, 3)
    # desert: 4 windows, all desert; sky: its 1 window repeated; water: 8 of its 5 windows
    # (0 1 1 2 2 3 3 4), of which windows 0-1 paint sky's colour and 2-4 desert's
    expected = [["desert"] * 8, ["sky"] * 8, ["sky"] * 3 + ["desert"] * 5]
    for row, names in enumerate(expected):
        for column, name in enumerate(names):
            cell = grid[row * size : (row + 1) * size, column * size : (column + 1) * size]
            np.testing.assert_allclose(
                cell.reshape(-1, 3).mean(axis=0), COLOUR_LEVELS[name], atol=2
            )


def test_sample_grid_at_display_size_shows_each_picture_as_the_app_does(data, tmp_path):
    import shutil

    from PIL import Image

    from tests.test_upscale import METADATA, save_upscaler
    from visualizer.resize import Filter, resize_rgb8

    size = tiny_models.IMAGE_SIZE

    def grid(models, big: int | None) -> np.ndarray:
        out = tmp_path / f"samples_{models.name}_{big}.png"
        argv = ["--models", str(models), "--music", str(data["music"]), "--samples", str(out)]
        assert _cli(*argv, *(["--sample-size", str(big)] if big else [])) == 0
        return np.asarray(Image.open(out))

    def cells(pixels: np.ndarray, side: int) -> list[np.ndarray]:
        rows, columns = pixels.shape[0] // side, pixels.shape[1] // side
        return [
            pixels[r * side : (r + 1) * side, c * side : (c + 1) * side]
            for r in range(rows)
            for c in range(columns)
        ]

    native = cells(grid(data["models"], None), size)
    # Without upscaler.onnx: each picture by bicubic resize, as the app enlarges it.
    resized = grid(data["models"], 3 * size)
    assert resized.shape == (3 * 3 * size, 8 * 3 * size, 3)
    for small, big in zip(native, cells(resized, 3 * size), strict=True):
        np.testing.assert_array_equal(big, resize_rgb8(small, 3 * size, Filter.BICUBIC))
    # With one (nearest x2): each picture through it.
    learned_dir = tmp_path / "learned"
    shutil.copytree(data["models"], learned_dir)
    save_upscaler(learned_dir, METADATA)
    doubled = cells(grid(learned_dir, 2 * size), 2 * size)
    for small, big in zip(native, doubled, strict=True):
        np.testing.assert_array_equal(big, np.repeat(np.repeat(small, 2, axis=0), 2, axis=1))
    assert _cli("--models", str(data["models"]), "--music", str(data["music"]),
                "--samples", str(tmp_path / "x.png"), "--sample-size", "0") == 1  # fmt: skip


def test_eval_does_not_import_torch(data):
    script = (
        "import sys\n"
        "from visualizer.eval.config import EvalConfig\n"
        "from visualizer.eval.evaluate import evaluate\n"
        f"evaluate({str(data['models'])!r}, {str(data['music'])!r}, None, 'all', "
        "EvalConfig(threads=1))\n"
        "assert 'torch' not in sys.modules, 'eval imported torch'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def _copy_models(data, destination):
    destination.mkdir()
    for path in data["models"].iterdir():
        (destination / path.name).write_bytes(path.read_bytes())
    return destination


def test_missing_model_file_is_refused(data, tmp_path, capsys):
    models = _copy_models(data, tmp_path / "models")
    (models / JUDGE_FILE).unlink()
    with pytest.raises(ModelFileError, match="judge.onnx: missing from "):
        evaluate(models, data["music"])
    assert _cli("--models", str(models), "--music", str(data["music"])) == 1
    assert "judge.onnx: missing from " in capsys.readouterr().err


def test_model_without_metadata_is_refused(data, tmp_path):
    models = _copy_models(data, tmp_path / "models")
    tiny_models.build_encoder(models / "music_encoder.onnx", None)
    with pytest.raises(ModelFileError, match="music_encoder.onnx: not a musicscape model"):
        evaluate(models, data["music"])


def test_generator_with_other_categories_is_refused(data, tmp_path):
    models = _copy_models(data, tmp_path / "models")
    tiny_models.build_generator(
        models / GENERATOR_FILE, tiny_models.metadata(categories=("desert", "sky", "forest"))
    )
    with pytest.raises(ModelFileError, match="generator.onnx: its categories .* does not match"):
        evaluate(models, data["music"])


def test_music_category_unknown_to_the_model_is_refused(data, tmp_path):
    music = tmp_path / "music"
    (music / "forest").mkdir(parents=True)
    (music / "desert").mkdir()
    for name in ("forest", "desert"):
        (music / name / "a.wav").write_bytes((data["music"] / "desert" / "d1.wav").read_bytes())
    with pytest.raises(EvaluationError, match=r"music categories \['forest'\] are not among"):
        evaluate(data["models"], music)


def test_no_readable_track_is_refused(data, tmp_path):
    music = tmp_path / "music"
    for name in ("desert", "sky"):
        (music / name).mkdir(parents=True)
        (music / name / "bad.ogg").write_bytes(b"OggS garbage")
    with pytest.raises(EvaluationError, match="none of the 2 tracks could be read"):
        evaluate(data["models"], music)


def test_subset_without_a_track_list_is_refused(data, tmp_path):
    models = _copy_models(data, tmp_path / "models")
    tiny_models.build_encoder(models / "music_encoder.onnx", tiny_models.metadata())
    with pytest.raises(EvaluationError, match="no 'validation_tracks' list"):
        evaluate(models, data["music"], subset="validation")


def test_several_music_folders_are_evaluated_together(data, tmp_path):
    extra = tmp_path / "music-extra"
    for name, source in (("sky", "sky/s1.wav"), ("desert", "desert/d1.wav")):
        (extra / name).mkdir(parents=True)
        (extra / name / "copy.wav").write_bytes((data["music"] / source).read_bytes())
    result = evaluate(data["models"], [data["music"], extra], None, "all", EvalConfig(threads=1))
    assert (result["tracks"], result["windows"]) == (5, 15)
    assert result["retrieval"]["accuracy"] == pytest.approx(12 / 15)


def test_judge_with_another_input_size_gets_resized_images(data, tmp_path):
    models = _copy_models(data, tmp_path / "models")
    tiny_models.build_judge(
        models / JUDGE_FILE,
        tiny_models.metadata(categories=tiny_models.JUDGE_CATEGORIES, image_size=4),
    )
    result = evaluate(models, data["music"], None, "all", EvalConfig(threads=1))
    assert result["generation"]["confusion"] == [[16, 0, 0], [0, 4, 0], [12, 8, 0]]


def test_feel_figures_follow_the_grade_on_flat_pictures(result):
    """The tiny generator paints flat colours, so every graded setting draws the L* and b*
    it asks (up to uint8 rounding): r close to 1. A flat colour has no spread around its
    mean to scale, so its chroma follows only the mean colour: r is reported, not near 1."""
    feel = result["feel"]
    assert feel["settings"] == 16 and feel["draws_per_setting"] == 256
    assert feel["strength"] == 0.5
    for name in ("lightness", "yellowness"):
        assert feel["asked_vs_drawn"][name] > 0.99, name
    assert -1.0 <= feel["asked_vs_drawn"]["chroma"] <= 1.0
    assert -1.0 <= feel["music_to_picture_spearman"] <= 1.0
    assert "feel               music vs picture" in format_summary(result)


def test_feel_at_strength_zero_asks_for_nothing(data):
    config = EvalConfig(threads=1, feel_strength=0.0, feel_draws=8, centroid_draws=8)
    feel = evaluate(data["models"], data["music"], None, "all", config)["feel"]
    assert feel["asked_vs_drawn"] == {"lightness": None, "chroma": None, "yellowness": None}


def test_negative_threads_are_refused():
    with pytest.raises(ValueError, match="threads must be >= 0"):
        EvalConfig(threads=-1)


@pytest.mark.parametrize(
    ("option", "name", "reason"),
    [
        ("--json", "notes.txt/report.json", "{root}/notes.txt is not a folder"),
        ("--json", "a_folder", "{root}/a_folder is a folder"),
        ("--samples", "grid.txt", "Pillow writes no picture format named '.txt' (use .png)"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_any_work(
    data, tmp_path, capsys, option, name, reason
):
    (tmp_path / "notes.txt").write_text("mine\n")
    (tmp_path / "a_folder").mkdir()
    target = tmp_path / name
    code = _cli("--models", str(data["models"]), "--music", str(data["music"]), option, str(target))
    assert code == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"musicscape eval: {option}: cannot write {target}: {reason.format(root=tmp_path)}\n"
    )
    assert captured.out == ""  # refused before anything was measured
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_a_bad_upscaler_is_refused_before_any_work_when_samples_need_it(data, tmp_path, capsys):
    models = _copy_models(data, tmp_path / "models")
    (models / "upscaler.onnx").write_bytes(b"not a model")
    out = tmp_path / "samples.png"
    argv = ["--models", str(models), "--music", str(data["music"]), "--samples", str(out)]
    assert _cli(*argv, "--sample-size", "64") == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("musicscape eval: upscaler.onnx: not a readable ONNX model")
    assert captured.out == "" and not out.exists()
    assert _cli(*argv) == 0  # at the generator's own size the upscaler plays no part
    assert out.is_file()


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        (["--draws", "0"], "--draws must be 1-10000 per window, got 0"),
        (["--seed", "-5"], "--seed must be 0-4294967295, got -5"),
        (
            ["--scene-memory", "nan"],
            "--scene-memory must be 0-3600 seconds (0: each window alone), got nan",
        ),
        (["--feel", "3"], "--feel must be 0-1 (0: off), got 3.0"),
        (["--sample-size", "4096"], "--sample-size must be 1-2048 pixels, got 4096"),
    ],
)
def test_numbers_out_of_range_are_refused_in_one_line_naming_the_option(
    data, capsys, option, reason
):
    assert _cli("--models", str(data["models"]), "--music", str(data["music"]), *option) == 1
    captured = capsys.readouterr()
    assert (captured.err, captured.out) == (f"musicscape eval: {reason}\n", "")


def test_nan_and_infinite_samples_are_read_as_silence_and_listed(data, tmp_path):
    import shutil

    import soundfile as sf

    music = tmp_path / "music"
    shutil.copytree(data["music"], music)
    samples = tiny_models.tone("sky", 1.0).astype(np.float32)
    samples[100:160] = np.nan
    samples[500:540] = -np.inf
    spoilt = music / "sky" / "s2.wav"
    sf.write(spoilt, samples, tiny_models.CONTRACT.sample_rate, subtype="FLOAT")
    result = evaluate(data["models"], music, config=EvalConfig(threads=1))
    assert result["nonfinite_tracks"] == [{"path": str(spoilt), "samples": 100}]
    assert result["tracks"] == 4  # the track is measured, its bad samples as silence
    assert f"NaN/inf: {spoilt}: 100 samples read as silence" in format_summary(result).splitlines()
