"""Small damaged files that once stopped musicscape, for tests of how each part refuses them."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf


def write_png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims `width` x `height` RGB pixels, with almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def write_flac_with_a_damaged_comment_block(path: Path, rate: int = 22_050) -> Path:
    """A 3-s FLAC whose VORBIS_COMMENT block claims 16 million comments: libsndfile opens it
    and fails on the first read ("Internal psf_fseek() failed" when it seeks first)."""
    time = np.arange(3 * rate) / rate
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * time)).astype(np.float32), rate, "PCM_16")
    damaged = bytearray(path.read_bytes())
    vendor = damaged.index(b"reference libFLAC")
    damaged[vendor + int.from_bytes(damaged[vendor - 4 : vendor], "little") + 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    return path


def write_wav_damaged_midway(
    path: Path, seconds: float, damaged_at: float, rate: int = 22_050
) -> Path:
    """A float WAV of a 440-Hz tone whose sample at `damaged_at` seconds reads 5.7e29, a level
    no recording reaches: the decoder refuses the file when it reads that sample, naming
    its time."""
    time = np.arange(int(seconds * rate)) / rate
    signal = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    signal[int(damaged_at * rate)] = 5.7e29
    sf.write(path, signal, rate, subtype="FLOAT")
    return path


def write_ogg_cut_short(path: Path, seconds: float, keep_share: float, rate: int = 22_050) -> Path:
    """An Ogg Vorbis file of a 440-Hz tone cut after `keep_share` of its bytes, as an
    unfinished download is: it opens and reads as a shorter whole file, since an Ogg file
    has no header giving its length, but its last page is not its stream's last."""
    time = np.arange(int(seconds * rate)) / rate
    with sf.SoundFile(path, "w", rate, 1, format="OGG", subtype="VORBIS") as handle:
        for start in range(0, len(time), rate):  # soundfile segfaults on long Ogg writes
            handle.write(0.3 * np.sin(2 * np.pi * 440 * time[start : start + rate]))
    whole = path.read_bytes()
    path.write_bytes(whole[: int(len(whole) * keep_share)])
    return path
