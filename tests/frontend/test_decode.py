"""Decoding real files in every format soundfile writes, and every kind of bad input."""

import os
import re

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from tests.bad_files import write_flac_with_a_damaged_comment_block, write_ogg_cut_short
from visualizer.frontend import (
    AudioFileReader,
    CorruptAudioError,
    EmptyAudioError,
    FrontEndContract,
    NotAnAudioFileError,
    UnsupportedAudioError,
    decode_file,
)
from visualizer.frontend.decode import ogg_cut_short

RATE = FrontEndContract().sample_rate


def tone(frequency: float, seconds: float, rate: int, channels: int, amplitude=0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    mono = amplitude * np.sin(2 * np.pi * frequency * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def write_in_blocks(path, data, rate, **format_args):
    """soundfile segfaults writing long Ogg in one call: write one second at a time."""
    with sf.SoundFile(path, "w", rate, data.shape[1], **format_args) as handle:
        for start in range(0, len(data), rate):
            handle.write(data[start : start + rate])


def dominant_frequency(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * rate / len(signal))


FORMATS = [
    # (file name, source rate, channels, soundfile format args, amplitude tolerance)
    ("stereo_44k.wav", 44_100, 2, {"format": "WAV", "subtype": "PCM_16"}, 0.01),
    ("mono_48k.flac", 48_000, 1, {"format": "FLAC", "subtype": "PCM_24"}, 0.01),
    ("mono_8k.wav", 8_000, 1, {"format": "WAV", "subtype": "FLOAT"}, 0.01),
    ("surround_192k.wav", 192_000, 6, {"format": "WAV", "subtype": "PCM_24"}, 0.01),
    ("dxd_352k.flac", 352_800, 2, {"format": "FLAC", "subtype": "PCM_24"}, 0.01),
    ("master_384k.wav", 384_000, 2, {"format": "WAV", "subtype": "PCM_24"}, 0.01),
    ("stereo_22k.ogg", 22_050, 2, {"format": "OGG", "subtype": "VORBIS"}, 0.05),
    ("stereo_48k.opus", 48_000, 2, {"format": "OGG", "subtype": "OPUS"}, 0.05),
    ("mono_44k.mp3", 44_100, 1, {"format": "MP3", "subtype": "MPEG_LAYER_III"}, 0.05),
    ("mono_32k.aiff", 32_000, 1, {"format": "AIFF", "subtype": "PCM_16"}, 0.01),
]


@pytest.mark.parametrize("name, rate, channels, format_args, tolerance", FORMATS)
def test_every_format_decodes_to_mono_at_the_contract_rate(
    tmp_path, name, rate, channels, format_args, tolerance
):
    path = tmp_path / name
    write_in_blocks(path, tone(440.0, 3.0, rate, channels), rate, **format_args)
    decoded = decode_file(path, RATE)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    # Lossy codecs add encoder delay/padding of a few ms; PCM is exact.
    assert abs(len(decoded) - 3.0 * RATE) <= (0.06 * RATE if tolerance > 0.01 else 1)
    middle = decoded[RATE // 2 : RATE // 2 + RATE * 2]
    assert dominant_frequency(middle, RATE) == pytest.approx(440.0, abs=1.0)
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), abs=tolerance)


def test_stereo_is_downmixed_by_averaging_channels(tmp_path):
    left = tone(300.0, 1.0, RATE, 1)[:, 0]
    right = tone(700.0, 1.0, RATE, 1)[:, 0]
    path = tmp_path / "lr.wav"
    sf.write(path, np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    np.testing.assert_allclose(decode_file(path, RATE), (left + right) / 2, atol=1e-7)


@pytest.mark.parametrize("rate", [8_000, 44_100, 48_000, 96_000])
def test_streamed_resampling_equals_resampling_the_whole_file(tmp_path, rate):
    rng = np.random.default_rng(rate)
    data = (0.3 * rng.standard_normal(round(2.7 * rate))).astype(np.float32)
    path = tmp_path / f"noise_{rate}.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    up, down = RATE // np.gcd(RATE, rate), rate // np.gcd(RATE, rate)
    whole = resample_poly(data, up, down).astype(np.float32)
    with AudioFileReader(path, RATE, chunk_seconds=0.25) as reader:
        assert reader.frames == len(whole)
        blocks = list(reader.blocks(1000))
    streamed = np.concatenate(blocks)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


@pytest.mark.parametrize("rate, channels", [(44_100, 2), (48_000, 2), (RATE, 1), (48_000, 6)])
def test_a_player_gets_the_file_as_it_is_beside_the_same_analysis_samples(tmp_path, rate, channels):
    rng = np.random.default_rng(rate + channels)
    data = (0.3 * rng.standard_normal((round(3.37 * rate), channels))).astype(np.float32)
    data[1000, 0] = np.nan  # played and analysed as silence
    path = tmp_path / f"noise_{rate}_{channels}.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    # More than two channels fold into two, odd-numbered left and even right, before the
    # NaN becomes silence: the left side of that frame goes silent.
    folded = (
        data
        if channels <= 2
        else np.stack([data[:, 0::2].mean(axis=1), data[:, 1::2].mean(axis=1)], axis=1)
    )
    expected_sound = np.nan_to_num(folded, nan=0.0)
    analysis = decode_file(path, RATE)
    with AudioFileReader(path, RATE, chunk_seconds=0.05, keep_sound=True) as reader:
        assert reader.sound_channels == min(channels, 2)
        chunks = []
        while (chunk := reader.read_chunk()) is not None:
            assert len(chunk.sound) <= reader.chunk_frames
            assert len(chunk.samples) <= reader.chunk_samples
            chunks.append(chunk)
        # Every chunk's samples are its own stretch of time: as many as its frames give.
        for chunk in chunks[:-1]:
            assert len(chunk.samples) * rate == len(chunk.sound) * RATE
        np.testing.assert_array_equal(np.concatenate([c.sound for c in chunks]), expected_sound)
        np.testing.assert_array_equal(np.concatenate([c.samples for c in chunks]), analysis)
        reader.seek(1.234)
        frame = round(reader.position_seconds * rate)
        after = reader.read_chunk()
    assert abs(frame / rate - 1.234) < 320 / rate  # aligned down to the resampling grid
    np.testing.assert_array_equal(after.sound, expected_sound[frame : frame + len(after.sound)])
    sample = frame * RATE // rate
    np.testing.assert_array_equal(after.samples, analysis[sample : sample + len(after.samples)])


def test_only_a_reader_that_keeps_the_sound_reads_chunks(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, tone(440.0, 1.0, RATE, 1), RATE)
    with (
        AudioFileReader(path, RATE) as reader,
        pytest.raises(ValueError, match="keep_sound=True"),
    ):
        reader.read_chunk()


def test_seek_lands_on_the_requested_time(tmp_path):
    ramp = (np.arange(5 * RATE) / (5 * RATE)).astype(np.float32)
    path = tmp_path / "ramp.wav"
    sf.write(path, ramp, RATE, subtype="FLOAT")
    with AudioFileReader(path, RATE) as reader:
        reader.seek(2.0)
        assert reader.position_seconds == pytest.approx(2.0)
        first = reader.read(10)
        np.testing.assert_allclose(first, ramp[2 * RATE : 2 * RATE + 10], atol=1e-7)
        reader.seek(99.0)
        assert len(reader.read(100)) == 0


def test_a_long_file_is_read_in_bounded_blocks(tmp_path):
    path = tmp_path / "long.flac"
    write_in_blocks(path, tone(220.0, 60.0, 44_100, 2), 44_100, format="FLAC")
    with AudioFileReader(path, RATE, chunk_seconds=2.0) as reader:
        assert reader.duration_seconds == pytest.approx(60.0)
        sizes = [len(block) for block in reader.blocks(4096)]
        assert sum(sizes) == reader.frames == 60 * RATE
        assert len(reader._pending) == 0


def test_missing_file(tmp_path):
    with pytest.raises(NotAnAudioFileError, match="no such file"):
        decode_file(tmp_path / "nope.wav", RATE)


def test_directory(tmp_path):
    with pytest.raises(NotAnAudioFileError, match="is a directory"):
        decode_file(tmp_path, RATE)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudioError, match="0 bytes"):
        decode_file(path, RATE)


def test_zero_length_signal(tmp_path):
    path = tmp_path / "silence_of_nothing.wav"
    sf.write(path, np.zeros((0, 1), np.float32), RATE)
    with pytest.raises(EmptyAudioError, match="holds no audio samples"):
        decode_file(path, RATE)


def test_corrupt_file_of_a_known_format(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEjunk" + os.urandom(200))
    with pytest.raises(CorruptAudioError, match="looks like WAV"):
        decode_file(path, RATE)


def test_an_mp3_without_frames_is_named_as_such_not_as_a_missing_file(tmp_path):
    path = tmp_path / "mislabelled.mp3"  # an ID3 tag, then no MPEG frame
    path.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x10" + bytes(range(256)) * 40)
    with pytest.raises(CorruptAudioError) as error:
        decode_file(path, RATE)
    assert str(error.value) == (
        f"{path}: looks like MP3 but cannot be decoded (no MP3 audio data found in it)"
    )


def test_libsndfile_reason_follows_the_file_name_once(tmp_path):
    path = tmp_path / "header_only.wav"
    path.write_bytes(b"RIFF" + bytes(100))
    with pytest.raises(CorruptAudioError) as error:
        decode_file(path, RATE)
    assert (
        str(error.value) == f"{path}: looks like WAV but cannot be decoded (Format not recognised)"
    )


def test_unknown_bytes_are_unsupported(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("these are not the samples you are looking for\n" * 20)
    with pytest.raises(UnsupportedAudioError, match="not a recognised audio format"):
        decode_file(path, RATE)


def test_sample_rate_outside_the_supported_range(tmp_path):
    path = tmp_path / "too_slow.wav"
    sf.write(path, np.zeros(4000, np.float32), 4000)
    with pytest.raises(UnsupportedAudioError, match="4000 Hz is outside"):
        decode_file(path, RATE)
    path = tmp_path / "too_fast.wav"
    sf.write(path, np.zeros(768_000, np.float32), 768_000)
    with pytest.raises(
        UnsupportedAudioError, match="768000 Hz is outside the supported 8000-384000 Hz$"
    ):
        decode_file(path, RATE)


def test_non_finite_samples_in_a_file_are_zeroed_before_resampling_and_counted(tmp_path):
    data = tone(440.0, 1.0, 44_100, 1)[:, 0]
    data[[5, 500, 30_000]] = [np.nan, np.inf, -np.inf]
    path = tmp_path / "nan.wav"
    sf.write(path, data, 44_100, subtype="FLOAT")
    with AudioFileReader(path, RATE) as reader:
        decoded = reader.read(reader.frames)
        assert reader.nonfinite_samples == 3
    assert np.isfinite(decoded).all()
    clean = data.copy()
    clean[[5, 500, 30_000]] = 0.0
    np.testing.assert_allclose(decoded, resample_poly(clean, 1, 2), atol=1e-5)


def test_gsm_wav_which_cannot_seek_decodes_and_seeks(tmp_path):
    path = tmp_path / "gsm.wav"
    sf.write(path, tone(440.0, 3.0, 8_000, 1), 8_000, format="WAV", subtype="GSM610")
    assert not sf.SoundFile(path).seekable()
    with AudioFileReader(path, RATE, chunk_seconds=0.5) as reader:
        whole = reader.read(reader.frames)
        reader.seek(2.0)
        after_seek = reader.read(RATE // 2)
    assert len(whole) == 67_032  # 24,000 samples padded to whole GSM blocks: 24,320 at 8 kHz
    assert dominant_frequency(whole[RATE // 2 : 2 * RATE], RATE) == pytest.approx(440.0, abs=1.0)
    np.testing.assert_allclose(after_seek, whole[2 * RATE : 2 * RATE + RATE // 2], atol=1e-6)


def test_flac_with_a_damaged_comment_block_is_refused_by_name(tmp_path):
    path = write_flac_with_a_damaged_comment_block(tmp_path / "flipped.flac")
    with pytest.raises(CorruptAudioError, match=rf"^{path}: decoding failed near 0.0 s"):
        decode_file(path, RATE)


def test_truncated_mp3_is_refused_where_its_data_ends(tmp_path):
    path = tmp_path / "cut.mp3"
    sf.write(path, tone(440.0, 6.0, 44_100, 1), 44_100, format="MP3")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(
        CorruptAudioError, match=rf"^{path}: the audio data ends at 2.9 s, before the 6.0 s"
    ):
        decode_file(path, RATE)
    reader = AudioFileReader(path, RATE)  # every sample it holds is given first
    samples = reader.read(6 * RATE)
    assert reader.duration_seconds == pytest.approx(2.9, abs=0.05)
    assert len(samples) == reader.frames == round(reader.duration_seconds * RATE)
    last_second = samples[-RATE:]
    assert dominant_frequency(last_second, RATE) == pytest.approx(440.0, abs=2.0)
    assert np.sqrt(np.mean(last_second**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    with pytest.raises(CorruptAudioError, match=rf"^{path}: the audio data ends at 2.9 s"):
        reader.read(1)


def test_an_ogg_file_cut_short_gives_all_it_holds_then_says_it_was_cut(tmp_path):
    """An Ogg file has no header giving its length: one cut short reads as a shorter whole
    file. Every sample it holds comes out, equal to the whole file's, and then the reader
    says it was cut, where it would have said the file ended."""
    whole = write_ogg_cut_short(tmp_path / "whole.ogg", 20.0, 1.0, RATE)
    cut = write_ogg_cut_short(tmp_path / "cut.ogg", 20.0, 0.5, RATE)
    assert not ogg_cut_short(whole) and ogg_cut_short(cut)
    whole_samples = decode_file(whole, RATE)
    held = sf.info(cut).frames  # the whole pages left: 7.3 s of the 20
    message = (
        f"{cut}: the Ogg stream breaks off at {held / RATE:.1f} s without its end (the file "
        "was cut short, as an unfinished download or copy is)"
    )
    reader = AudioFileReader(cut, RATE)
    assert reader.cut_short == message and 0 < held < len(whole_samples) // 2
    samples = reader.read(reader.frames)
    np.testing.assert_array_equal(samples, whole_samples[:held])
    with pytest.raises(CorruptAudioError) as refused:
        reader.read(1)
    assert str(refused.value) == message
    with pytest.raises(CorruptAudioError, match="^" + re.escape(message) + "$"):
        decode_file(cut, RATE)

    player = AudioFileReader(cut, RATE, keep_sound=True)  # a player's reader: the same
    chunks = []
    with pytest.raises(CorruptAudioError, match="^" + re.escape(message) + "$"):
        while True:
            chunks.append(player.read_chunk())
    assert sum(len(chunk.sound) for chunk in chunks) == held
    player.seek(0.0)  # played again from the start, it gives its sound again
    assert len(player.read_chunk().sound) == min(held, player.chunk_frames)


def test_an_ogg_file_s_last_page_tells_whether_it_was_cut(tmp_path):
    whole = write_ogg_cut_short(tmp_path / "whole.ogg", 20.0, 1.0, RATE).read_bytes()
    last_page = whole.rfind(b"OggS")
    cases = {
        "whole": (whole, False),
        "cut at a page's end": (whole[:last_page], True),  # no page marked the stream's last
        "cut in a page's header": (whole[: last_page + 20], True),
        "cut in a page's data": (whole[:-10], True),
        "a tag appended": (whole + b"TAG" + bytes(125), False),  # an ID3v1 tag some taggers add
        "a broken page after its end": (whole + b"OggS\x00\x00", True),
    }
    for name, (data, cut) in cases.items():
        path = tmp_path / f"{name}.ogg"
        path.write_bytes(data)
        assert ogg_cut_short(path) == cut, name
    with pytest.raises(CorruptAudioError, match="breaks off at 0.0 s without its end"):
        AudioFileReader(write_ogg_cut_short(tmp_path / "no page.ogg", 8.0, 0.3, RATE), RATE)


def test_levels_no_recording_reaches_are_refused_by_name(tmp_path):
    loud = tone(440.0, 1.0, RATE, 1)[:, 0] * 4.0  # +6 dB over full scale: a float file may
    path = tmp_path / "hot.wav"
    sf.write(path, loud, RATE, subtype="FLOAT")
    assert np.max(np.abs(decode_file(path, RATE))) == pytest.approx(2.0, abs=1e-3)
    loud[RATE // 2] = 5.7e29
    path = tmp_path / "damaged.wav"
    sf.write(path, loud, RATE, subtype="FLOAT")
    with pytest.raises(
        CorruptAudioError, match=rf"^{path}: decoded samples reach 5.7e\+29 near 0.5 s"
    ):
        decode_file(path, RATE)
