"""Audio in the containers libsndfile does not read: MP4/M4A (AAC, ALAC), WebM/Matroska
(Opus, Vorbis), WMA/ASF, WavPack, and AAC and AC-3 as raw streams (ADTS `.aac`, as stream
recorders save it; `.ac3`), decoded by FFmpeg through PyAV.

`ContainerAudioFile` offers the part of soundfile's `SoundFile` that `AudioFileReader` uses
(samplerate, channels, frames, seekable, seek, read, close; title, artist and album), so a
file plays, trains and is evaluated the same whichever library decodes it. Differences a
user could meet:
- `frames` comes from the container's stated duration (these formats carry no exact count;
  a raw stream states none at all, and FFmpeg's guess from its bit rate missed a 10-s ADTS
  file by 0.11 s, so its packets' durations are summed instead: a pass over the file
  without decoding, about 3 ms for 10 s of AAC); reading pads with silence up to it when
  the decoder gives up to 0.5 s fewer samples, and stops at it when it gives more (the
  encoder's end padding), so the file is as long as it says; audio that ends earlier than
  that is a damaged file (`ContainerDecodeError`).
- `seek` lands on the codec frame at or before 0.2 s before the time (the container's
  index) and decodes forward to the sample, so the codec has settled there; for WebM's
  millisecond timestamps the place is within half a millisecond.
Every FFmpeg failure becomes `ContainerDecodeError` (a RuntimeError, as soundfile's own).
PyAV ships in the app's `cpu` and `gpu` extras; without it such a file is refused by name.

`read_track_marks` reads, for any file FFmpeg opens (whichever library decodes it), where a
file of a whole album or mix marks its tracks: its chapters (MP4/M4A/M4B, Matroska, ID3
CHAP frames in MP3, Ogg CHAPTERxxx comments, a FLAC CUESHEET block) and the text of a cue
sheet kept in its CUESHEET tag (as foobar2000 and EAC write into a FLAC).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import numpy as np

# Leading bytes of the containers this reads (checked only after libsndfile refused a file).
CONTAINER_MAGIC = {
    b"ftyp": "MP4/M4A",  # at offset 4
    b"\x30\x26\xb2\x75": "WMA/ASF",
    b"\x1a\x45\xdf\xa3": "WebM/Matroska",
    b"wvpk": "WavPack",
}
ADTS = "AAC (ADTS)"  # a raw AAC stream: 12 sync bits, then MPEG layer 0 (MP3 is layer 1-3)
AC3 = "AC-3"
AC3_SYNC = b"\x0b\x77"
RAW_STREAM_FORMATS = ("aac", "ac3", "eac3")  # FFmpeg's raw streams' names: no stated length
# A track whose decoded audio ends this much before its stated duration is refused as
# damaged; a shorter shortfall (codec padding, a rounded duration) is played as silence.
MAX_PADDING_SECONDS = 0.5
SEEK_PREROLL_SECONDS = 0.2  # decoded and dropped before a sought frame (Opus asks 0.08)
TAG_KEYS = ("title", "artist", "album")  # the tags read, as soundfile names them
_INTEGER_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0}


class ContainerDecodeError(RuntimeError):
    """FFmpeg could not open or decode the file; the message says why."""


class NoAudioTrackError(ContainerDecodeError):
    """The container holds no audio track (a silent video, a picture)."""


def container_kind(head: bytes) -> str | None:
    """The container `head` (a file's first 12 bytes, after any ID3 tag) starts, if it is
    one read here."""
    for magic, kind in CONTAINER_MAGIC.items():
        if magic in head[:12]:
            return kind
    if head.startswith(AC3_SYNC):
        return AC3
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return ADTS
    return None


@dataclass(frozen=True)
class Chapter:
    """Where a file's chapter starts, s, and its title ("" where it has none)."""

    start_seconds: float
    title: str


@dataclass(frozen=True)
class TrackMarks:
    """What a file says of its own tracks: the text of the cue sheet in its CUESHEET tag
    ("" where none) and its chapters in order of their starts."""

    cue_sheet: str = ""
    chapters: tuple[Chapter, ...] = ()


def read_track_marks(path: str | Path) -> TrackMarks:
    """The file's `TrackMarks`; none where PyAV is missing or FFmpeg cannot open it (it
    then plays as a file: a damaged file is named by the decoder, not here)."""
    try:
        import av
    except ImportError:
        return TrackMarks()
    try:
        with av.open(str(path)) as container:
            tags = {
                str(key).lower(): str(value)
                for metadata in (
                    *(stream.metadata for stream in container.streams.audio[:1]),
                    container.metadata,
                )
                for key, value in metadata.items()
            }  # an Ogg file's tags are its stream's; the container's win, as in decoding
            chapters = tuple(
                Chapter(
                    float(chapter["start"] * chapter["time_base"]),
                    str(chapter["metadata"].get("title", "")),
                )
                for chapter in container.chapters()
            )
    except (av.FFmpegError, UnicodeDecodeError, ValueError):
        return TrackMarks()
    in_order = tuple(sorted(chapters, key=attrgetter("start_seconds")))
    return TrackMarks(tags.get("cuesheet", ""), in_order)


def pyav_available() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _float_frames(frame, channels: int) -> np.ndarray:
    """A decoded frame as float32 [samples, channels] in [-1, 1]."""
    data = frame.to_ndarray()
    data = data.T if frame.format.is_planar else data.reshape(-1, channels)
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128.0) / 128.0).reshape(-1, channels)
    scale = _INTEGER_SCALE.get(data.dtype)
    if scale is not None:
        return (data.astype(np.float32) / np.float32(scale)).reshape(-1, channels)
    return np.ascontiguousarray(data, dtype=np.float32).reshape(-1, channels)


class ContainerAudioFile:
    """One audio file in a container FFmpeg reads; see the module docstring."""

    def __init__(self, path: str | Path):
        import av

        self._av = av
        self.path = Path(path)
        try:
            self._container = av.open(str(self.path))
        except (av.FFmpegError, UnicodeDecodeError) as error:
            raise ContainerDecodeError(str(error)) from error
        tracks = self._container.streams.audio
        if not tracks:
            self._container.close()
            raise NoAudioTrackError("the file holds no audio track")
        self._stream = tracks[0]
        context = self._stream.codec_context
        if context is None:  # FFmpeg found no decoder for the track's codec
            self._container.close()
            raise ContainerDecodeError("no decoder for its audio track")
        self.samplerate = int(context.sample_rate or self._stream.rate or 0)
        self.channels = int(context.channels or 0)
        if self.channels < 1:
            self._container.close()
            raise ContainerDecodeError("its audio track has no channels")
        try:
            raw = self._container.format.name in RAW_STREAM_FORMATS
            self.frames = self._counted_frames() if raw else self._stated_frames()
        except ContainerDecodeError:
            self._container.close()
            raise
        tags = {
            str(key).lower(): str(value)
            for metadata in (self._stream.metadata, self._container.metadata)
            for key, value in metadata.items()
        }  # the container's tags win over the track's
        self.title, self.artist, self.album = (tags.get(key, "") for key in TAG_KEYS)
        self._decoded = np.zeros((0, max(self.channels, 1)), dtype=np.float32)
        self._position = 0  # the frame `read` returns next
        self._decoding = None  # the codec frames' generator, from `_position` on
        self._decoded_to_end = False

    def _stated_frames(self) -> int:
        stream = self._stream
        if stream.duration is not None and stream.time_base is not None:
            seconds = float(stream.duration * stream.time_base)
        elif self._container.duration is not None:
            seconds = self._container.duration / 1_000_000  # AV_TIME_BASE
        else:
            seconds = 0.0
        return max(0, round(seconds * self.samplerate))

    def _counted_frames(self) -> int:
        """A raw stream's length: its packets' durations summed (demuxed, not decoded),
        then back to its start."""
        stream = self._stream
        try:
            ticks = sum(packet.duration or 0 for packet in self._container.demux(stream))
            self._container.seek(0, stream=stream)
        except self._av.FFmpegError as error:
            raise ContainerDecodeError(f"reading its frames failed ({error})") from error
        return round(ticks * stream.time_base * self.samplerate)

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._container.close()

    def _next_frame(self):
        """The next decoded codec frame of the track; None at its end."""
        if self._decoding is None:
            self._decoding = self._container.decode(self._stream)
        try:
            return next(self._decoding)
        except StopIteration:
            return None
        except (self._av.FFmpegError, ValueError) as error:
            raise ContainerDecodeError(f"decoding failed ({error})") from error

    def read(self, count: int, dtype: str = "float32", always_2d: bool = True) -> np.ndarray:
        """Up to `count` frames [n, channels] float32 from the current position, never past
        `frames` (silence where the decoder ended before it)."""
        count = max(0, min(count, self.frames - self._position))
        parts, have = [self._decoded], len(self._decoded)
        while have < count and not self._decoded_to_end:
            frame = self._next_frame()
            if frame is None:
                self._decoded_to_end = True
                break
            parts.append(_float_frames(frame, self.channels))
            have += len(parts[-1])
        decoded = np.concatenate(parts) if len(parts) > 1 else self._decoded
        if len(decoded) < count:  # the stated duration runs past the decoded samples
            ends = self._position + len(decoded)
            if self.frames - ends > MAX_PADDING_SECONDS * self.samplerate:
                raise ContainerDecodeError(
                    f"the audio ends at {ends / self.samplerate:.1f} s, before the "
                    f"{self.frames / self.samplerate:.1f} s its container states (truncated "
                    "or damaged)"
                )
            silence = np.zeros((count - len(decoded), decoded.shape[1]), dtype=np.float32)
            decoded = np.concatenate([decoded, silence])
        self._decoded = decoded[count:]
        self._position += count
        return decoded[:count]

    def seek(self, frame: int) -> None:
        """Move to `frame`: the container's index finds the codec frame at or before it,
        decoding goes forward from there."""
        frame = max(0, min(int(frame), self.frames))
        stream = self._stream
        # From a little earlier: a codec's first frame after a jump is incomplete (AAC's
        # overlapped transforms, Opus's pre-roll); by `frame` its output has settled.
        start_seconds = max(frame / self.samplerate - SEEK_PREROLL_SECONDS, 0.0)
        target = int(start_seconds / stream.time_base)
        try:
            self._container.seek(target, stream=stream, backward=True)
        except self._av.FFmpegError as error:
            raise ContainerDecodeError(f"seeking failed ({error})") from error
        self._decoding = None
        self._decoded_to_end = False
        self._decoded = self._decoded[:0]
        self._position = frame
        while (first := self._next_frame()) is not None:
            start = 0 if first.pts is None else round(first.pts * first.time_base * self.samplerate)
            samples = _float_frames(first, self.channels)
            if start > frame:  # landed after it (its start): silence up to the first sample
                gap = np.zeros((start - frame, samples.shape[1]), dtype=np.float32)
                self._decoded = np.concatenate([gap, samples])
                return
            if start + len(samples) > frame:
                self._decoded = samples[frame - start :]
                return
        self._decoded_to_end = True
