"""`musicscape eval` streams each track (memory does not grow with its length) and skips a
track damaged at its start or midway, naming it, while the others are measured."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.bad_files import write_flac_with_a_damaged_comment_block
from tests.eval import tiny_models
from tests.long_tracks import peak_rss_mb, write_long_track
from visualizer.eval.config import EvalConfig
from visualizer.eval.evaluate import evaluate
from visualizer.eval.model_set import ModelSet, generate_and_judge, load_model_set
from visualizer.eval.tracks import encode_tracks, track_windows
from visualizer.frontend import AudioFileReader, FrontEndContract, analyse_signal, decode_file


def test_streamed_windows_equal_the_windows_of_the_whole_track(tmp_path):
    contract = FrontEndContract()
    rng = np.random.default_rng(1)
    path = tmp_path / "track.wav"
    sf.write(path, (0.2 * rng.standard_normal(45 * 44_100)).astype(np.float32), 44_100)
    hop = 344
    with AudioFileReader(path, contract.sample_rate) as reader:
        streamed = [np.array(window) for window in track_windows(reader, contract, hop)]
    features, _ = analyse_signal(decode_file(path, contract.sample_rate), contract)
    starts = range(0, features.shape[2] - contract.n_frames + 1, hop)
    assert len(streamed) == len(starts) == 4
    for window, start in zip(streamed, starts, strict=True):
        expected = features[:, :, start : start + contract.n_frames]
        np.testing.assert_allclose(window[0], expected[0], atol=1e-5)
        phase = np.abs(window[1] - expected[1])
        assert np.minimum(phase, 2.0 - phase).max() <= 1e-4  # it wraps at +-1


@pytest.fixture
def eval_dirs(tmp_path):
    return {
        "models": tiny_models.build_model_dir(tmp_path / "models"),
        "music": tiny_models.build_music_dir(tmp_path / "music"),
        "scenes": tiny_models.build_scenes_dir(tmp_path / "scenes"),
    }


def test_tracks_damaged_at_the_start_or_midway_are_skipped_by_name(eval_dirs):
    music = eval_dirs["music"]
    rate = tiny_models.CONTRACT.sample_rate
    flac = write_flac_with_a_damaged_comment_block(music / "desert" / "flipped.flac", rate)
    loud = np.concatenate([tiny_models.tone("sky", 40.0), tiny_models.tone("sky", 1.0)])
    loud[-rate // 2] = 5.7e29  # 40.5 s in
    sf.write(music / "sky" / "loud.wav", loud, rate, subtype="FLOAT")
    result = evaluate(eval_dirs["models"], music, eval_dirs["scenes"], "all", EvalConfig(threads=1))
    skipped = {entry["path"]: entry["reason"] for entry in result["skipped_tracks"]}
    assert sorted(skipped) == sorted(
        str(path) for path in (flac, music / "sky" / "loud.wav", music / "water" / "broken.wav")
    )
    assert skipped[str(flac)].startswith(f"{flac}: decoding failed near 0.0 s")
    assert skipped[str(music / "sky" / "loud.wav")].startswith(
        f"{music / 'sky' / 'loud.wav'}: decoded samples reach 5.7e+29 near 40.5 s"
    )
    assert result["tracks"] == 3 and result["windows"] == 10


def test_peak_memory_of_eval_does_not_grow_with_a_tracks_length(eval_dirs, tmp_path):
    def peak_with_a_long_track(minutes: int) -> float:
        music = tmp_path / f"music_{minutes}"
        (music / "desert").mkdir(parents=True)
        (music / "sky").mkdir()
        sf.write(
            music / "sky" / "s1.wav", tiny_models.tone("sky", 1.0), tiny_models.CONTRACT.sample_rate
        )
        frequency = tiny_models.tone_frequency("desert")
        write_long_track(music / "desert" / "long.wav", minutes, frequency)
        code = (
            "from pathlib import Path\n"
            "from visualizer.eval.config import EvalConfig\n"
            "from visualizer.eval.evaluate import evaluate\n"
            f"models = Path({str(eval_dirs['models'])!r})\n"
            f"scenes = Path({str(eval_dirs['scenes'])!r})\n"
            f"config = EvalConfig(threads=1, draws_per_window=1)\n"
            f"result = evaluate(models, Path({str(music)!r}), scenes, 'all', config)\n"
            # 2-s windows 1 s apart: minutes * 60 - 1 of the long track, 1 of the short one
            f"assert result['windows'] == {minutes * 60}, result['windows']\n"
        )
        return peak_rss_mb(code)

    short, long = peak_with_a_long_track(2), peak_with_a_long_track(20)
    # Whole-track analysis held ~10 bytes of features per sample: 20 minutes added ~90 MB.
    assert long - short < 15, (short, long)


class RecordsBatchSizes:
    """A model session that records the batch size of every run it passes on."""

    def __init__(self, session):
        self.session = session
        self.batch_sizes: list[int] = []

    def __getattr__(self, name):
        return getattr(self.session, name)

    def run(self, outputs, inputs):
        self.batch_sizes.append(len(next(iter(inputs.values()))))
        return self.session.run(outputs, inputs)


def test_every_model_run_of_eval_holds_at_most_batch_items(eval_dirs):
    models = load_model_set(eval_dirs["models"], threads=1)
    recorded = ModelSet(
        *(RecordsBatchSizes(s) for s in (models.encoder, models.generator, models.judge))
    )
    features = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    rng = np.random.default_rng(1)
    categories, _ = generate_and_judge(recorded, features, 256, rng, 4)  # as for a centroid
    assert len(categories) == 768
    assert recorded.generator.batch_sizes == recorded.judge.batch_sizes == [4] * 192
    music = encode_tracks(
        [(eval_dirs["music"] / "water" / "w1.wav", 2)], recorded, EvalConfig(batch=4), 0.0
    )
    assert len(music.tracks[0].retrieved) == 5 and recorded.encoder.batch_sizes == [4, 1]
