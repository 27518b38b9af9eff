import numpy as np
import pytest
import soundfile as sf

from tests.long_tracks import peak_rss_mb, write_long_track
from tests.training.synthetic import make_dataset
from training.config import DataConfig, EmbedStageConfig
from training.data import BalancedSampler, ImageBank, MusicBank, split_data
from training.feature_cache import FeatureCache
from visualizer.folders import IMAGE_EXTENSIONS, find_category_files
from visualizer.frontend import FrontEndContract, analyse_signal, decode_file
from visualizer.photos import split_photos


def test_split_by_track_is_disjoint_and_deterministic(tmp_path):
    root = make_dataset(tmp_path / "data", n_categories=3, tracks=5, seconds=0.5, images=6)
    config = DataConfig(validation_fraction=0.4, seed=7)
    first = split_data(root, config)
    again = split_data(root, config)
    train = {path for path, _ in first.train_tracks}
    validation = {path for path, _ in first.validation_tracks}
    assert not train & validation
    assert len(train) == 9 and len(validation) == 6  # 2 of 5 per category validate
    assert first.summary() == again.summary()
    assert first.summary()["validation_track_counts"] == {"cat0": 2, "cat1": 2, "cat2": 2}
    assert not {p for p, _ in first.train_images} & {p for p, _ in first.validation_images}
    # Photos: the one split every stage shares (the judge's held-out photos), seed or not.
    scenes = find_category_files(root / "scenes", IMAGE_EXTENSIONS)
    assert [p for p, _ in first.validation_images] == [
        path for name in scenes.categories for path in split_photos(scenes.files[name])[1]
    ]
    assert len(first.validation_images) == 3  # 20% of 6 photos, 1 per category
    other = split_data(root, DataConfig(validation_fraction=0.4, seed=8))
    assert other.summary()["validation_tracks"] != first.summary()["validation_tracks"]


def test_feature_cache_hits_on_second_read_and_misses_on_new_contract(tmp_path):
    root = make_dataset(tmp_path / "data", n_categories=2, tracks=1, seconds=1.0, images=1)
    track = root / "music" / "cat0" / "track0.wav"
    contract = FrontEndContract()
    cache = FeatureCache(tmp_path / "cache", contract)
    first = np.array(cache.features(track))
    second = np.array(FeatureCache(tmp_path / "cache", contract).features(track))
    assert cache.misses == 1 and cache.hits == 0
    assert first.shape == (2, 1024, 22050 // 512) and first.dtype == np.float16
    np.testing.assert_array_equal(first, second)
    again = FeatureCache(tmp_path / "cache", contract)
    again.features(track)
    assert (again.hits, again.misses) == (1, 0)
    changed = FeatureCache(tmp_path / "cache", FrontEndContract(floor_db=-90.0))
    changed.features(track)
    assert (changed.hits, changed.misses) == (0, 1)


def test_feature_cache_streams_a_long_track_and_equals_analysing_it_whole(tmp_path):
    rng = np.random.default_rng(5)
    time = np.arange(40 * 44_100) / 44_100  # 40 s: several streamed blocks
    signal = 0.3 * np.sin(2 * np.pi * 330 * time * (1 + time / 80)) + 0.05 * rng.standard_normal(
        time.size
    )
    track = tmp_path / "long.wav"
    sf.write(track, signal.astype(np.float32), 44_100, subtype="FLOAT")
    contract = FrontEndContract()
    cached = np.asarray(FeatureCache(tmp_path / "cache", contract).features(track))
    whole, _ = analyse_signal(decode_file(track, contract.sample_rate), contract)
    assert cached.shape == whole.shape == (2, 1024, 40 * 22_050 // 512)
    np.testing.assert_allclose(cached, whole.astype(np.float16), atol=2e-3, rtol=0)


def test_corrupt_track_and_image_are_skipped_and_counted(tmp_path):
    root = make_dataset(tmp_path / "data", n_categories=2, tracks=2, seconds=0.5, images=2)
    (root / "music" / "cat0" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (root / "scenes" / "cat1" / "broken.png").write_bytes(b"not a png at all")
    split = split_data(root, DataConfig(validation_fraction=0.0))
    contract = FrontEndContract()
    skipped: list = []
    tracks = split.train_tracks + split.validation_tracks
    music = MusicBank(tracks, FeatureCache(tmp_path / "c", contract), contract, skipped)
    images = ImageBank(split.train_images + split.validation_images, 16, skipped)
    assert len(music) == 4 and len(images) == 4
    assert sorted(path.name for path, _ in skipped) == ["broken.png", "broken.wav"]


def test_short_track_window_is_preceded_by_silence(tmp_path):
    root = make_dataset(tmp_path / "data", n_categories=2, tracks=1, seconds=1.0, images=1)
    contract = FrontEndContract()
    split = split_data(root, DataConfig(validation_fraction=0.0))
    music = MusicBank(split.train_tracks, FeatureCache(tmp_path / "c", contract), contract, [])
    window = music.window(0, 0)
    frames = 22050 // 512
    assert window.shape == contract.input_shape
    assert np.all(window[0, :, : contract.n_frames - frames] == -1.0)
    assert np.all(window[1, :, : contract.n_frames - frames] == 0.0)
    np.testing.assert_array_equal(window[:, :, -frames:], np.asarray(music.features[0], np.float32))


def test_pitch_shift_by_an_octave_doubles_the_bin():
    from training.augment import pitch_shift

    window = np.zeros((2, 64, 3), dtype=np.float32)
    window[0] = -1.0
    window[0, 10] = 0.5
    shifted = pitch_shift(window, 12.0)
    assert shifted[0, 20, 0] == pytest.approx(0.5)
    assert shifted[0, 10, 0] == -1.0
    down = pitch_shift(window, -12.0)
    assert down[0, 5, 0] == pytest.approx(0.5)
    assert np.all(down[0, 33:] == -1.0)  # the top octave has no source: silence


def test_a_fractional_pitch_shift_interpolates_each_frame_linearly():
    from training.augment import pitch_shift

    window = np.random.default_rng(0).uniform(-1, 1, (2, 64, 5)).astype(np.float32)
    shifted = pitch_shift(window, 3.7)
    source = np.arange(64) / 2 ** (3.7 / 12)  # all inside (shifted up); float32 indices
    for channel in range(2):
        for frame in range(5):
            expected = np.interp(source, np.arange(64), window[channel, :, frame])
            np.testing.assert_allclose(shifted[channel, :, frame], expected, atol=1e-5)
    assert shifted.dtype == np.float32 and not np.shares_memory(shifted, window)


def test_mixing_two_equal_powers_adds_three_db():
    from training.augment import mix_power

    level = np.full((4, 4), 0.5, dtype=np.float32)  # -25 dB at floor -100
    mixed = mix_power(level, level, floor_db=-100.0)
    np.testing.assert_allclose(mixed, 0.5 + 10 * np.log10(2) / 50, atol=1e-6)


def frame_numbered_bank(lengths: list[int], labels: list[int]) -> MusicBank:
    """A MusicBank whose power holds each frame's index and whose phase holds the track's."""
    contract = FrontEndContract()
    music = MusicBank([], None, contract, [])
    for track, (length, label) in enumerate(zip(lengths, labels, strict=True)):
        features = np.zeros((2, 4, length), np.float32)
        features[0] = np.arange(length, dtype=np.float32)
        features[1] = track
        music.features.append(features)
        music.labels.append(label)
    return music


def test_paired_windows_come_from_one_track_within_the_shift():
    n_frames = FrontEndContract().n_frames
    music = frame_numbered_bank([3 * n_frames, 2 * n_frames, n_frames + 40, 5 * n_frames],
                                [0, 0, 1, 1])  # fmt: skip
    images = ImageBank([], 8, [])
    images.pixels = np.zeros((4, 8, 8, 3), np.uint8)
    images.labels = np.array([0, 0, 1, 1])
    sampler = BalancedSampler(music, images, n_classes=2, per_class=4)
    reach = round(0.25 * n_frames)
    rng = np.random.default_rng(3)
    largest = 0
    for _ in range(200):
        windows, labels, _, _ = sampler.sample(rng, pair_shift=0.25)
        assert windows.shape[0] == 8 and labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
        starts, tracks = windows[:, 0, 0, 0], windows[:, 1, 0, 0]
        assert np.array_equal(tracks[0::2], tracks[1::2])
        gaps = np.abs(starts[0::2] - starts[1::2])
        assert gaps.max() <= reach
        largest = max(largest, gaps.max())
        for start, track in zip(starts, tracks.astype(int), strict=True):
            assert 0 <= start <= music.features[track].shape[2] - n_frames
    assert largest == reach  # the whole reach is used
    with pytest.raises(ValueError, match="even per_class"):
        BalancedSampler(music, images, n_classes=2, per_class=3).sample(rng, pair_shift=0.25)


def test_consistency_pairs_need_an_even_per_class():
    with pytest.raises(ValueError, match="per_class must be even"):
        EmbedStageConfig(per_class=3, consistency_weight=1.0)
    assert EmbedStageConfig(per_class=3).consistency_weight == 0.0


def test_feature_cache_of_a_ten_minute_track_stays_under_512_mb(tmp_path):
    track = write_long_track(tmp_path / "long.wav", minutes=10)
    code = (
        "from training.feature_cache import FeatureCache\n"
        "from visualizer.frontend import FrontEndContract\n"
        f"cache = FeatureCache({str(tmp_path / 'cache')!r}, FrontEndContract())\n"
        f"assert cache.features({str(track)!r}).shape == (2, 1024, 10 * 60 * 22050 // 512)\n"
    )
    assert peak_rss_mb(code) < 512
