"""Audio files that mark their own tracks, written as rippers and encoders write them: a
FLAC with a CUESHEET metadata block (the bytes as the FLAC format gives them), a FLAC or an
Opus file with a cue sheet in its CUESHEET tag, an M4A, MP3 or MKA with chapters (written
by FFmpeg)."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf

FLAC_CUESHEET_BLOCK = 5
LEAD_OUT_TRACK = 255  # a CUESHEET's last track, past the audio (170 on a CD)


def _cuesheet_track(offset: int, number: int, with_index: bool) -> bytes:
    """A CUESHEET track: its offset (samples), number, ISRC, flags and index points."""
    head = struct.pack(">QB", offset, number) + bytes(12) + bytes(14)
    if not with_index:
        return head + bytes([0])
    return head + bytes([1]) + struct.pack(">QB", 0, 1) + bytes(3)  # INDEX 01 at its start


def write_flac_with_cuesheet_block(path: Path, signal: np.ndarray, rate: int, starts: list[float]):
    """`signal` as FLAC, its tracks at `starts` (s) in a CUESHEET block after STREAMINFO."""
    sf.write(path, signal, rate)
    data = path.read_bytes()
    streaminfo_length = int.from_bytes(data[5:8], "big")
    streaminfo_end = 8 + streaminfo_length
    was_last = data[4] & 0x80
    tracks = [
        _cuesheet_track(round(start * rate), number, True)
        for number, start in enumerate(starts, start=1)
    ] + [_cuesheet_track(len(signal), LEAD_OUT_TRACK, False)]
    body = bytes(128) + struct.pack(">Q", 0) + bytes(259) + bytes([len(tracks)]) + b"".join(tracks)
    block = bytes([FLAC_CUESHEET_BLOCK | was_last]) + len(body).to_bytes(3, "big") + body
    streaminfo = bytes([data[4] & 0x7F]) + data[5:streaminfo_end]
    path.write_bytes(b"fLaC" + streaminfo + block + data[streaminfo_end:])
    return path


def _write_with_ffmpeg(path, format_name, codec, signal, rate, metadata=None, chapters=None):
    with av.open(str(path), "w", format=format_name) as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        container.metadata.update(metadata or {})
        if chapters:
            container.set_chapters(chapters)
        sample_format = stream.codec_context.format.name
        samples = signal[np.newaxis, :].astype(np.float32)
        if sample_format.startswith("s16"):
            samples = (samples * 32767).astype(np.int16)
        elif sample_format.startswith("s32"):
            samples = (samples * 2147483647).astype(np.int32)
        frame = av.AudioFrame.from_ndarray(samples, format=sample_format, layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


# FFmpeg's muxer and encoder for the files with a cue sheet in their tags, by suffix
TAGGED_FORMATS = {".flac": ("flac", "flac"), ".opus": ("ogg", "libopus")}


def write_with_cuesheet_tag(path: Path, signal: np.ndarray, rate: int, sheet: str, tags=None):
    """`signal` as FLAC, or Opus in Ogg (where the tags are the stream's), by `path`'s
    suffix, with the cue sheet `sheet` in its CUESHEET comment, and `tags` (TITLE...)."""
    format_name, codec = TAGGED_FORMATS[path.suffix]
    metadata = {"CUESHEET": sheet, **(tags or {})}
    return _write_with_ffmpeg(path, format_name, codec, signal, rate, metadata=metadata)


# FFmpeg's muxer and encoder for the files with chapters written here, by suffix
CHAPTERED_FORMATS = {
    ".m4a": ("ipod", "aac"),
    ".mp3": ("mp3", "libmp3lame"),
    ".mka": ("matroska", "aac"),
}


def write_with_chapters(
    path: Path, signal: np.ndarray, rate: int, chapters: list[tuple[float, str]], tags=None
):
    """`signal` in an M4A, MP3 (ID3 CHAP frames) or MKA, by `path`'s suffix, with
    `chapters` ((start s, title); each to the next's start, the last to the end) and `tags`
    (title, artist, album...)."""
    ends = [start for start, _ in chapters[1:]] + [len(signal) / rate]
    written = [
        {
            "id": number,
            "start": round(start * 1000),
            "end": round(end * 1000),
            "time_base": Fraction(1, 1000),
            "metadata": {"title": title},
        }
        for number, ((start, title), end) in enumerate(zip(chapters, ends, strict=True))
    ]
    format_name, codec = CHAPTERED_FORMATS[path.suffix]
    return _write_with_ffmpeg(path, format_name, codec, signal, rate, tags, written)
