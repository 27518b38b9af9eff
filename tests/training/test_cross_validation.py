"""Track-grouped folds, pooled CV figures, linear probes and `musicscape train --cv`."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.training.synthetic import make_dataset, write_config
from training.cli import EXIT_FAILED, main
from training.config import DataConfig, TrainConfig, tiny_config
from training.cross_validation import (
    FoldPredictions,
    cv_figures,
    fold_splits,
    remembered_choices,
    stratified_track_folds,
    window_starts,
)
from training.data import split_data
from training.embed_cv import HELD_OUT_SCORES_FILE, PROBE_SCORINGS, SCORINGS, window_keys
from training.probe import (
    PROBE_WEIGHT_DECAYS,
    UNCHOSEN_WEIGHT_DECAY,
    held_out_probabilities,
    nested_weight_decay,
    probe_cv,
    probe_cv_draws,
    split_by_fold,
)


def test_folds_are_stratified_and_balanced():
    labels = [0] * 8 + [1] * 5 + [2] * 3
    folds = stratified_track_folds(labels, 4, seed=7)
    assert sorted(np.bincount(folds).tolist()) == [4, 4, 4, 4]
    for label, count in ((0, 8), (1, 5), (2, 3)):
        per_fold = np.bincount(folds[np.asarray(labels) == label], minlength=4)
        assert per_fold.max() - per_fold.min() <= 1 and per_fold.sum() == count
    assert np.array_equal(folds, stratified_track_folds(labels, 4, seed=7))


def test_fewer_tracks_than_folds_is_refused():
    with pytest.raises(ValueError, match="3 tracks cannot fill 5 folds"):
        stratified_track_folds([0, 1, 1], 5, seed=0)


def test_every_track_is_held_out_exactly_once(tmp_path):
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=5)
    split = split_data(data, DataConfig())
    splits = fold_splits(split, 5, seed=3)
    held = [track for s in splits for track in s.validation_tracks]
    everything = sorted(split.train_tracks + split.validation_tracks)
    assert sorted(held) == everything
    for s in splits:
        assert not set(s.train_tracks) & set(s.validation_tracks)
        assert sorted(s.train_tracks + s.validation_tracks) == everything
        assert s.train_images == split.train_images


def test_cv_figures_by_hand():
    folds = [
        FoldPredictions(np.array([0, 0, 1]), np.array([0, 1, 1]), ["a", "a", "b"]),
        FoldPredictions(np.array([1, 0]), np.array([0, 0]), ["c", "d"]),
    ]
    figures = cv_figures(folds, ("x", "y"))
    assert figures["accuracy"] == pytest.approx(3 / 5)
    assert figures["per_fold_accuracy"] == pytest.approx([2 / 3, 1 / 2])
    assert figures["fold_mean"] == pytest.approx(7 / 12)
    assert figures["fold_std"] == pytest.approx(np.std([2 / 3, 1 / 2], ddof=1))
    assert figures["per_category_accuracy"] == pytest.approx({"x": 2 / 3, "y": 0.5})
    assert figures["balanced_accuracy"] == pytest.approx(7 / 12)
    assert figures["chosen_shares"] == pytest.approx({"x": 0.6, "y": 0.4})
    # a: votes 0,1 -> tie -> 0 (right); b right; c wrong; d right
    assert figures["track_accuracy"] == pytest.approx(3 / 4)
    assert figures["tracks"] == 4 and figures["windows"] == 5


def test_remembered_choices_follow_each_track_through_its_own_memory():
    scores = np.array(
        [[1.0, 0.0], [0.0, 0.6], [0.0, 0.6], [0.0, 1.0], [0.2, 0.0]], dtype=np.float32
    )
    tracks = ["a", "a", "a", "b", "b"]
    # a: [1, 0]; then rate max(1 - e^-0.5, 1/2) = 0.5 -> [0.5, 0.3] (still 0); then rate
    # max(1 - e^-0.5, 1/3) = 0.393 -> [0.303, 0.418] (now 1). b starts afresh: [0, 1], then
    # rate 0.5 -> [0.1, 0.5]: still 1, where the window alone says 0
    assert remembered_choices(scores, tracks, 16.0, 8.0).tolist() == [0, 0, 1, 1, 1]
    assert remembered_choices(scores, tracks, 0.0, 8.0).tolist() == [0, 1, 1, 1, 0]


def test_window_starts_cover_a_track():
    assert window_starts(100, 40, 20) == [0, 20, 40, 60]
    assert window_starts(30, 40, 20) == [0]


def two_category_tracks(informative: float, seed: int = 0):
    """20 tracks of 6 windows, two categories alternating, 8-d features whose first
    dimension is shifted by `informative` for the second category; folds by track % 5."""
    rng = np.random.default_rng(seed)
    tracks = [f"t{i}" for i in range(20) for _ in range(6)]
    labels = np.asarray([i % 2 for i in range(20) for _ in range(6)])
    track_fold = {f"t{i}": i % 5 for i in range(20)}
    features = rng.normal(0, 1, (120, 8)).astype(np.float32)
    features[:, 0] += informative * labels
    return features, labels, tracks, track_fold


def test_a_probe_on_separable_features_is_always_right_and_on_noise_near_chance():
    separable, labels, tracks, track_fold = two_category_tracks(6.0)
    probed = probe_cv(separable, labels, tracks, track_fold, 2, weight_decays=(1e-3,))
    assert probed.chosen_weight_decays == [1e-3] * 5
    np.testing.assert_allclose(probed.probabilities.sum(axis=1), 1.0, atol=1e-5)
    chosen = probed.probabilities.argmax(1)
    figures = cv_figures(split_by_fold(chosen, labels, tracks, track_fold), ("a", "b"))
    assert figures["accuracy"] == 1.0 and figures["per_fold_accuracy"] == [1.0] * 5
    noise, labels, tracks, track_fold = two_category_tracks(0.0, seed=1)
    chosen = probe_cv(noise, labels, tracks, track_fold, 2, (1e-3,)).probabilities.argmax(1)
    figures = cv_figures(split_by_fold(chosen, labels, tracks, track_fold), ("a", "b"))
    assert 0.25 < figures["accuracy"] < 0.75


def test_the_nested_choice_is_the_most_accurate_weight_and_the_smaller_on_a_tie():
    # many track-specific dimensions beside one weakly informative one: the L2 weight matters
    rng = np.random.default_rng(2)
    labels = np.asarray([i % 2 for i in range(20) for _ in range(6)])
    folds = np.asarray([i % 5 for i in range(20) for _ in range(6)])
    features = np.repeat(rng.normal(0, 1, (20, 60)), 6, axis=0) + rng.normal(0, 0.3, (120, 60))
    features[:, 0] = labels + rng.normal(0, 0.5, 120)
    features = features.astype(np.float32)
    candidates = (10.0, 1e-3, 1e-1)
    accuracy = {
        weight: np.mean(
            held_out_probabilities(features, labels, folds, 2, weight).argmax(1) == labels
        )
        for weight in candidates
    }
    assert len(set(accuracy.values())) == 3
    assert nested_weight_decay(features, labels, folds, 2, candidates) == max(
        accuracy, key=accuracy.get
    )
    separable, labels, tracks, track_fold = two_category_tracks(6.0)
    folds = np.asarray([track_fold[t] for t in tracks])
    assert nested_weight_decay(separable, labels, folds, 2, (1e-1, 1e-3)) == 1e-3  # both 1.0


def test_two_folds_leave_nothing_to_choose_by():
    features, labels, tracks, _ = two_category_tracks(6.0)
    halves = {t: int(t[1:]) // 2 % 2 for t in tracks}  # both categories in each half
    probed = probe_cv(features, labels, tracks, halves, 2, PROBE_WEIGHT_DECAYS)
    assert probed.chosen_weight_decays == [UNCHOSEN_WEIGHT_DECAY] * 2
    assert np.mean(probed.probabilities.argmax(1) == labels) == 1.0


def test_a_fold_chooses_its_weight_without_its_own_windows():
    features, labels, tracks, track_fold = two_category_tracks(1.0)
    held = np.asarray([track_fold[t] == 0 for t in tracks])
    before = probe_cv(features, labels, tracks, track_fold, 2, PROBE_WEIGHT_DECAYS)
    scrambled = labels.copy()
    scrambled[held] = 1 - scrambled[held]  # fold 0's answers turned round
    after = probe_cv(features, scrambled, tracks, track_fold, 2, PROBE_WEIGHT_DECAYS)
    assert after.chosen_weight_decays[0] == before.chosen_weight_decays[0]
    np.testing.assert_array_equal(after.probabilities[held], before.probabilities[held])
    assert set(before.chosen_weight_decays) <= set(PROBE_WEIGHT_DECAYS)


def test_each_deal_of_the_folds_is_a_cv_of_its_own_and_the_first_deal_is_the_report():
    features, labels, tracks, _ = two_category_tracks(1.0)
    track_labels = {t: int(label) for t, label in zip(tracks, labels, strict=True)}
    report = probe_cv_draws(features, labels, tracks, track_labels, 5, [3, 4, 5], ("a", "b"), 8.0)
    expected = []
    for seed in (3, 4, 5):
        dealt = stratified_track_folds(list(track_labels.values()), 5, seed)
        track_fold = {t: int(f) for t, f in zip(track_labels, dealt, strict=True)}
        probed = probe_cv(features, labels, tracks, track_fold, 2)
        chosen = probed.probabilities.argmax(1)
        alone = cv_figures(split_by_fold(chosen, labels, tracks, track_fold), ("a", "b"))
        remembered = remembered_choices(probed.probabilities, tracks, 16.0, 8.0)
        memory = cv_figures(split_by_fold(remembered, labels, tracks, track_fold), ("a", "b"))
        expected.append(
            {"seed": seed, "accuracy": alone["accuracy"], "memory_accuracy": memory["accuracy"]}
        )
        if seed == 3:
            assert {key: report[key] for key in alone} == alone
            assert report["memory"] == memory
            assert report["chosen_weight_decays"] == probed.chosen_weight_decays
    assert report["draws"] == expected
    accuracies = [draw["accuracy"] for draw in expected]
    assert len(set(accuracies)) > 1  # the deal alone moves the figure
    assert report["draws_accuracy"] == {
        "mean": pytest.approx(np.mean(accuracies)),
        "std": pytest.approx(np.std(accuracies, ddof=1)),
        "min": min(accuracies),
        "max": max(accuracies),
    }
    one = probe_cv_draws(features, labels, tracks, track_labels, 5, [3], ("a", "b"), 8.0)
    assert one == {key: value for key, value in report.items() if not key.startswith("draws")}
    separable, labels, tracks, _ = two_category_tracks(6.0)
    report = probe_cv_draws(separable, labels, tracks, track_labels, 5, [1, 2], ("a", "b"), 8.0)
    assert report["draws_memory_accuracy"] == {"mean": 1.0, "std": 0.0, "min": 1.0, "max": 1.0}


@pytest.mark.slow
def test_train_cv_writes_pooled_figures_over_every_track(tmp_path, capsys):
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=3, seconds=2.0)
    config = write_config(tmp_path / "tiny.json")
    arguments = [
        "--data", str(data), "--out", str(tmp_path / "cv"), "--config", str(config),
        "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--stages", "embed",
        "--cv", "3",
    ]  # fmt: skip
    # fold 1 alone first, as a process beside the others would: scored, nothing pooled
    assert main([*arguments, "--cv-folds", "1"]) == 0
    fold_1 = tmp_path / "cv" / "fold_1" / "embed" / "latest.pt"
    trained_alone = fold_1.read_bytes()
    assert (tmp_path / "cv" / "fold_1" / HELD_OUT_SCORES_FILE).is_file()
    assert not (tmp_path / "cv" / "fold_0").exists()
    assert not (tmp_path / "cv" / "cv.json").exists()
    assert main(arguments) == 0
    assert fold_1.read_bytes() == trained_alone  # found finished, not trained again
    result = json.loads((tmp_path / "cv" / "cv.json").read_text())
    assert result["k"] == 3 and result["scene_memory_seconds"] == 16.0
    for name in SCORINGS:
        assert result[name]["tracks"] == 6 and result[name]["folds"] == 3
        assert len(result[name]["per_fold_accuracy"]) == 3
        assert sum(result[name]["chosen_shares"].values()) == pytest.approx(1.0)
    assert result["epoch"] == 2 and len(result["tonal_probe_weight_decays"]) == 3
    for name in PROBE_SCORINGS:  # the tonal probe beside the encoder, on the same windows
        assert result[name]["tracks"] == 6 and result[name]["folds"] == 3
        assert result[name]["windows"] == result["retrieval"]["windows"]
    # the config's blend weight (the default, 0.5) is the sweep's entry of that weight
    assert result["tonal_probe_blend_weight"] == 0.5
    for suffix in ("", "_memory"):
        blended = result[f"centred_and_tonal_probe{suffix}"]
        assert blended == result[f"centred_and_tonal_probe_x0.5{suffix}"]
    # scoring the folds' epoch-2 checkpoints (the last) again gives the same figures
    assert main([*arguments, "--cv-epoch", "2"]) == 0
    again = json.loads((tmp_path / "cv" / "cv_epoch_002.json").read_text())
    for name in (*SCORINGS, *PROBE_SCORINGS):
        assert again[name] == result[name]
    assert main([*arguments, "--cv-epoch", "3"]) == EXIT_FAILED
    assert "fold 0 has no epoch 3" in capsys.readouterr().err
    for fold in range(3):
        assert (tmp_path / "cv" / f"fold_{fold}" / "embed" / "latest.pt").is_file()
        # the saved scores are the ones the fold's figures were read from
        saved = np.load(tmp_path / "cv" / f"fold_{fold}" / HELD_OUT_SCORES_FILE)
        assert saved["raw"].shape == saved["centred"].shape == (len(saved["labels"]), 2)
        assert len(set(saved["tracks"].tolist())) == 2
        for scores, name in ((saved["raw"], "retrieval"), (saved["centred"], "retrieval_centred")):
            accuracy = np.mean(scores.argmax(1) == saved["labels"])
            assert accuracy == pytest.approx(result[name]["per_fold_accuracy"][fold])


CV_FOLDS_REFUSAL = "needs --cv K --stages embed and folds from 0 to K-1"
CV_EPOCH_REFUSAL = "needs --cv K --stages embed and an epoch from 1"
CV_DRAWS_REFUSAL = "needs --cv K --stages pretrain and a number of deals from 1"


@pytest.mark.parametrize(
    ("extra", "refusal"),
    [
        (["--cv", "5"], "--cv K needs K >= 2, --stages embed or pretrain"),
        (["--cv", "3", "--stages", "embed", "--cv-folds", "3"], CV_FOLDS_REFUSAL),
        (["--cv", "3", "--stages", "embed", "--cv-folds", "0,x"], CV_FOLDS_REFUSAL),
        (["--cv", "3", "--stages", "embed", "--cv-folds", ","], CV_FOLDS_REFUSAL),
        (["--cv", "3", "--stages", "pretrain", "--cv-folds", "0"], CV_FOLDS_REFUSAL),
        (["--stages", "embed", "--cv-folds", "0"], CV_FOLDS_REFUSAL),
        (["--stages", "embed", "--cv-epoch", "2"], CV_EPOCH_REFUSAL),
        (["--cv", "3", "--stages", "pretrain", "--cv-epoch", "2"], CV_EPOCH_REFUSAL),
        (["--cv", "3", "--stages", "embed", "--cv-epoch", "0"], CV_EPOCH_REFUSAL),
        (["--cv", "3", "--stages", "embed", "--cv-draws", "2"], CV_DRAWS_REFUSAL),
        (["--cv", "3", "--stages", "pretrain", "--cv-draws", "0"], CV_DRAWS_REFUSAL),
        (["--stages", "pretrain", "--cv-draws", "2"], CV_DRAWS_REFUSAL),
    ],
)
def test_cv_options_out_of_place_are_refused_before_anything_is_written(
    tmp_path, capsys, extra, refusal
):
    code = main(["--data", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    assert code == 2
    assert refusal in capsys.readouterr().err
    assert not Path(tmp_path / "o").exists()


@pytest.mark.slow
def test_train_cv_of_pretraining_probes_four_representations(tmp_path):
    data = make_dataset(tmp_path / "data", n_categories=2, tracks=3, seconds=2.0)
    values = tiny_config(16).to_dict()
    values["pretrain"] = {
        "crop_frames": 32, "batch_tracks": 3, "head_hidden": 8, "head_dim": 4,
        "steps_per_epoch": 2, "epochs": 1,
    }  # fmt: skip
    config = write_config(tmp_path / "tiny.json", TrainConfig.from_dict(values))
    code = main(
        ["--data", str(data), "--out", str(tmp_path / "cv"), "--config", str(config),
         "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--stages", "pretrain",
         "--cv", "3", "--cv-draws", "2"]
    )  # fmt: skip
    assert code == 0
    result = json.loads((tmp_path / "cv" / "cv.json").read_text())
    assert result["probe_weight_decays"] == list(PROBE_WEIGHT_DECAYS)
    assert result["draws"] == 2
    assert result["scene_memory_seconds"] == 16.0
    for name in (
        "spectral_summary", "tonal_rhythm_summary", "random_encoder", "pretrained_encoder"
    ):  # fmt: skip
        assert result[name]["tracks"] == 6 and result[name]["folds"] == 3
        assert result[name]["memory"]["tracks"] == 6 and result[name]["memory"]["folds"] == 3
        assert len(result[name]["chosen_weight_decays"]) == 3
        assert set(result[name]["chosen_weight_decays"]) <= set(PROBE_WEIGHT_DECAYS)
        seed = result["seed"]
        assert [draw["seed"] for draw in result[name]["draws"]] == [seed, seed + 1]
        assert result[name]["draws"][0]["accuracy"] == result[name]["accuracy"]
        assert result[name]["draws"][0]["memory_accuracy"] == result[name]["memory"]["accuracy"]
    # the synthetic categories are tones two octaves apart: the band means tell them apart
    assert result["spectral_summary"]["accuracy"] == 1.0
    assert result["spectral_summary"]["draws_accuracy"]["min"] == 1.0
    assert (tmp_path / "cv" / "pretrain" / "latest.pt").is_file()


def test_the_shipped_encoders_settings_are_a_recipe():
    """training/recipes/embed_shipped_settings.json is what `--config` takes to train (or
    cross-validate) the joint embedding with the bundled encoder's settings."""
    recipe = Path(__file__).parents[2] / "training" / "recipes" / "embed_shipped_settings.json"
    config = TrainConfig.from_dict(json.loads(recipe.read_text()))
    assert config.data.extra_music == ("music-extra",)
    augment = config.data.augment
    assert (augment.gain_db, augment.tilt_db, augment.max_semitones) == (6.0, 3.0, 0.5)
    assert augment.mix_probability == 0.1
    embed = config.embed
    assert (embed.music.lstm_hidden, embed.per_class, embed.epochs) == (128, 6, 30)
    assert (embed.loss, config.data.seed) == ("dssje", 1234)


def test_window_keys_name_each_window_by_its_track_and_place():
    assert window_keys(["a", "b", "a", "a", "b"]) == [
        ("a", 0), ("b", 0), ("a", 1), ("a", 2), ("b", 1)
    ]  # fmt: skip
