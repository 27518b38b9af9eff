"""What a file's tags say it is (frontend/decode.py `TrackTags`): read the same from every
format, libsndfile's (Vorbis comments, ID3, RIFF INFO, FLAC) and FFmpeg's containers (MP4
atoms, Matroska tags, ASF), written here by each library; untagged files and odd text."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from tests.frontend.decoder_fuzz import CONTAINER_BASES, write_container
from visualizer.frontend import AudioFileReader, FrontEndContract
from visualizer.frontend.decode import MAX_TAG_CHARS, TrackTags

RATE = FrontEndContract().sample_rate
TAGS = TrackTags(title="Sands of Time", artist="Omri Lahav", album="0 A.D. — Ünïcode")


def tone(rate: int, channels: int, seconds: float = 1.0) -> np.ndarray:
    times = np.arange(int(rate * seconds)) / rate
    wave = (0.3 * np.sin(2 * np.pi * 440.0 * times)).astype(np.float32)
    return np.repeat(wave[:, None], channels, axis=1)


@pytest.mark.parametrize(
    ("name", "format_name"),
    [("a.ogg", "OGG"), ("a.flac", "FLAC"), ("a.wav", "WAV"), ("a.mp3", "MP3"), ("a.opus", "OGG")],
)
def test_libsndfile_formats_give_their_tags(tmp_path, name, format_name):
    path = tmp_path / name
    subtype = "OPUS" if name.endswith(".opus") else None
    rate = 48_000 if subtype else RATE
    with sf.SoundFile(path, "w", rate, 1, format=format_name, subtype=subtype) as out:
        out.title, out.artist, out.album = TAGS.title, TAGS.artist, TAGS.album
        out.write(tone(rate, 1))
    with AudioFileReader(path, RATE) as reader:
        assert reader.tags == TAGS


@pytest.mark.parametrize(
    ("name", "container", "codec", "rate", "channels", "bits"), CONTAINER_BASES
)
def test_containers_give_their_tags(tmp_path, name, container, codec, rate, channels, bits):
    tags = {"title": TAGS.title, "artist": TAGS.artist, "album": TAGS.album}
    path = write_container(
        tmp_path / name, container, codec, rate, tone(rate, channels), bits, tags
    )
    with AudioFileReader(path, RATE) as reader:
        assert reader.tags == TAGS


def test_an_untagged_file_has_empty_tags_and_is_labelled_by_its_name(tmp_path):
    path = tmp_path / "untagged.flac"
    sf.write(path, tone(RATE, 1), RATE)
    with AudioFileReader(path, RATE) as reader:
        assert reader.tags == TrackTags()
        assert reader.tags.label(path.name) == "untagged.flac"
    assert TAGS.label("a.ogg") == "Sands of Time — Omri Lahav"
    assert TrackTags(title="Sands of Time").label("a.ogg") == "Sands of Time"
    assert TrackTags(artist="Omri Lahav").label("a.ogg") == "a.ogg"


def test_tag_text_is_one_printable_line_of_bounded_length(tmp_path):
    path = tmp_path / "odd.flac"
    with sf.SoundFile(path, "w", RATE, 1, format="FLAC") as out:
        out.title = "Line one\nline\ttwo\x07  "
        out.artist = "A" * 500
        out.write(tone(RATE, 1))
    with AudioFileReader(path, RATE) as reader:
        assert reader.tags.title == "Line one line two"
        assert reader.tags.artist == "A" * (MAX_TAG_CHARS - 1) + "…"
        assert len(reader.tags.artist) == MAX_TAG_CHARS
