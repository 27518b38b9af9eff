"""Recording what the canvas shows, with the audio, to a video file, off the GUI thread.

The GUI thread only hands over references: each frame it shows (with its display time) and
each new stretch of the sound as heard (a file's as its output plays it, an input's as
captured; with its rate and the time of its last sample), both on the one monotonic clock.
An encoder thread turns them into a constant-rate video of the shape the canvas shows them
in (a wide screen's fill crops the square picture: `centre_crop`) with `VideoFileWriter`
(H.264, or Apple ProRes 422 for VJ software, + AAC at 48 kHz stereo, whatever the source:
`SoundConverter`): frame slot i covers
[start + i/fps, start + (i+1)/fps); a slot the display skipped repeats the frame before it,
a second frame in one slot is left out, and audio is placed by its time (a gap, such as a
pause, becomes silence). If the
encoder falls behind by more than `backlog_frames`, newer frames are dropped and counted;
the live picture is never held up.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visualizer.frontend import StreamResampler
from visualizer.resize import centre_crop
from visualizer.video_file import FRAGMENT_SECONDS, H264, VideoFileWriter

RESYNC_SECONDS = 0.02  # audio further than this from its place is moved there
PROGRESS_SECONDS = 1.0  # how often the encoder thread looks at the file's size and the disk
RATE_AFTER_SECONDS = 2 * FRAGMENT_SECONDS  # the file's rate (and so the disk's room) is
# told once it holds this much: two whole fragments
RECORD_AUDIO_RATE = 48_000  # every source's sound is converted to this, in stereo
RECORD_CHANNELS = 2


class SoundConverter:
    """One source's sound (mono or stereo, at its own rate) as the recording's: stereo at
    RECORD_AUDIO_RATE (mono on both sides), with the time of its last sample. Resampling is
    streamed (`StreamResampler`: the same as converting the whole stream at once, a chunk
    later); the time of each output sample is that of the input instant it stands for."""

    def __init__(self, rate: int, channels: int):
        self.rate, self.channels = int(rate), int(channels)
        self._resamplers = (
            None
            if self.rate == RECORD_AUDIO_RATE
            else [StreamResampler(self.rate, RECORD_AUDIO_RATE) for _ in range(self.channels)]
        )
        self._taken = 0  # input samples so far
        self._given = 0  # output samples so far
        self._last_time = 0.0  # when the last input sample was heard

    def convert(self, samples: np.ndarray, last_sample_time: float) -> tuple[np.ndarray, float]:
        """`samples` ([n] or [n, channels]) -> ([m, 2] float32, time of the last of them;
        m may be 0 while the resampler waits for a whole chunk)."""
        block = samples.reshape(len(samples), self.channels)
        self._taken += len(block)
        self._last_time = last_sample_time
        if self._resamplers is None:
            converted = block
        else:
            converted = np.stack(
                [resampler.process(block[:, c]) for c, resampler in enumerate(self._resamplers)],
                axis=1,
            )
        self._given += len(converted)
        # The last output sample stands for input instant (given - 1) * rate / RECORD rate,
        # behind the last input sample (taken - 1) by `lag` input samples.
        lag = (self._taken - 1) - (self._given - 1) * self.rate / RECORD_AUDIO_RATE
        if converted.shape[1] == 1:
            converted = np.repeat(converted, RECORD_CHANNELS, axis=1)
        return converted.astype(np.float32, copy=False), last_sample_time - lag / self.rate

    def flush(self) -> tuple[np.ndarray, float]:
        """What the resampler still holds of the sound so far (its last chunk, about 12 ms),
        as `convert` gives it, up to the instant of the last sample taken: the source's
        sound ends here (one of another rate follows), and would otherwise be lost."""
        owed = (self._taken - 1) * RECORD_AUDIO_RATE // self.rate + 1 - self._given
        if self._resamplers is None or self._taken == 0 or owed <= 0:
            return np.zeros((0, RECORD_CHANNELS), dtype=np.float32), self._last_time
        last_time = self._last_time
        silence = np.zeros((owed * self.rate // RECORD_AUDIO_RATE + 4096, self.channels))
        converted, _ = self.convert(silence.astype(np.float32), last_time)
        return converted[:owed], last_time


@dataclass(frozen=True)
class RecordingProgress:
    """How far a recording has got, as its encoder thread last looked: seconds of video
    written, the file's size, the seconds those bytes hold (a fragmented file grows by whole
    fragments) and the free space on its disk (bytes)."""

    seconds: float
    file_bytes: int
    file_seconds: float
    free_bytes: int

    @property
    def room_minutes(self) -> float | None:
        """How many more minutes the disk holds at the file's rate so far (None until the
        file holds RATE_AFTER_SECONDS)."""
        if self.file_seconds < RATE_AFTER_SECONDS or self.file_bytes <= 0:
            return None
        return self.free_bytes / (self.file_bytes / self.file_seconds) / 60.0

    def describe(self) -> str:
        """The Record row's words for it, "1:05, 74 MB; room for about 41 min more" (the
        room once the rate is known; an hour or more as "1:02:05")."""
        hours, rest = divmod(int(self.seconds), 3600)
        minutes, seconds = divmod(rest, 60)
        length = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
        megabytes = self.file_bytes / 1e6
        size = f"{megabytes:.1f} MB" if megabytes < 10 else f"{megabytes:.0f} MB"
        text = f"{length}, {size}"
        room = self.room_minutes
        if room is None:
            return text
        if room < 1:
            return f"{text}; room for less than a minute more"
        if room < 120:
            return f"{text}; room for about {room:.0f} min more"
        return f"{text}; room for about {room / 60:.0f} h more"


@dataclass(frozen=True)
class RecordingSummary:
    path: Path
    width: int  # the video's pixels
    height: int
    seconds: float
    frames_shown: int  # frames the window showed while recording
    frames_written: int  # frames in the file (constant rate)
    frames_repeated: int  # slots the display skipped, filled with the frame before
    frames_merged: int  # frames that fell in a slot already filled
    frames_dropped: int  # frames the encoder had no time for (it fell behind)
    error: str | None = None

    def describe(self) -> str:
        if self.error and self.frames_written == 0:
            return f"Recording failed: {self.error}"
        if self.error:
            return (
                f"Recording stopped after {self.seconds:.0f} s: {self.error}. "
                f"{self.path.name} plays what was written before"
            )
        return (
            f"Saved {self.path.name}: {self.seconds:.1f} s, {self.frames_written} frames "
            f"({self.frames_dropped} dropped, {self.frames_repeated} repeated)"
        )


class Recorder:
    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: float,
        start_time: float,
        backlog_frames: int = 60,
        codec: str = H264,
    ):
        # x264's fastest preset: at veryfast a loaded 2-core machine fell behind at 720 px
        # Fragmented: a recording the disk cut short (or a crash) still plays what it holds.
        self.writer = VideoFileWriter(
            path,
            width,
            height,
            fps,
            RECORD_AUDIO_RATE,
            RECORD_CHANNELS,
            preset="ultrafast",
            codec=codec,
            fragmented=True,
        )
        self.path = Path(path)
        self.aspect = width / height  # each frame is cut to this shape, as the canvas shows it
        self.fps = float(fps)
        self.audio_rate = RECORD_AUDIO_RATE
        self._converter: SoundConverter | None = None  # for the source that sounds now
        self.start_time = start_time
        self.backlog_frames = backlog_frames
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._frames_queued = 0  # GUI side; the encoder thread counts down below
        self._frames_done = 0
        self.frames_shown = 0
        self.frames_dropped = 0
        self.frames_repeated = 0
        self.frames_merged = 0
        self._last_frame: np.ndarray | None = None
        self.error: str | None = None
        self.progress: RecordingProgress | None = None  # the encoder thread's last look
        self._finishing = False
        self._looked_at = 0.0
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._thread.start()

    # GUI thread: hand over references, nothing else.
    def add_frame(self, image: np.ndarray, shown_time: float) -> None:
        """A frame the canvas shows from `shown_time` (the whole picture: the encoder thread
        cuts it to the recording's shape); the array must not change later."""
        self.frames_shown += 1
        if self._frames_queued - self._frames_done >= self.backlog_frames:
            self.frames_dropped += 1
            return
        self._frames_queued += 1
        self._queue.put(("frame", image, shown_time))

    def add_audio(self, samples: np.ndarray, rate: int, last_sample_time: float) -> None:
        """float32 samples at `rate`, [n] (mono) or [n, 2] (a copy the caller gives up),
        the last heard at `last_sample_time`."""
        self._queue.put(("audio", (samples, rate), last_sample_time))

    def finish(self) -> None:
        """No more frames or sound: the encoder thread writes what it holds and closes the
        file (`finished` says when), without the caller waiting."""
        if not self._finishing:
            self._finishing = True
            self._queue.put(None)

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    def stop(self) -> RecordingSummary:
        """`finish`, wait for the file to be closed, and its summary."""
        self.finish()
        self._thread.join()
        return self.summary()

    def summary(self) -> RecordingSummary:
        """What was recorded (once `finished`)."""
        return RecordingSummary(
            path=self.path,
            width=self.writer.width,
            height=self.writer.height,
            seconds=self.writer.video_seconds,
            frames_shown=self.frames_shown,
            frames_written=self.writer.frames_written,
            frames_repeated=self.frames_repeated,
            frames_merged=self.frames_merged,
            frames_dropped=self.frames_dropped,
            error=self.error,
        )

    # Encoder thread.
    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            kind, data, when = item
            if kind == "frame":
                self._frames_done += 1
            if self.error is not None:
                continue  # keep draining: the GUI never waits on a failed recording
            try:
                if kind == "frame":
                    self._write_frame(data, when)
                    self._look_at_progress()
                else:
                    self._write_audio(*data, when)
            except Exception as error:  # noqa: BLE001 - a full disk, a codec error: reported
                self.error = str(error)
        try:
            self.writer.close()
        except Exception as error:  # noqa: BLE001 - reported, never raised into the GUI
            self.error = self.error or str(error)

    def _look_at_progress(self) -> None:
        """Every PROGRESS_SECONDS: the file's size and the disk's free space, published as
        one new `progress` for the GUI thread to read (here, since a slow disk may take its
        time to answer); a look the disk does not answer leaves the last one."""
        now = time.monotonic()
        if now - self._looked_at < PROGRESS_SECONDS:
            return
        self._looked_at = now
        try:
            file_bytes = os.stat(self.path).st_size
            free_bytes = shutil.disk_usage(self.path.parent).free
        except OSError:
            return
        seconds = self.writer.video_seconds
        file_seconds = FRAGMENT_SECONDS * (seconds // FRAGMENT_SECONDS)  # whole fragments
        self.progress = RecordingProgress(seconds, file_bytes, file_seconds, free_bytes)

    def _write_frame(self, image: np.ndarray, shown_time: float) -> None:
        slot = round((shown_time - self.start_time) * self.fps)
        if slot < self.writer.frames_written:
            self.frames_merged += 1
            return
        image = centre_crop(image, self.aspect)
        while self._last_frame is not None and self.writer.frames_written < slot:
            self.writer.write_frame(self._last_frame)
            self.frames_repeated += 1
        self.writer.write_frame(image)
        self._last_frame = image

    def _write_audio(self, samples: np.ndarray, rate: int, last_sample_time: float) -> None:
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        converter = self._converter
        if converter is None or (converter.rate, converter.channels) != (rate, channels):
            if converter is not None:
                self._place_audio(*converter.flush())  # the end of the sound before
            converter = self._converter = SoundConverter(rate, channels)
        self._place_audio(*converter.convert(samples, last_sample_time))

    def _place_audio(self, samples: np.ndarray, last_sample_time: float) -> None:
        """Write recording-rate stereo `samples` where their time puts them."""
        if len(samples) == 0:
            return
        first_time = last_sample_time - (len(samples) - 1) / self.audio_rate
        place = round((first_time - self.start_time) * self.audio_rate)
        offset = place - self.writer.samples_written
        if abs(offset) <= RESYNC_SECONDS * self.audio_rate:
            offset = 0  # clock jitter: keep the sound continuous
        if offset > 0:
            self.writer.write_audio(np.zeros((offset, RECORD_CHANNELS), dtype=np.float32))
        elif offset < 0:
            samples = samples[-offset:]  # already covered (or before the start)
        self.writer.write_audio(samples)
