"""One reusable video file writer: RGB frames at a constant rate as H.264 (or Apple ProRes
422, `codec="prores"`: every frame a key frame, 10-bit 4:2:2, what VJ software scrubs and
loops smoothly; FFmpeg's own `prores` encoder, about three times as fast as `prores_ks` at
a PSNR 1.4 dB lower, still over 50 dB), float samples as AAC, muxed by PyAV into the
container the name's suffix names (`VIDEO_SUFFIXES`: MP4, QuickTime or Matroska; ProRes in
QuickTime or Matroska); a missing or read-only folder or another suffix is refused before
anything is written.

Frames may be any size: each is scaled (bilinear) to the writer's size. Audio at a rate AAC
cannot carry is resampled to 48 kHz. Frame i lasts 1/fps from i/fps; audio sample j is at
j/rate, so a caller keeps the two in step by how many of each it writes. `close()` flushes
both encoders: a file closed after an interruption still plays, holding what was written.
`fragmented` writes an MP4 or QuickTime file as fragments of FRAGMENT_SECONDS (fragmented
MP4, each fragment self-contained and starting on a key frame), so one never closed (the
disk filled, the process crashed or the power went) still plays up to its last whole
fragment; a plain MP4 says where its frames are only when it is closed, and without that it
plays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from visualizer.output_files import output_file_problem

AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)
AAC_FALLBACK_RATE = 48_000
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")  # containers that hold H.264 and AAC
H264 = "h264"
PRORES = "prores"


@dataclass(frozen=True)
class VideoCodec:
    encoder: str  # FFmpeg's
    pixel_format: str
    suffixes: tuple[str, ...]  # the containers that hold it; a new file gets the first
    described: str
    intra_only: bool  # every frame a key frame


VIDEO_CODECS = {
    H264: VideoCodec("libx264", "yuv420p", VIDEO_SUFFIXES, "H.264", intra_only=False),
    PRORES: VideoCodec(
        "prores", "yuv422p10le", (".mov", ".mkv"), "Apple ProRes 422", intra_only=True
    ),
}
PRORES_PROFILE = "2"  # 422 (standard); 3 would be HQ at about twice the size
FRAGMENT_SECONDS = 2.0  # a fragmented file's fragment length (H.264: its key frame interval)
FRAGMENTED_MOVFLAGS = "empty_moov+default_base_moof"
FRAGMENTED_SUFFIXES = (".mp4", ".m4v", ".mov")  # Matroska plays after a cut as it is


def fragment_options(codec: VideoCodec) -> dict[str, str]:
    """The MP4 muxer's options for fragments of FRAGMENT_SECONDS. H.264 puts a key frame
    every FRAGMENT_SECONDS and a fragment starts at each; an intra-only codec's fragments are
    cut by duration instead (at each key frame they would be one frame long)."""
    microseconds = str(round(FRAGMENT_SECONDS * 1e6))
    if codec.intra_only:
        return {"movflags": FRAGMENTED_MOVFLAGS, "frag_duration": microseconds}
    return {"movflags": f"frag_keyframe+{FRAGMENTED_MOVFLAGS}"}


class VideoFileError(RuntimeError):
    """PyAV is missing or the file cannot be written; the message says which."""


def _pyav():
    try:
        import av
    except ImportError as error:
        raise VideoFileError(
            "writing video needs PyAV (the 'cpu' or 'gpu' extra): pip install av"
        ) from error
    return av


class VideoFileWriter:
    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: float,
        audio_rate: int,
        channels: int = 1,
        crf: int = 20,
        preset: str = "veryfast",
        codec: str = H264,
        fragmented: bool = False,
    ):
        if codec not in VIDEO_CODECS:
            raise ValueError(f"the codec must be one of {', '.join(VIDEO_CODECS)}, got {codec!r}")
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise ValueError(
                f"{VIDEO_CODECS[codec].described} needs an even size of at least 16, got "
                f"{width}x{height}"
            )
        if channels not in (1, 2):
            raise ValueError(f"audio must be mono or stereo, got {channels} channels")
        av = _pyav()
        self._av = av
        self.path = Path(path)
        self.codec = VIDEO_CODECS[codec]
        # FFmpeg opens the file only at the first frame: check all this before any work.
        if self.path.suffix.lower() not in self.codec.suffixes:
            raise VideoFileError(
                f"cannot write {self.path}: a video file's name ends in "
                f"{', '.join(self.codec.suffixes)} ({self.codec.described} with AAC), not "
                f"'{self.path.suffix}'"
            )
        problem = output_file_problem(self.path, create_folders=False)
        if problem is not None:
            raise VideoFileError(f"cannot write {self.path}: {problem}")
        fragmented = fragmented and self.path.suffix.lower() in FRAGMENTED_SUFFIXES
        try:
            self._container = av.open(
                str(self.path),
                mode="w",
                options=fragment_options(self.codec) if fragmented else {},
            )
        except (OSError, av.FFmpegError) as error:
            raise VideoFileError(f"cannot write {self.path}: {error}") from error
        self.fps = Fraction(fps).limit_denominator(1001)
        video = self._container.add_stream(self.codec.encoder, rate=self.fps)
        video.width, video.height = width, height
        video.pix_fmt = self.codec.pixel_format
        if codec == H264:
            video.options = {"preset": preset, "crf": str(crf)}
            if fragmented:
                video.options |= {"g": str(max(1, round(FRAGMENT_SECONDS * float(self.fps))))}
        else:
            video.options = {"profile": PRORES_PROFILE}
            # FFmpeg's prores encodes several frames at once on threads of its own (1280 x
            # 720 beside a busy app on 2 cores: 53 fps against 38 on one thread)
            video.codec_context.thread_type = "AUTO"
        self._video = video
        self.width, self.height = width, height
        self.audio_rate = int(audio_rate)
        self._layout = "stereo" if channels == 2 else "mono"
        self.channels = channels
        out_rate = self.audio_rate if self.audio_rate in AAC_RATES else AAC_FALLBACK_RATE
        self._audio = self._container.add_stream("aac", rate=out_rate)
        self._audio.layout = self._layout
        self._resampler = av.AudioResampler(format="fltp", layout=self._layout, rate=out_rate)
        self.frames_written = 0
        self.samples_written = 0
        self._closed = False

    @property
    def video_seconds(self) -> float:
        return self.frames_written / float(self.fps)

    @property
    def audio_seconds(self) -> float:
        return self.samples_written / self.audio_rate

    def write_frame(self, rgb: np.ndarray) -> None:
        """uint8 [H, W, 3] RGB; scaled to the writer's size when it differs."""
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame = frame.reformat(
            width=self.width,
            height=self.height,
            format=self.codec.pixel_format,
            interpolation="BILINEAR",
        )
        frame.pts = self.frames_written
        frame.time_base = 1 / self.fps
        self.frames_written += 1
        self._container.mux(self._video.encode(frame))

    def write_audio(self, samples: np.ndarray) -> None:
        """float32 samples in [-1, 1]: [n] (mono) or [n, channels]."""
        data = np.asarray(samples, dtype=np.float32)
        if data.ndim == 1:
            data = data[:, None]
        if data.shape[1] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {data.shape[1]}")
        if len(data) == 0:
            return
        planar = np.ascontiguousarray(data.T)
        frame = self._av.AudioFrame.from_ndarray(planar, format="fltp", layout=self._layout)
        frame.sample_rate = self.audio_rate
        frame.pts = self.samples_written
        frame.time_base = Fraction(1, self.audio_rate)
        self.samples_written += len(data)
        for resampled in self._resampler.resample(frame):
            self._container.mux(self._audio.encode(resampled))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for resampled in self._resampler.resample(None):
            self._container.mux(self._audio.encode(resampled))
        self._container.mux(self._audio.encode(None))
        self._container.mux(self._video.encode(None))
        self._container.close()
