"""Damaged audio files from a seed, and a worker that decodes each in a limited child.

`make_corpus(folder, seed, count)` writes real files in many codecs (PCM 8/16/24/32-bit,
float, u-law, A-law, IMA and MS ADPCM, GSM 6.10, G.721, FLAC, Vorbis, Opus, MP3, AIFF, AU,
CAF, W64; 1 to 8 channels; 8 to 192 kHz) and damages copies of them: truncations, byte
flips, edited header fields (sizes claiming gigabytes, zero or absurd channels and rates),
wrong extensions, junk and empty files.

Run as `python -m tests.frontend.decoder_fuzz FOLDER`, it reads every file in FOLDER as
the app and training do (the app's `read_track_marks`, which must never raise; then
AudioFileReader to the contract rate, every block, then a seek to the middle and a read),
each in a forked child with a CPU-time alarm and an address-space
cap, and prints one JSON line per file: outcome ("decoded", "refused", "unexpected" for any other
exception, "killed" when a signal ended the child), the exception's type and message, the
decoded length and peak, and the child's peak RSS in MB.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from visualizer.frontend import AudioDecodeError, AudioFileReader
from visualizer.frontend.container_audio import read_track_marks

TARGET_RATE = 22_050
CPU_SECONDS = 20  # a child still running after this much CPU time is killed: a hang
ADDRESS_SPACE_MARGIN = 2 << 30  # bytes a child may map beyond the worker's own

# (name, format, subtype, sample rate, channels)
BASES = [
    ("pcm16_stereo_44k.wav", "WAV", "PCM_16", 44_100, 2),
    ("pcm24_mono_48k.wav", "WAV", "PCM_24", 48_000, 1),
    ("pcm32_stereo_32k.wav", "WAV", "PCM_32", 32_000, 2),
    ("u8_mono_8k.wav", "WAV", "PCM_U8", 8_000, 1),
    ("float_mono_96k.wav", "WAV", "FLOAT", 96_000, 1),
    ("double_stereo_22k.wav", "WAV", "DOUBLE", 22_050, 2),
    ("ulaw_mono_8k.wav", "WAV", "ULAW", 8_000, 1),
    ("alaw_mono_8k.wav", "WAV", "ALAW", 8_000, 1),
    ("ima_adpcm_stereo_22k.wav", "WAV", "IMA_ADPCM", 22_050, 2),
    ("ms_adpcm_mono_16k.wav", "WAV", "MS_ADPCM", 16_000, 1),
    ("gsm610_mono_8k.wav", "WAV", "GSM610", 8_000, 1),
    ("g721_mono_8k.wav", "WAV", "G721_32", 8_000, 1),
    ("pcm16_8ch_48k.wav", "WAV", "PCM_16", 48_000, 8),
    ("pcm24_stereo_192k.wav", "WAV", "PCM_24", 192_000, 2),
    ("flac24_stereo_44k.flac", "FLAC", "PCM_24", 44_100, 2),
    ("flac16_8ch_48k.flac", "FLAC", "PCM_16", 48_000, 8),
    ("vorbis_stereo_44k.ogg", "OGG", "VORBIS", 44_100, 2),
    ("opus_mono_48k.opus", "OGG", "OPUS", 48_000, 1),
    ("mp3_stereo_44k.mp3", "MP3", "MPEG_LAYER_III", 44_100, 2),
    ("mp3_mono_8k.mp3", "MP3", "MPEG_LAYER_III", 8_000, 1),
    ("pcm16_mono_32k.aiff", "AIFF", "PCM_16", 32_000, 1),
    ("ulaw_mono_8k.au", "AU", "ULAW", 8_000, 1),
    ("pcm16_stereo_44k.caf", "CAF", "PCM_16", 44_100, 2),
    ("float_stereo_48k.w64", "W64", "FLOAT", 48_000, 2),
]
WRONG_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg", ".aiff", ".opus")
# Containers libsndfile does not read, decoded through PyAV (container_audio.py):
# (name, PyAV container format, codec, sample rate, channels, bit rate)
CONTAINER_BASES = [
    ("aac_stereo_44k.m4a", "mp4", "aac", 44_100, 2, 128_000),
    ("alac_mono_48k.m4a", "mp4", "alac", 48_000, 1, None),
    ("opus_stereo_48k.webm", "webm", "libopus", 48_000, 2, 96_000),
    ("wma_stereo_44k.wma", "asf", "wmav2", 44_100, 2, 128_000),
]


def write_container(
    path: Path,
    container: str,
    codec: str,
    rate: int,
    music: np.ndarray,
    bit_rate: int | None,
    tags: dict[str, str] | None = None,
) -> Path:
    """`music` [samples, channels] encoded by FFmpeg (PyAV) into `container`, with the
    container's `tags` (title, artist, ...)."""
    import av

    layout = "stereo" if music.shape[1] == 2 else "mono"
    with av.open(str(path), "w", format=container) as output:
        output.metadata.update(tags or {})
        stream = output.add_stream(codec, rate=rate)
        stream.layout = layout
        if bit_rate:
            stream.bit_rate = bit_rate
        block = 1024
        for start in range(0, len(music), block):
            planar = np.ascontiguousarray(music[start : start + block].T, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def _music(rate: int, channels: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A chord with noise, a different pitch per channel, peaking near -6 dBFS."""
    time = np.arange(int(seconds * rate)) / rate
    columns = []
    for channel in range(channels):
        pitch = 220.0 * 2 ** (channel / 4)
        tone = np.sin(2 * np.pi * pitch * time) + 0.5 * np.sin(2 * np.pi * 1.5 * pitch * time)
        columns.append(0.3 * tone + 0.05 * rng.standard_normal(time.size))
    return np.stack(columns, axis=1).astype(np.float32)


def write_bases(folder: Path, seed: int) -> list[Path]:
    """One valid file per entry of BASES, 1.5 s long (written a block at a time: soundfile
    can crash writing long Ogg in one call)."""
    rng = np.random.default_rng(seed)
    paths = []
    for name, file_format, subtype, rate, channels in BASES:
        path = folder / f"base_{name}"
        music = _music(rate, channels, 1.5, rng)
        with sf.SoundFile(path, "w", rate, channels, subtype, format=file_format) as handle:
            for start in range(0, len(music), rate // 4):
                handle.write(music[start : start + rate // 4])
        paths.append(path)
    return paths


def _edit_header(data: bytearray, rng: np.random.Generator) -> str:
    """Overwrite one field of a RIFF/WAVE or FLAC header (or any 4 header bytes); returns
    what was done."""
    if data[:4] == b"RIFF" and b"fmt " in data[:64]:
        fmt = data.index(b"fmt ") + 8
        fields = {
            "riff_size": (4, 4), "channels": (fmt + 2, 2), "sample_rate": (fmt + 4, 4),
            "byte_rate": (fmt + 8, 4), "block_align": (fmt + 12, 2), "bits": (fmt + 14, 2),
        }  # fmt: skip
        if b"data" in data:
            fields["data_size"] = (data.index(b"data") + 4, 4)
        name = sorted(fields)[int(rng.integers(len(fields)))]
        offset, size = fields[name]
        value = int(rng.choice([0, 1, 3, 255, 1000, 65535, 2**31 - 1, 2**32 - 1]))
        data[offset : offset + size] = (value % 2 ** (8 * size)).to_bytes(size, "little")
        return f"wav_{name}={value}"
    if data[:4] == b"fLaC":
        # STREAMINFO: sample rate (20 bits), channels (3), bits (5), total samples (36)
        offset = 18 + int(rng.integers(0, 8))
        data[offset] = int(rng.choice([0x00, 0xFF]))
        return f"flac_streaminfo_byte{offset}"
    offset = int(rng.integers(0, min(len(data), 64) - 4))
    data[offset : offset + 4] = b"\xff\xff\xff\x7f"
    return f"header_bytes{offset}"


def damage(base: Path, rng: np.random.Generator) -> tuple[str, bytes]:
    """One damaged variant of `base`: (how, bytes)."""
    data = bytearray(base.read_bytes())
    kind = int(rng.integers(0, 5))
    if kind == 0:
        cut = int(rng.choice([int(rng.integers(1, 128)), int(rng.integers(1, len(data)))]))
        return f"truncated{cut}", bytes(data[:cut])
    if kind == 1:
        count = int(rng.choice([1, 4, 32, 256]))
        for offset in rng.integers(0, len(data), count):
            data[offset] ^= 1 << int(rng.integers(8))
        return f"flipped{count}", bytes(data)
    if kind == 2:
        count = int(rng.choice([1, 4, 16]))
        for offset in rng.integers(0, min(len(data), 128), count):
            data[offset] = int(rng.integers(256))
        return f"header_flipped{count}", bytes(data)
    if kind == 3:
        how = _edit_header(data, rng)
        return how, bytes(data)
    start = int(rng.integers(0, len(data)))
    length = int(rng.integers(1, 4096))
    junk = rng.integers(0, 256, min(length, len(data) - start), np.uint8)
    data[start : start + length] = junk.tobytes()
    return "overwritten", bytes(data)


def write_container_bases(folder: Path, seed: int) -> list[Path]:
    """One valid file per entry of CONTAINER_BASES, 1.5 s long."""
    rng = np.random.default_rng(seed)
    return [
        write_container(
            folder / f"base_{name}", container, codec, rate, _music(rate, channels, 1.5, rng), bits
        )
        for name, container, codec, rate, channels, bits in CONTAINER_BASES
    ]


def make_corpus(folder: Path, seed: int, count: int, containers: bool = False) -> list[Path]:
    """The valid bases (libsndfile's, or with `containers` PyAV's) plus `count` damaged,
    misnamed or junk files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    bases = (write_container_bases if containers else write_bases)(folder, seed)
    rng = np.random.default_rng(seed)
    paths = list(bases)
    for number in range(count):
        base = bases[number % len(bases)]
        roll = rng.random()
        if roll < 0.08:  # a valid file under another format's extension
            data, how = base.read_bytes(), "renamed"
            extension = str(rng.choice(WRONG_EXTENSIONS))
        elif roll < 0.12:  # not audio at all
            data = rng.integers(0, 256, int(rng.integers(0, 20_000)), np.uint8).tobytes()
            how, extension = "junk", str(rng.choice(WRONG_EXTENSIONS))
        else:
            how, data = damage(base, rng)
            extension = base.suffix
        path = folder / f"{number:04d}_{base.stem.removeprefix('base_')}_{how}{extension}"
        path.write_bytes(data)
        paths.append(path)
    return paths


def _decode(path: Path) -> dict:
    try:
        read_track_marks(path)  # what the app reads of a file's own tracks as it starts
    except Exception as error:  # noqa: BLE001 - what the fuzz exists to find
        return {"outcome": "unexpected", "error": f"read_track_marks: {type(error).__name__}"}
    try:
        with AudioFileReader(path, TARGET_RATE) as reader:
            samples, peak, finite = 0, 0.0, True
            for block in reader.blocks(1 << 16):
                samples += len(block)
                peak = max(peak, float(np.max(np.abs(block))))
                finite = finite and bool(np.isfinite(block).all())
            reader.seek(reader.duration_seconds / 2)
            after_seek = len(reader.read(4096))
        return {
            "outcome": "decoded",
            "samples": samples,
            "frames": reader.frames,
            "peak": peak,
            "finite": finite,
            "read_after_seek": after_seek,
        }
    except AudioDecodeError as error:
        return {"outcome": "refused", "error": type(error).__name__, "message": str(error)}
    except Exception as error:  # noqa: BLE001 - what the fuzz exists to find
        return {"outcome": "unexpected", "error": type(error).__name__, "message": str(error)}


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def decode_in_child(path: Path) -> dict:
    """Decode `path` in a forked child under the limits; the result with "path" and
    "max_rss_mb" added."""
    read_end, write_end = os.pipe()
    limit = _address_space() + ADDRESS_SPACE_MARGIN
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        result = _decode(path)
        result["message"] = result.get("message", "")[:400]
        with os.fdopen(write_end, "w") as pipe:
            pipe.write(json.dumps(result))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, status, usage = os.wait4(pid, 0)
    if os.WIFSIGNALED(status):
        result = {"outcome": "killed", "error": signal.Signals(os.WTERMSIG(status)).name}
    else:
        result = json.loads(text)
    return {"path": str(path), **result, "max_rss_mb": usage.ru_maxrss / 1024}


def main(folder: str) -> None:
    for path in sorted(Path(folder).iterdir()):
        print(json.dumps(decode_in_child(path)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
