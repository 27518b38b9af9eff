"""MP4/M4A (AAC, ALAC), WebM (Opus), WMA, raw AAC (ADTS), WavPack and AC-3 files, encoded
here by FFmpeg through PyAV and decoded by the reader that libsndfile's formats go through."""

from __future__ import annotations

import sys

import av
import numpy as np
import pytest
import soundfile as sf

from tests.frontend.decoder_fuzz import write_container
from tests.frontend.marked_files import (
    write_flac_with_cuesheet_block,
    write_with_chapters,
    write_with_cuesheet_tag,
)
from visualizer.frontend import (
    AudioFileReader,
    CorruptAudioError,
    EmptyAudioError,
    FrontEndContract,
    UnsupportedAudioError,
    decode_file,
)
from visualizer.frontend.container_audio import Chapter, TrackMarks, read_track_marks

RATE = FrontEndContract().sample_rate


def two_tones(rate: int, seconds: float, channels: int) -> np.ndarray:
    """Left 440 Hz, right 660 Hz (mono: 440 Hz), at 0.4."""
    t = np.arange(round(seconds * rate)) / rate
    sides = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1)
    return (0.4 * sides[:, :channels]).astype(np.float32)


def peak_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * rate / len(signal))


FORMATS = [  # (file name, container, codec, rate, channels, bit rate)
    ("song.m4a", "mp4", "aac", 44_100, 2, 192_000),
    ("lossless.m4a", "mp4", "alac", 48_000, 2, None),
    ("download.webm", "webm", "libopus", 48_000, 2, 128_000),
    ("old.wma", "asf", "wmav2", 44_100, 1, 128_000),
    ("recorded.aac", "adts", "aac", 44_100, 2, 160_000),  # a raw stream: its length counted
    ("lossless.wv", "wv", "wavpack", 44_100, 2, None),
    ("film.ac3", "ac3", "ac3", 48_000, 2, 192_000),  # a raw stream too
]


@pytest.mark.parametrize("name, container, codec, rate, channels, bit_rate", FORMATS)
def test_each_container_decodes_to_its_sound_and_its_stated_length(
    tmp_path, name, container, codec, rate, channels, bit_rate
):
    music = two_tones(rate, 4.0, channels)
    path = write_container(tmp_path / name, container, codec, rate, music, bit_rate)
    with pytest.raises(sf.LibsndfileError):
        sf.SoundFile(path)  # libsndfile cannot: this goes through FFmpeg
    with AudioFileReader(path, RATE, chunk_seconds=0.2, keep_sound=True) as reader:
        assert (reader.source_rate, reader.channels) == (rate, channels)
        assert reader.duration_seconds == pytest.approx(4.0, abs=0.05)  # WMA pads to 4.04
        chunks = []
        while (chunk := reader.read_chunk()) is not None:
            chunks.append(chunk)
        frames = reader.frames
    sound = np.concatenate([chunk.sound for chunk in chunks])
    analysis = np.concatenate([chunk.samples for chunk in chunks])
    assert len(analysis) == frames  # as long as the container says, no more, no less
    middle = sound[rate : 3 * rate]
    assert peak_hz(middle[:, 0], rate) == pytest.approx(440, abs=1.0)
    if channels == 2:
        assert peak_hz(middle[:, 1], rate) == pytest.approx(660, abs=1.0)
    lossless = codec == "alac"
    level = np.sqrt(np.mean(middle**2, axis=0))
    expected = [0.4 / np.sqrt(2)] * channels  # 16-bit ALAC: within a part in 10,000
    assert level == pytest.approx(expected, rel=1e-4 if lossless else 0.05)
    np.testing.assert_array_equal(analysis, decode_file(path, RATE))


@pytest.mark.parametrize(
    "name, container, codec, rate, channels, bit_rate, most_samples_off, tolerance",
    [
        (*FORMATS[0], 0, 1e-4),  # MP4's timestamps count samples: the very samples
        (*FORMATS[1], 0, 1e-4),
        # WebM's count milliseconds: within half of one (11.025 samples here, so the best
        # whole-sample lag still differs by a fortieth of a sample: 0.002 on these tones)
        (*FORMATS[2], RATE // 2000, 5e-3),
        (*FORMATS[4], 0, 1e-4),  # a raw AAC stream: each packet 1024 samples on from the last
    ],
)
def test_a_seek_lands_where_decoding_from_the_start_gets_to(
    tmp_path, name, container, codec, rate, channels, bit_rate, most_samples_off, tolerance
):
    path = write_container(
        tmp_path / name, container, codec, rate, two_tones(rate, 4.0, channels), bit_rate
    )
    whole = decode_file(path, RATE)
    with AudioFileReader(path, RATE) as reader:
        for seconds in (2.0, 0.05, 3.3):  # back, forward, within the pre-roll of the start
            reader.seek(seconds)
            start = round(reader.position_seconds * RATE)
            got = reader.read(2000)
            errors = {
                lag: np.abs(got[50:-50] - whole[start + lag + 50 : start + lag + 1950]).max()
                for lag in range(-most_samples_off, most_samples_off + 1)
            }
            assert min(errors.values()) < tolerance, (seconds, errors)


def _syncsafe(size: int) -> bytes:
    return bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))


def test_a_raw_aac_stream_is_as_long_as_its_frames_and_is_found_behind_an_id3_tag(tmp_path):
    """A raw AAC (ADTS) stream states no length: it is counted from its packets, so the
    reader gives exactly the samples FFmpeg decodes (its guess from the bit rate is off by a
    tenth of a second in 10 s). Stream recorders put an ID3 tag before it, which libsndfile
    takes for an MP3's: the file is still found to be AAC, and the tag's title read."""
    music = two_tones(44_100, 10.0, 2)
    path = write_container(tmp_path / "recorded.aac", "adts", "aac", 44_100, music, 160_000)
    with av.open(str(path)) as container:
        decoded = sum(frame.samples for frame in container.decode(audio=0))
    with AudioFileReader(path, RATE) as reader:
        assert reader.source_frames == decoded
    title = b"Night Drive"
    frame = b"TIT2" + _syncsafe(len(title) + 1) + b"\x00\x00" + b"\x03" + title  # UTF-8
    tagged = tmp_path / "tagged.aac"
    tagged.write_bytes(b"ID3\x04\x00\x00" + _syncsafe(len(frame)) + frame + path.read_bytes())
    with AudioFileReader(tagged, RATE) as reader:
        assert reader.source_frames == decoded and reader.tags.title == "Night Drive"
    np.testing.assert_array_equal(decode_file(tagged, RATE), decode_file(path, RATE))


def test_a_container_cut_short_plays_up_to_where_it_ends_then_is_named(tmp_path):
    path = write_container(
        tmp_path / "cut.webm", "webm", "libopus", 48_000, two_tones(48_000, 6.0, 2), 128_000
    )
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # WebM states its length at the start
    with AudioFileReader(path, RATE) as reader:
        assert reader.duration_seconds == pytest.approx(6.0, abs=0.05)
        with pytest.raises(CorruptAudioError) as error:
            for _ in reader.blocks(RATE):
                pass
    assert str(error.value).startswith(f"{path}: decoding failed near ")
    assert "its container states (truncated or damaged)" in str(error.value)


def test_an_mp4_with_no_audio_track_is_named(tmp_path):
    path = tmp_path / "silent_film.mp4"
    with av.open(str(path), "w") as output:
        video = output.add_stream("libx264", rate=10)
        video.width = video.height = 32
        video.pix_fmt = "yuv420p"
        for index in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((32, 32, 3), np.uint8), format="rgb24")
            frame.pts = index
            for packet in video.encode(frame):
                output.mux(packet)
        for packet in video.encode(None):
            output.mux(packet)
    with pytest.raises(EmptyAudioError, match=rf"^{path}: the file holds no audio track$"):
        decode_file(path, RATE)


def test_an_mp4_header_on_junk_is_named_as_damaged(tmp_path):
    path = tmp_path / "song.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(range(256)) * 4)
    with pytest.raises(CorruptAudioError, match=rf"^{path}: looks like MP4/M4A but cannot"):
        decode_file(path, RATE)


def test_without_pyav_such_a_file_is_refused_saying_what_to_install(tmp_path, monkeypatch):
    path = write_container(
        tmp_path / "song.m4a", "mp4", "aac", 44_100, two_tones(44_100, 1.0, 2), 128_000
    )
    monkeypatch.setitem(sys.modules, "av", None)  # as where PyAV is not installed
    with pytest.raises(UnsupportedAudioError) as error:
        decode_file(path, RATE)
    assert str(error.value) == (
        f"{path}: MP4/M4A audio needs PyAV (pip install av, part of musicscape's cpu and gpu "
        "extras), or convert it to WAV, FLAC, Ogg Vorbis/Opus or MP3"
    )


def test_a_file_s_own_track_marks_are_read_whichever_library_decodes_it(tmp_path):
    rate = 22_050
    signal = np.zeros(6 * rate, dtype=np.float32)
    block = write_flac_with_cuesheet_block(tmp_path / "block.flac", signal, rate, [0.0, 2.0, 4.5])
    assert read_track_marks(block) == TrackMarks(
        "", (Chapter(0.0, ""), Chapter(2.0, ""), Chapter(4.5, ""))
    )  # a CUESHEET block's tracks, untitled
    sheet = 'FILE "image.wav" WAVE\n  TRACK 01 AUDIO\n    INDEX 01 00:00:00\n'
    for suffix in (".flac", ".opus"):  # an Ogg file's tags are its stream's
        tagged = write_with_cuesheet_tag(tmp_path / f"tagged{suffix}", signal, 48_000, sheet)
        assert read_track_marks(tagged) == TrackMarks(sheet, ()), suffix
    for suffix in (".m4a", ".mp3", ".mka"):
        chapters = write_with_chapters(
            tmp_path / f"mix{suffix}", signal, rate, [(0, "Intro"), (1.5, "Main"), (4.25, "Outro")]
        )
        assert read_track_marks(chapters) == TrackMarks(
            "", (Chapter(0.0, "Intro"), Chapter(1.5, "Main"), Chapter(4.25, "Outro"))
        ), suffix
    plain = tmp_path / "plain.wav"
    sf.write(plain, signal, rate)
    assert read_track_marks(plain) == TrackMarks()
    junk = tmp_path / "junk.m4a"
    junk.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(64))
    assert read_track_marks(junk) == TrackMarks()  # named by the decoder, not here
    assert read_track_marks(tmp_path / "missing.flac") == TrackMarks()
