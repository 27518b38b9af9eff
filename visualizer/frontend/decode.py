"""Decoding any audio file soundfile reads (and, through PyAV, MP4/M4A, WebM/Matroska and
WMA: container_audio.py) into mono float32 at the contract's sample rate.

`AudioFileReader` streams: it reads the file in blocks, downmixes, resamples with a
polyphase filter in overlapping chunks (the same filter `scipy.signal.resample_poly`
uses, so streamed output equals a one-shot resample), and can seek. A two-hour file is
never held in memory. `decode_file` is the whole-file convenience for short files. A player
reads `read_chunk` instead: each chunk of the file as it is (its own rate, one or two
channels) beside the same stretch converted for analysis, from one pass over the file.
`open_audio_file` is the one way a file is opened (render's sound track opens it too).
The file is read front to back without seeking (so formats libsndfile cannot seek in, such
as GSM 6.10 WAV, decode too); only `seek` moves, reopening such a file and reading forward.
NaN/inf samples are decoded as 0 (before resampling, so they cannot smear) and counted
in `nonfinite_samples`. Every failure of the underlying decoder and decoded levels no real
recording reaches (a damaged file) raise `CorruptAudioError` naming the file (and, for a
damaged level, the time of the sample). A file cut short gives every sample it holds
before it raises that error (`cut_short` says why): one whose data ends before its header
says, and an Ogg file (Vorbis, Opus, FLAC), which has no header giving its length, so that
one cut short (an unfinished download or copy) would read as a shorter whole file, but
whose last page tells (`ogg_cut_short`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from .container_audio import (
    TAG_KEYS,
    ContainerAudioFile,
    ContainerDecodeError,
    NoAudioTrackError,
    container_kind,
    pyav_available,
)
from .resample import Polyphase
from .stft import sanitize

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 384_000  # DXD (352.8 kHz) and 384 kHz studio masters
# Full scale is 1.0. Float files may go somewhat over it, damaged ones decode to 1e3 and far
# beyond; a decoded peak above this refuses the file.
MAX_SAMPLE_PEAK = 100.0
# Most input samples (all channels together) read at once: bounds memory for many channels.
MAX_CHUNK_SAMPLES = 1 << 22
# A player (and a rendered video's track) gets a file's own channels up to this many; more
# are folded into two (`stereo_sound`).
MAX_SOUND_CHANNELS = 2
MAX_TAG_CHARS = 120  # a longer title or artist is cut, with an ellipsis

# The names of the files it reads (folders of music, playlists and file dialogs list these).
AUDIO_FILE_SUFFIXES = (
    ".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif",
    ".m4a", ".webm", ".mka", ".wma", ".aac", ".wv", ".ac3",
)  # fmt: skip
SUPPORTED_FORMATS = (
    "WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF; with PyAV also MP4/M4A (AAC, ALAC), "
    "WebM/Matroska, WMA, AAC (.aac), WavPack and AC-3"
)
# Leading bytes of the containers libsndfile decodes; used to tell a damaged file of a
# supported kind ("corrupt") from a file of another kind ("unsupported").
_SUPPORTED_MAGIC = {
    b"RIFF": "WAV",
    b"RF64": "WAV",
    b"fLaC": "FLAC",
    b"OggS": "Ogg",
    b"FORM": "AIFF",
    b"ID3": "MP3",
    b"\xff\xfb": "MP3",
    b"\xff\xf3": "MP3",
    b"\xff\xf2": "MP3",
    b".snd": "AU",
    b"caff": "CAF",
}


class AudioDecodeError(ValueError):
    """A file could not be turned into audio; the message names the file and the reason."""


class EmptyAudioError(AudioDecodeError):
    """The file decodes but holds no samples."""


class CorruptAudioError(AudioDecodeError):
    """The file claims a supported format but its data cannot be decoded."""


class UnsupportedAudioError(AudioDecodeError):
    """The file is not in a format soundfile can decode."""


class NotAnAudioFileError(AudioDecodeError):
    """The path is missing, a directory, or unreadable."""


LIBSNDFILE_SYSTEM_ERROR = 7  # SF_ERR_SYSTEM in sndfile.h

# An Ogg page (RFC 3533): "OggS", version 0, header flags, ..., a segment count at byte 26,
# then that many lacing values, each a segment's length in bytes.
OGG_CAPTURE = b"OggS"
OGG_HEADER_BYTES = 27
OGG_END_OF_STREAM = 0x04  # the header flag of a logical stream's last page
OGG_MAX_PAGE_BYTES = OGG_HEADER_BYTES + 255 + 255 * 255


def _file_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(12)


def _head_after_id3(path: Path, head: bytes) -> bytes:
    """The first 12 bytes of the file after its ID3v2 tag, if it starts with one (as raw
    AAC files from stream recorders and podcasts do); else `head`."""
    if not head.startswith(b"ID3") or len(head) < 10:
        return head
    size = 10 + sum((byte & 0x7F) << (7 * (3 - place)) for place, byte in enumerate(head[6:10]))
    size += 10 if head[5] & 0x10 else 0  # a footer after the tag
    with open(path, "rb") as handle:
        handle.seek(size)
        return handle.read(12)


def _libsndfile_kind(head: bytes) -> str | None:
    """The libsndfile format a file's first bytes announce, if any."""
    return next((kind for magic, kind in _SUPPORTED_MAGIC.items() if head.startswith(magic)), None)


def _check_path(path: Path) -> None:
    if not path.exists():
        raise NotAnAudioFileError(f"{path}: no such file")
    if path.is_dir():
        raise NotAnAudioFileError(f"{path}: is a directory, not an audio file")
    if not os.access(path, os.R_OK):
        raise NotAnAudioFileError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise EmptyAudioError(f"{path}: the file is empty (0 bytes)")


def ogg_cut_short(path: Path) -> bool:
    """Whether an Ogg file ends before its stream does: its last whole page is not marked
    as its stream's last, or a page broken off follows it. Bytes after the last page that
    are no page (a tag some taggers append) are passed over."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(max(0, size - 2 * OGG_MAX_PAGE_BYTES))
        tail = handle.read()
    broken_page_after = False
    start = len(tail)
    while (start := tail.rfind(OGG_CAPTURE, 0, start)) >= 0:
        header = tail[start : start + OGG_HEADER_BYTES]
        if len(header) < OGG_HEADER_BYTES:
            broken_page_after = True
            continue
        if header[4] != 0:  # the capture pattern inside a page's data, not a page
            continue
        lacing = tail[start + OGG_HEADER_BYTES : start + OGG_HEADER_BYTES + header[26]]
        if len(lacing) < header[26] or start + len(header) + len(lacing) + sum(lacing) > len(tail):
            broken_page_after = True
            continue
        return broken_page_after or not header[5] & OGG_END_OF_STREAM
    return False  # no whole page in its last two pages' length: nothing to tell by


def stereo_sound(frames: np.ndarray) -> np.ndarray:
    """A file's frames [n, channels] as they are heard: one or two channels as they are,
    more folded into two (the odd-numbered to the left, the even to the right); NaN and
    infinite samples as silence."""
    if frames.shape[1] > MAX_SOUND_CHANNELS:
        frames = np.stack(
            [frames[:, 0::2].mean(axis=1), frames[:, 1::2].mean(axis=1)], axis=1
        ).astype(np.float32)
    finite = np.isfinite(frames)
    return frames if finite.all() else np.where(finite, frames, np.float32(0.0))


def open_audio_file(path: Path) -> sf.SoundFile | ContainerAudioFile:
    """libsndfile's reader for the file, or FFmpeg's (PyAV) for the containers libsndfile
    does not read (container_audio.py): what `read`, `seek`, `samplerate`, `channels` and
    `frames` are asked of. The errors name the file and the reason."""
    _check_path(path)
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError) as error:
        head = _file_head(path)
        container = container_kind(_head_after_id3(path, head))
        if container:
            return _open_container(path, container)
        supported = _libsndfile_kind(head)
        if supported:
            raise CorruptAudioError(
                f"{path}: looks like {supported} but cannot be decoded "
                f"({_libsndfile_reason(error, supported)})"
            ) from error
        raise UnsupportedAudioError(
            f"{path}: not a recognised audio format (supported: {SUPPORTED_FORMATS})"
        ) from error


def _libsndfile_reason(error: Exception, kind: str) -> str:
    """libsndfile's reason for refusing a file, without its "Error opening 'path': " (the
    message names the file already). Its system error, which says the file does not exist,
    is what it answers when its MP3 decoder finds no frame in a file that does exist."""
    if not isinstance(error, sf.LibsndfileError):
        return str(error)
    if error.code == LIBSNDFILE_SYSTEM_ERROR:
        return f"no {kind} audio data found in it"
    return error.error_string.rstrip(".")


def _open_container(path: Path, container: str) -> ContainerAudioFile:
    if not pyav_available():
        raise UnsupportedAudioError(
            f"{path}: {container} audio needs PyAV (pip install av, part of musicscape's cpu "
            "and gpu extras), or convert it to WAV, FLAC, Ogg Vorbis/Opus or MP3"
        )
    try:
        return ContainerAudioFile(path)
    except NoAudioTrackError as error:
        raise EmptyAudioError(f"{path}: {error}") from error
    except ContainerDecodeError as error:
        raise CorruptAudioError(
            f"{path}: looks like {container} but cannot be decoded ({error})"
        ) from error


@dataclass(frozen=True)
class TrackTags:
    """What a file's tags say it is (ID3, Vorbis comments, RIFF INFO, MP4 atoms); "" where
    a tag is missing. Each is one line of printable text of at most `MAX_TAG_CHARS`."""

    title: str = ""
    artist: str = ""
    album: str = ""

    @classmethod
    def of(cls, opened: sf.SoundFile | ContainerAudioFile) -> TrackTags:
        return cls.cleaned(*(getattr(opened, key, "") for key in TAG_KEYS))

    @classmethod
    def cleaned(cls, title: object, artist: object, album: object) -> TrackTags:
        """Tags from anywhere (a file, a media player), each made one printable line."""
        return cls(_tag_text(title), _tag_text(artist), _tag_text(album))

    def label(self, file_name: str) -> str:
        """'Title — Artist', the title alone, or `file_name` when the file has no title."""
        if not self.title:
            return file_name
        return f"{self.title} — {self.artist}" if self.artist else self.title


def _tag_text(value: object) -> str:
    text = " ".join("".join(c if c.isprintable() else " " for c in str(value or "")).split())
    return text if len(text) <= MAX_TAG_CHARS else text[: MAX_TAG_CHARS - 1] + "…"


@dataclass(frozen=True)
class DecodedChunk:
    """One stretch of a file: `sound` as the file holds it (frames x `sound_channels`, at
    the file's rate) and `samples`, the same stretch downmixed and at the target rate."""

    sound: np.ndarray
    samples: np.ndarray


class AudioFileReader:
    """Streams a file as mono float32 at `target_rate`, block by block, with seeking.

    Resampling processes input chunks whose length is a multiple of the polyphase `down`
    factor, each with `context` extra input samples on both sides, and keeps only the
    middle of each output: the result equals resampling the whole file at once.

    With `keep_sound`, `read_chunk` also gives each chunk's frames as the file holds them
    (for a player: the file's own rate and channels, more than two folded into two by
    `stereo_sound`), in step with its analysis samples; such a reader is read by
    `read_chunk` only.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        target_rate: int,
        chunk_seconds: float = 4.0,
        keep_sound: bool = False,
    ):
        self.path = Path(path)
        self.target_rate = int(target_rate)
        self._file = open_audio_file(self.path)
        self.source_rate = int(self._file.samplerate)
        self.channels = int(self._file.channels)
        self.source_frames = int(self._file.frames)
        self.tags = TrackTags.of(self._file)
        if not MIN_SAMPLE_RATE <= self.source_rate <= MAX_SAMPLE_RATE:
            self._file.close()
            raise UnsupportedAudioError(
                f"{self.path}: sample rate {self.source_rate} Hz is outside the supported "
                f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
            )
        # Said once everything the file holds was read (None: the file ends as it should).
        self.cut_short: str | None = None
        if _libsndfile_kind(_file_head(self.path)) == "Ogg" and ogg_cut_short(self.path):
            self.cut_short = (
                f"{self.path}: the Ogg stream breaks off at {self.duration_seconds:.1f} s "
                "without its end (the file was cut short, as an unfinished download or copy is)"
            )
        if self.source_frames <= 0:
            self._file.close()
            if self.cut_short is not None:
                raise CorruptAudioError(self.cut_short)
            raise EmptyAudioError(f"{self.path}: the file holds no audio samples")
        self._polyphase = Polyphase.between(self.source_rate, self.target_rate)
        self._up, self._down = self._polyphase.up, self._polyphase.down
        self._context = self._polyphase.context
        chunk_frames = min(chunk_seconds * self.source_rate, MAX_CHUNK_SAMPLES / self.channels)
        self._chunk_in = self._down * max(1, round(chunk_frames / self._down))
        self._position_in = 0  # next input frame to resample (a multiple of `down`)
        self.nonfinite_samples = 0  # NaN/inf samples in the file, decoded as 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._file_position = 0  # the next frame the open file returns
        # The last input frames read, downmixed, from `_kept_start` on: the next chunk's
        # leading context comes from here instead of seeking back.
        self._kept = np.zeros(0, dtype=np.float32)
        self._kept_start = 0
        self.keep_sound = keep_sound
        # The file's frames as read (sanitised), from `_sound_start` on, until a chunk takes them.
        self._sound = np.zeros((0, self.sound_channels), dtype=np.float32)
        self._sound_start = 0

    @property
    def sound_channels(self) -> int:
        """Channels `read_chunk` gives the file's sound in: its own, two above two."""
        return min(self.channels, MAX_SOUND_CHANNELS)

    @property
    def chunk_frames(self) -> int:
        """The most file frames one `read_chunk` returns."""
        return self._chunk_in

    @property
    def chunk_samples(self) -> int:
        """The most analysis samples one `read_chunk` returns."""
        return self._polyphase.output_count(self._chunk_in)

    @property
    def frames(self) -> int:
        """Length in samples at the target rate."""
        return math.ceil(self.source_frames * self._up / self._down)

    @property
    def duration_seconds(self) -> float:
        return self.source_frames / self.source_rate

    @property
    def position_seconds(self) -> float:
        """Time of the next sample `read` returns."""
        delivered_in = self._position_in - len(self._pending) * self._down / self._up
        return max(0.0, delivered_in / self.source_rate)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AudioFileReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def seek(self, seconds: float) -> None:
        """Move to `seconds` (clamped to the file), aligned down to the resampling grid."""
        frame = int(min(max(seconds, 0.0), self.duration_seconds) * self.source_rate)
        self._position_in = (frame // self._down) * self._down
        self._pending = np.zeros(0, dtype=np.float32)
        if self.keep_sound:  # the chunk after a seek reads its frames afresh
            self._kept = np.zeros(0, dtype=np.float32)
            self._sound = self._sound[:0]

    def _decoding_failed(self, frame: int, error: Exception) -> CorruptAudioError:
        return CorruptAudioError(
            f"{self.path}: decoding failed near {frame / self.source_rate:.1f} s ({error})"
        )

    def _move_file_to(self, frame: int) -> None:
        """Position the open file at `frame`; a file that cannot seek is reopened and read
        forward to it."""
        try:
            if self._file.seekable():
                self._file.seek(frame)
            else:
                self._file.close()
                self._file = open_audio_file(self.path)
                for _ in self._file.blocks(self._chunk_in, frames=frame, dtype="float32"):
                    pass
        except (sf.LibsndfileError, RuntimeError) as error:
            raise self._decoding_failed(frame, error) from error
        self._file_position = frame

    def _read_file(self, lo: int, hi: int) -> np.ndarray:
        """Input frames [lo, hi) of the file (inside it), downmixed and checked."""
        if lo != self._file_position:
            self._move_file_to(lo)
        try:
            data = self._file.read(hi - lo, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise self._decoding_failed(lo, error) from error
        self._file_position = lo + len(data)
        if self.keep_sound:
            self._keep_sound(lo, data)
        if len(data) < hi - lo:  # the file ends here: what it holds is given, then this said
            self.cut_short = (
                f"{self.path}: the audio data ends at {self._file_position / self.source_rate:.1f}"
                f" s, before the {self.duration_seconds:.1f} s its header claims (truncated or "
                "damaged)"
            )
            self.source_frames = self._file_position
            data = np.concatenate(
                [data, np.zeros((hi - lo - len(data), self.channels), data.dtype)]
            )
        mono = data.mean(axis=1, dtype=np.float32) if self.channels > 1 else data[:, 0]
        mono, bad = sanitize(mono)
        self.nonfinite_samples += bad
        magnitude = np.abs(mono)
        loudest = int(np.argmax(magnitude)) if len(mono) else 0
        peak = float(magnitude[loudest]) if len(mono) else 0.0
        if peak > MAX_SAMPLE_PEAK:
            seconds = (lo + loudest) / self.source_rate
            raise CorruptAudioError(
                f"{self.path}: decoded samples reach {peak:.3g} near {seconds:.1f} s"
                f" (full scale is 1.0; refused above {MAX_SAMPLE_PEAK:g}): the file is damaged"
            )
        return mono

    def _keep_sound(self, lo: int, data: np.ndarray) -> None:
        """Keep frames [lo, lo + len(data)) as the player gets them (after those kept)."""
        sound = stereo_sound(data)
        if len(self._sound) == 0 or self._sound_start + len(self._sound) != lo:
            self._sound, self._sound_start = sound, lo
        else:
            self._sound = np.concatenate([self._sound, sound])

    def _read_mono(self, start: int, stop: int) -> np.ndarray:
        """Input frames [start, stop) downmixed to mono, zeros outside the file."""
        out = np.zeros(stop - start, dtype=np.float32)
        lo, hi = max(start, 0), min(stop, self.source_frames)
        if hi <= lo:
            return out
        kept_stop = self._kept_start + len(self._kept)
        if self._kept_start <= lo < kept_stop:
            reused = self._kept[lo - self._kept_start : hi - self._kept_start]
            out[lo - start : lo - start + len(reused)] = reused
            lo_fresh = lo + len(reused)
        else:
            lo_fresh = lo
        if lo_fresh < hi:
            out[lo_fresh - start : hi - start] = self._read_file(lo_fresh, hi)
        self._kept_start = max(lo, hi - 2 * self._context)
        self._kept = out[self._kept_start - start : hi - start].copy()
        return out

    def _next_chunk(self) -> np.ndarray:
        start = self._position_in
        stop = min(start + self._chunk_in, self.source_frames)
        padded = self._read_mono(start - self._context, stop + self._context)
        stop = max(start, min(stop, self.source_frames))  # the read may find the file shorter
        self._position_in = start + self._chunk_in
        return self._polyphase.convert(padded, stop - start)

    def read_chunk(self) -> DecodedChunk | None:
        """The next chunk's sound and analysis samples (`keep_sound` readers); None at the
        end of the file (CorruptAudioError there when it was `cut_short`)."""
        if not self.keep_sound:
            raise ValueError("read_chunk needs a reader made with keep_sound=True")
        start = self._position_in
        if start >= self.source_frames:
            if self.cut_short is not None:
                raise CorruptAudioError(self.cut_short)
            return None
        samples = self._next_chunk()
        stop = max(start, min(start + self._chunk_in, self.source_frames))
        taken = self._sound[start - self._sound_start : stop - self._sound_start]
        self._sound, self._sound_start = self._sound[stop - self._sound_start :], stop
        return DecodedChunk(sound=taken, samples=samples)

    def read(self, count: int) -> np.ndarray:
        """Return up to `count` samples; fewer only at the end of the file, none after it
        (CorruptAudioError instead of none when it was `cut_short`)."""
        parts = [self._pending]
        have = len(self._pending)
        while have < count and self._position_in < self.source_frames:
            chunk = self._next_chunk()
            parts.append(chunk)
            have += len(chunk)
        if have == 0 < count and self.cut_short is not None:
            raise CorruptAudioError(self.cut_short)
        joined = np.concatenate(parts) if len(parts) > 1 else self._pending
        self._pending = joined[count:]
        return joined[:count]

    def blocks(self, block_size: int):
        """Yield consecutive blocks of `block_size` samples (the last may be shorter)."""
        while True:
            block = self.read(block_size)
            if len(block) == 0:
                return
            yield block


def decode_file(path: str | os.PathLike, target_rate: int) -> np.ndarray:
    """Decode a whole file to mono float32 at `target_rate`."""
    with AudioFileReader(path, target_rate) as reader:
        samples = reader.read(reader.frames)
        if reader.cut_short is not None:
            raise CorruptAudioError(reader.cut_short)
        return samples
