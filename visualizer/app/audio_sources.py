"""Where the audio comes from: an input device, or a file played through an output device.

Every audio callback here only copies samples (into the analysis `SampleRing`, and for
playback into the output buffer) and records a timestamp: no allocation, no lock, no
decoding. For a file, a feeder thread decodes ahead with `AudioFileReader` into a
preallocated `PlaybackBuffer`: the file's own sound (its rate, stereo kept) for the output,
and in step with it the mono analysis samples at the models' rate. The output callback
copies the sound out, and the analysis samples of the same stretch into the ring, stamped
with the time they will be heard, so the worker can show the picture in step with the sound.
Without any output device a `ClockedNullOutput` thread plays the same role in real time.
A list's next file that has the playing file's rate and channels is decoded on into the same
buffer as the playing file ends (`FilePlayback.follow_with`), so the list plays without a gap
and the output stream is never closed and opened between its files; a file started while
another of the same rate and channels plays (next, previous, a file picked) takes over its
open output (`FilePlayback.start`'s `hand_over`, through the `OutputRoute` the stream calls),
so it sounds at once instead of after a new stream's start.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from visualizer.frontend import AudioFileReader
from visualizer.frontend.decode import TrackTags

from .cue_sheet import CueTrack
from .playback_buffer import PlaybackBuffer
from .sample_ring import SampleRing

T = TypeVar("T")

PULSE_DEVICE = "pulse"
# PulseAudio's (and PipeWire's) name for the monitor of the default output, resolved by the
# server when the stream opens: what this computer plays, whichever sink that is
DEFAULT_MONITOR = "@DEFAULT_MONITOR@"
WHAT_THIS_COMPUTER_PLAYS = "what this computer plays (the default output's monitor)"
SILENT_CLOCK_NAME = "none (silent real-time clock)"
# A file's output block (about 512 samples at the models' 22,050 Hz) and decoding chunk.
PLAYBACK_BLOCK_SECONDS = 0.023
PLAYBACK_CHUNK_SECONDS = 0.2
HEARD_RING_SECONDS = 4.0  # what a file's output played, for recordings (read every 40 ms)
# Closing a PortAudio stream happens on a thread of this name (`release_stream`), waited for
# this long at most.
STREAM_CLOSER = "closing an audio stream"
CLOSE_WAIT_SECONDS = 0.5
# A PortAudio call that may wait on the sound server (opening a stream, asking whether one
# would open, listing the devices afresh) happens on a `SoundServerCall` thread of this name;
# a caller waits on it this long at most (`wait_on_sound_server`; nothing waits on a
# `DeviceSurvey`); pactl gets as long.
SOUND_SERVER_CALL = "waiting on the sound server"
SOUND_SERVER_WAIT_SECONDS = 1.0
# PortAudio's initialisation is given longer: the first import's (it happens once, while the
# window is made, and a cold start reads libraries from disk) and a device survey's (nothing
# waits on it, and probing many ALSA devices, HDMI outputs among them, can take a second or
# more on some machines) before the sound server counts as silent.
INITIALISE_WAIT_SECONDS = 5.0
SOUND_SERVER_SILENT = (  # the panel's line while such a call has not returned in its time
    "The sound server does not answer: PortAudio still waits on it, and audio devices are "
    "left alone until it answers (then a lost input or output is opened again); the picture "
    "goes on"
)
SOUND_SERVER_BUSY = (
    "PortAudio has not finished an earlier call yet (looking for devices, or waiting on the "
    "sound server)"
)


class AudioDeviceError(RuntimeError):
    """An audio device could not be opened or stopped working; the message says which."""


def _sounddevice():
    """sounddevice, for a call into PortAudio; AudioDeviceError while an earlier call still
    waits on the sound server (`sound_server_waited_on`): PortAudio is not made to do two
    things at once, and the caller does not wait on the same silent server. Its first import
    initialises PortAudio, which asks the sound server for its devices: it goes through
    `wait_on_sound_server` too (a silent server kept the app from starting at all)."""
    if sound_server_waited_on():  # perhaps the import itself: its lock would hold us too
        raise AudioDeviceError(SOUND_SERVER_BUSY)
    sounddevice = sys.modules.get("sounddevice")
    if sounddevice is not None:
        return sounddevice
    try:
        return wait_on_sound_server(
            lambda: importlib.import_module("sounddevice"), seconds=INITIALISE_WAIT_SECONDS
        )
    except OSError as error:  # the PortAudio library itself is missing
        raise AudioDeviceError(
            f"audio is unavailable: the PortAudio library is missing ({error}); "
            "install libportaudio2"
        ) from error


def wait_on_sound_server(
    call: Callable[[], T],
    late: Callable[[T], None] | None = None,
    seconds: float = SOUND_SERVER_WAIT_SECONDS,
) -> T:
    """`call()` on a thread of its own, waited for `seconds` at most: what it returns, or
    what it raised. PortAudio's calls that reach the sound server (opening a
    stream, checking that one would open, initialising) wait as long as the server does
    not answer: a PulseAudio or PipeWire that hangs, or one busy with a device that vanished
    as the stream opened (seen for over 2 s, the whole window frozen with it). When the call
    takes longer, AudioDeviceError says so and the caller goes on; `late(result)` runs on
    that thread if the call returns after all (a stream that opened late is released), and
    until it has returned, PortAudio is left alone (`_sounddevice` refuses)."""
    lock = threading.Lock()
    outcome: list[tuple[T | None, BaseException | None]] = []
    abandoned = False

    def run() -> None:
        try:
            answered: tuple[T | None, BaseException | None] = (call(), None)
        except Exception as error:  # noqa: BLE001 - raised again on the thread that waits
            answered = (None, error)
        with lock:
            if not abandoned:
                outcome.append(answered)
                return
        result, error = answered
        if error is None and late is not None:
            late(result)

    thread = SoundServerCall(run, seconds)
    thread.start()
    thread.join(seconds)
    with lock:
        if not outcome:
            abandoned = True
            raise AudioDeviceError(f"the sound server did not answer within {seconds:g} s")
    result, error = outcome[0]
    if error is not None:
        raise error
    return result


class SoundServerCall(threading.Thread):
    """A PortAudio call that may wait on the sound server, on a thread of its own
    (`wait_on_sound_server`, `DeviceSurvey`). While one runs, PortAudio is left alone
    (`sound_server_waited_on`); one that runs past `patience` seconds means the server does
    not answer (`sound_server_silent`)."""

    def __init__(self, call: Callable[[], None], patience: float):
        super().__init__(target=call, name=SOUND_SERVER_CALL, daemon=True)
        self.patience = patience
        self.started_at = time.monotonic()


def _calls_out() -> list[SoundServerCall]:
    """The `SoundServerCall`s of other threads that have not returned."""
    current = threading.current_thread()
    return [
        thread
        for thread in threading.enumerate()
        if isinstance(thread, SoundServerCall) and thread.is_alive() and thread is not current
    ]


def sound_server_waited_on() -> bool:
    """Whether a PortAudio call another thread made through `SoundServerCall` (a waited
    call, a device survey) has not returned."""
    return bool(_calls_out())


def sound_server_silent() -> bool:
    """Whether such a call has run past its patience: the sound server does not answer."""
    now = time.monotonic()
    return any(now - call.started_at > call.patience for call in _calls_out())


class _DeviceChoice:
    """What input and output choices share: a PortAudio `device`, or a PulseAudio source or
    sink (`pulse_name`, which each subclass names) through it."""

    @property
    def key(self) -> str:
        """What the settings remember (stable across reboots, unlike device indices)."""
        return f"pulse:{self.pulse_name}" if self.pulse_name else f"device:{self.device}"


@dataclass(frozen=True)
class InputChoice(_DeviceChoice):
    """One entry of the input picker. `pulse_source` set: that PulseAudio source via 'pulse'."""

    label: str
    device: str  # PortAudio device name
    pulse_source: str | None = None

    @property
    def pulse_name(self) -> str | None:
        return self.pulse_source


@dataclass(frozen=True)
class OutputChoice(_DeviceChoice):
    """One entry of the output picker. `pulse_sink` set: that PulseAudio sink via 'pulse'."""

    label: str
    device: str  # PortAudio device name
    pulse_sink: str | None = None

    @property
    def pulse_name(self) -> str | None:
        return self.pulse_sink


def _pulse_names(kind: str) -> list[str]:
    """The names of the PulseAudio/PipeWire `kind` ("sources" or "sinks"), or []."""
    pactl = shutil.which("pactl")
    if pactl is None:
        return []
    try:
        listing = subprocess.run(
            [pactl, "list", "short", kind],
            capture_output=True,
            text=True,
            timeout=SOUND_SERVER_WAIT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    fields = (line.split("\t") for line in listing.stdout.splitlines())
    return [field[1] for field in fields if len(field) >= 2]


def list_pulse_sources() -> list[tuple[str, str]]:
    """(name, description) of PulseAudio/PipeWire sources, monitors included, or []."""
    return [
        (name, "monitor of " + name[: -len(".monitor")] if name.endswith(".monitor") else name)
        for name in _pulse_names("sources")
    ]


def list_inputs() -> list[InputChoice]:
    """Every input the machine offers: PortAudio input devices, then PulseAudio sources, the
    default output's monitor first (music from any player on this computer, with no need to
    know which sink it plays to)."""
    sd = _sounddevice()
    choices = []
    names = []
    for device in sd.query_devices():
        if device["max_input_channels"] > 0:
            names.append(device["name"])
            choices.append(InputChoice(label=device["name"], device=device["name"]))
    if PULSE_DEVICE in names:
        sources = list_pulse_sources()
        if any(name.endswith(".monitor") for name, _ in sources):
            choices.append(
                InputChoice(
                    label=f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS}",
                    device=PULSE_DEVICE,
                    pulse_source=DEFAULT_MONITOR,
                )
            )
        for name, description in sources:
            choices.append(
                InputChoice(
                    label=f"PulseAudio: {description}", device=PULSE_DEVICE, pulse_source=name
                )
            )
    return choices


def input_label(key: str) -> str:
    """The picker's name for the input a settings `key` remembers, also when that input is
    not listed now (its sink unloaded, its interface unplugged): "PulseAudio: what this
    computer plays (...)" for the default output's monitor, "PulseAudio: SOURCE" for another
    PulseAudio source, the PortAudio device's name for a device."""
    kind, _, name = key.partition(":")
    if kind != "pulse":
        return name
    return f"PulseAudio: {WHAT_THIS_COMPUTER_PLAYS if name == DEFAULT_MONITOR else name}"


def list_outputs() -> list[OutputChoice]:
    """Every output the machine offers: PortAudio output devices, then PulseAudio sinks."""
    sd = _sounddevice()
    choices = [
        OutputChoice(label=device["name"], device=device["name"])
        for device in sd.query_devices()
        if device["max_output_channels"] > 0
    ]
    if any(choice.device == PULSE_DEVICE for choice in choices):
        choices += [
            OutputChoice(label=f"PulseAudio: {name}", device=PULSE_DEVICE, pulse_sink=name)
            for name in _pulse_names("sinks")
        ]
    return choices


STREAM_STUCK = (
    "An audio stream whose device vanished is stuck in PortAudio and spins on a processor "
    "core nothing else wants; restart musicscape when the show allows. Until then the "
    "device list is not made afresh (a device plugged in since is not listed), the input "
    "may not come back, and standard error is muted (the stuck stream floods it)"
)


class DeviceSurvey:
    """The devices looked for afresh and listed, on a `SoundServerCall` of its own.
    PortAudio's list is fixed when it initialises, so a sound server that started later (or
    a device plugged in since) is missing from it until it is initialised again: 40-50 ms
    here, longer where PortAudio probes many ALSA devices or the server is slow, and done
    every few seconds while a device is lost, which stalled the window each time (56-64 ms
    every 2 s here). Nothing waits on it: `done` says when it has finished; then `inputs`
    and `outputs` (as `list_inputs` and `list_outputs` list them), `has_output` (a default
    output), `error` (why the inputs could not be listed) and `reinitialised`. While it
    runs, other PortAudio calls are refused (`_sounddevice`), and one that runs past
    INITIALISE_WAIT_SECONDS means the sound server does not answer
    (`sound_server_silent`). Re-initialising closes every stream: close them first. While a
    stream is still closing (`streams_closing`) PortAudio is not re-initialised, which
    would wait on it, and the devices it listed last are listed again."""

    def __init__(self):
        self.inputs: list[InputChoice] = []
        self.outputs: list[OutputChoice] = []
        self.has_output = False
        self.reinitialised = False
        self.error: AudioDeviceError | None = None
        self._call = SoundServerCall(self._survey, INITIALISE_WAIT_SECONDS)
        self._call.start()

    @property
    def done(self) -> bool:
        return not self._call.is_alive()

    def _survey(self) -> None:
        try:
            sd = _sounddevice()
        except AudioDeviceError as error:
            self.error = error
            return
        try:
            if not streams_closing():
                sd._terminate()
                sd._initialize()
                self.reinitialised = True
            self.inputs = list_inputs()
            self.outputs = list_outputs()
        except AudioDeviceError as error:
            self.error = error
            return
        except sd.PortAudioError as error:
            self.error = AudioDeviceError(f"PortAudio cannot list the devices: {error}")
            return
        self.has_output = has_output_device()


def native_threads() -> set[int]:
    """The ids of this process's native threads (Linux's /proc; none where it has none)."""
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def threads_started_since(before: set[int]) -> frozenset[int]:
    """The native threads that started since `before` (`native_threads`) and are not
    Python's: around a stream's opening, the stream's own (PortAudio's callback thread, the
    sound server's client threads). Another library starting threads at that very moment
    (ONNX Runtime's pool, as a model reload opens a session) would be counted too; they are
    only ever demoted if the stream sticks."""
    python = {thread.native_id for thread in threading.enumerate()}
    return frozenset(native_threads() - before - python)


def demote_threads(threads: frozenset[int]) -> int:
    """Put `threads` under SCHED_IDLE, where they run only on a processor nothing else
    wants (any process may lower its own threads so): how many were; those that have ended
    are passed over."""
    demoted = 0
    for thread in threads:
        with contextlib.suppress(OSError):
            os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
            demoted += 1
    return demoted


def release_stream(stream, threads: frozenset[int] = frozenset()) -> bool:
    """Abort and close a PortAudio stream (an output's or an input's) on a thread of its own
    and wait CLOSE_WAIT_SECONDS at most: True when it closed in that time. PortAudio's ALSA
    host API can block for ever aborting a stream whose device vanished at the wrong moment
    (a PulseAudio sink unloaded while its monitor was captured, within a second of the
    stream starting: its callback thread spins on the error and the abort waits on that
    thread, which keeps a core busy), and the GUI thread must not block with it. A stream
    that does not close stays with its thread, and `streams_closing` says so; a new stream
    on the device opens beside it but does not always deliver, and standard error is sent to
    /dev/null. The native threads its opening started (`threads`: `threads_started_since`)
    are demoted to SCHED_IDLE, so the spinning one takes a core only when nothing else
    wants it: the worker, the GUI and the rest of the show come first. Closing is quiet: a
    vanished device may fail to close; it is gone."""

    def close() -> None:
        with contextlib.suppress(Exception):
            stream.abort()
            stream.close()

    closer = threading.Thread(target=close, name=STREAM_CLOSER, daemon=True)
    closer.start()
    closer.join(CLOSE_WAIT_SECONDS)
    if not closer.is_alive():
        return True
    demote_threads(threads)
    # The stuck thread prints the same error line as fast as it can (70 MB/s here: 15 GB in
    # 3.5 minutes): standard error goes to /dev/null from now on, before it fills a disk or
    # a journal. The show's log keeps what matters (faults, errors, tracebacks).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    return False


def open_stream(make_stream: Callable[[Any], T]) -> tuple[T, frozenset[int]]:
    """The PortAudio stream `make_stream(sounddevice)` makes, started, and the native threads
    its opening started (`threads_started_since`), opened through `wait_on_sound_server`:
    the caller waits SOUND_SERVER_WAIT_SECONDS at most, and a stream that opens later is
    released on its own thread. AudioDeviceError, PortAudio's reason in its words, when it
    cannot open (one made but not started is released) or the server did not answer."""
    sd = _sounddevice()

    def open_started() -> tuple[T, frozenset[int]]:
        before = native_threads()
        stream = make_stream(sd)
        try:
            stream.start()
        except BaseException:
            release_stream(stream, threads_started_since(before))
            raise
        return stream, threads_started_since(before)

    try:
        return wait_on_sound_server(open_started, late=lambda opened: release_stream(*opened))
    except (sd.PortAudioError, ValueError) as error:
        raise AudioDeviceError(str(error)) from error


def streams_closing() -> bool:
    """Whether a stream given to `release_stream` has not closed yet (PortAudio is stuck on
    it): then PortAudio must not be re-initialised or terminated, which would wait on it."""
    return any(
        thread.name == STREAM_CLOSER and thread.is_alive() for thread in threading.enumerate()
    )


def let_go_of_stuck_streams_at_exit() -> bool:
    """At the app's end: when a stream never closed (`streams_closing`) or a call still waits
    on the sound server (`sound_server_waited_on`), take sounddevice's exit handler off, which
    would stop and close every stream and terminate PortAudio, waiting on it for ever: the
    process ends and the system frees the device. True when it did so."""
    if not streams_closing() and not sound_server_waited_on():
        return False
    import atexit

    sounddevice = sys.modules.get("sounddevice")  # not there: its import still waits
    if sounddevice is not None and hasattr(sounddevice, "_exit_handler"):
        atexit.unregister(sounddevice._exit_handler)
    return True


def sound_server_answers() -> bool:
    """Whether a PulseAudio server (or PipeWire's) accepts connections on the socket its
    clients use (PULSE_SERVER's unix:PATH, else $XDG_RUNTIME_DIR/pulse/native): a check
    that costs a connect(), where asking PortAudio means re-initialising it (~50-90 ms)."""
    server = os.environ.get("PULSE_SERVER", "")
    if server.startswith("unix:"):
        path = server[len("unix:") :]
    elif server:
        return False  # a network server: only PortAudio can tell
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        if not runtime:
            return False
        path = os.path.join(runtime, "pulse", "native")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.05)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def has_output_device() -> bool:
    try:
        sd = _sounddevice()
    except AudioDeviceError:
        return False
    try:
        return sd.query_devices(kind="output") is not None
    except (sd.PortAudioError, ValueError):
        return False


def capture_rate(choice: InputChoice, preferred: int) -> int:
    """`preferred` when the input can run at it, else the input's own default rate (the
    worker converts it); `preferred` too when the input cannot be asked (opening it then
    says why)."""
    try:
        sd = _sounddevice()
    except AudioDeviceError:
        return preferred
    try:
        wait_on_sound_server(
            lambda: sd.check_input_settings(
                device=choice.device, channels=1, dtype="float32", samplerate=preferred
            )
        )
        return preferred
    except AudioDeviceError:  # the sound server does not answer
        return preferred
    except (sd.PortAudioError, ValueError):
        pass
    try:
        return int(round(sd.query_devices(choice.device, "input")["default_samplerate"]))
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return preferred


@contextlib.contextmanager
def _pulse_device(variable: str, name: str | None):
    """PulseAudio's 'pulse' device opens the source named by PULSE_SOURCE (or plays to the
    sink named by PULSE_SINK), read when the stream opens: set `variable` for that moment
    only, so a later plain 'pulse' stream opens the default again."""
    if name is None:
        yield
        return
    before = os.environ.get(variable)
    os.environ[variable] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ[variable]
        else:
            os.environ[variable] = before


class CaptureSource:
    """An input device stream writing into the analysis ring."""

    kind = "device"

    def __init__(self, choice: InputChoice, ring: SampleRing, block: int = 256):
        self.choice = choice
        self.ring = ring
        self.block = block
        self.overflows = 0
        self._stream = None
        self._stream_threads: frozenset[int] = frozenset()  # what opening it started

    @property
    def description(self) -> str:
        return f"input: {self.choice.label}"

    def start(self) -> None:
        def make_stream(sd):
            with _pulse_device("PULSE_SOURCE", self.choice.pulse_source):
                return sd.InputStream(
                    device=self.choice.device,
                    channels=1,
                    samplerate=self.ring.sample_rate,
                    blocksize=self.block,
                    dtype="float32",
                    callback=self._callback,
                )

        try:
            self._stream, self._stream_threads = open_stream(make_stream)
        except AudioDeviceError as error:
            raise AudioDeviceError(f"cannot open input '{self.choice.label}': {error}") from error

    def _callback(self, indata, frames, time_info, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        self.ring.write(indata[:, 0], time.perf_counter())

    @property
    def alive(self) -> bool:
        return self._stream is not None and self._stream.active

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            release_stream(stream, self._stream_threads)


def _close_quietly(output, threads: frozenset[int] = frozenset()) -> None:
    """Close an output: a PortAudio stream by `release_stream` (aborted first: a dead one
    never drains; `threads`: those its opening started), the silent clock at once."""
    if isinstance(output, ClockedNullOutput):
        output.close()
    elif output is not None:
        release_stream(output, threads)


class ClockedNullOutput:
    """Stands in for an output device: calls `render` every block in real time, silently."""

    def __init__(self, render, sample_rate: int, block: int, channels: int):
        self._render = render
        self.sample_rate = sample_rate
        self.block = block
        self._buffer = np.zeros((block, channels), dtype=np.float32)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.latency = 0.0

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="null-output", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self.block / self.sample_rate
        next_time = time.perf_counter()
        while not self._stopping.is_set():
            self._render(self._buffer, self.block, next_time + period)
            next_time += period
            delay = next_time - time.perf_counter()
            if delay > 0:
                self._stopping.wait(delay)

    @property
    def active(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def close(self) -> None:
        self.stop()


class OutputRoute:
    """Which playback an open output (a PortAudio stream, or the silent clock) renders: the
    stream calls the route, and a file started after another of the same rate and channels
    is made its target, so the stream plays on (one attribute, read once per callback)."""

    def __init__(self, playback: FilePlayback):
        self.playback = playback

    def callback(self, outdata, frames, time_info, status) -> None:
        self.playback._callback(outdata, frames, time_info, status)

    def render(self, outdata, frames, heard_time) -> None:
        self.playback._render(outdata, frames, heard_time)


@dataclass(frozen=True)
class FollowingFile:
    """A list's next file, decoded on without a gap after the playing one: `starts_at` is
    its first frame's place in the playback buffer (frames written before it)."""

    path: Path
    reader: AudioFileReader
    starts_at: int


class FilePlayback:
    """Plays a file as it is (its own rate and channels) through an output device, or a
    clocked null output, while the worker analyses it at the models' rate."""

    kind = "file"

    def __init__(
        self,
        path: str | Path,
        ring: SampleRing,
        use_output_device: bool = True,
        loop: bool = False,
        ahead_seconds: float = 1.0,
        output: OutputChoice | None = None,
    ):
        self.path = Path(path)
        self.ring = ring
        self.loop = loop
        self.reader = self._open_reader(self.path)  # raises AudioDecodeError, plainly worded
        self.output_rate = self.reader.source_rate
        self.output_channels = self.reader.sound_channels
        self.block = max(64, round(PLAYBACK_BLOCK_SECONDS * self.output_rate))
        self.duration_seconds = self.reader.duration_seconds
        chunk_frames, chunk_samples = self.reader.chunk_frames, self.reader.chunk_samples
        self._buffer = PlaybackBuffer(
            sound_capacity=int(ahead_seconds * self.output_rate) + chunk_frames + 4 * self.block,
            channels=self.output_channels,
            samples_capacity=int(ahead_seconds * ring.sample_rate) + 2 * chunk_samples,
        )
        self._chunk_frames, self._chunk_samples = chunk_frames, chunk_samples
        # What the output played, as played (the file's rate and channels), for recordings.
        self.heard = SampleRing(
            int(HEARD_RING_SECONDS * self.output_rate),
            self.output_rate,
            channels=self.output_channels,
        )
        self._feeder: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._seek_request: float | None = None
        self._seek_applying: float | None = None  # taken up by the feeder, not yet in place
        self._lock = threading.Lock()  # guards the reader between feeder and seek requests
        # Held while a block renders, and by `set_paused`: once that returns, no block
        # already under way when it was called still counts as played.
        self._render_lock = threading.Lock()
        self._paused = False
        self._output_threads: frozenset[int] = frozenset()  # what opening the output started
        self.ended = False
        self.underruns = 0
        self.overflows = 0
        self._origin_frame = 0  # file position (frames) of buffer frame 0 after a seek
        self._origin_buffer = 0
        self.played_frames = 0  # buffer frames handed to the output so far
        self.use_output_device = use_output_device
        self.output = output  # the output chosen (None: the default one)
        self.output_note: str | None = None  # why the chosen output is not the one playing
        self.output_name = "none"
        self._output = None
        self._device_output = False  # an output device (not the null clock) was opened
        self._output_delay = 0.0
        self.decode_error: str | None = None
        # The list's next file, set by the window (`follow_with`), and that file once the
        # feeder has gone on into it and until it is heard (`move_on`).
        self.following: Path | None = None
        self._next: FollowingFile | None = None
        self.cue_tracks: tuple[CueTrack, ...] = ()  # its tracks, where a cue sheet gives them
        self._route = OutputRoute(self)  # what its output calls (handed on with the output)
        # The buffer frames handed on so far and the perf_counter time the last is heard,
        # set together (one reference: the next file's stream reads it, `heard_to_its_end_at`)
        self.last_heard: tuple[int, float] = (0, 0.0)
        self._after: FilePlayback | None = None  # held silent until it is heard to its end

    def _open_reader(self, path: Path) -> AudioFileReader:
        return AudioFileReader(
            path, self.ring.sample_rate, chunk_seconds=PLAYBACK_CHUNK_SECONDS, keep_sound=True
        )

    @property
    def description(self) -> str:
        return f"file: {self.path.name}"

    @property
    def nonfinite_samples(self) -> int:
        """NaN/inf samples of the file decoded so far; they play and are analysed as 0."""
        return self.reader.nonfinite_samples

    @property
    def finished(self) -> bool:
        """The whole file has been decoded and handed to the output (never, when looping)."""
        return (  # in this order: a seek put in place as it is read leaves `ended` False
            self._seek_target is None
            and self.ended
            and self.played_frames >= self._buffer.frames_written
        )

    @property
    def _seek_target(self) -> float | None:
        """Where a seek asked for goes, until the feeder has put the file there."""
        request = self._seek_request
        return self._seek_applying if request is None else request

    @property
    def sound_description(self) -> str:
        """How the file plays: "44,100 Hz stereo"."""
        channels = "stereo" if self.output_channels == 2 else "mono"
        return f"{self.output_rate:,} Hz {channels}"

    @property
    def cue_track_number(self) -> int | None:
        """Which of the cue sheet's tracks plays now (0: the first, also before its start);
        None for a file with no cue sheet."""
        if not self.cue_tracks:
            return None
        starts = [track.start_seconds for track in self.cue_tracks]
        return max(bisect_right(starts, self.position_seconds) - 1, 0)

    @property
    def tags(self) -> TrackTags:
        """What plays: the cue sheet's track, else the file's title, artist and album as its
        tags give them (empty where none)."""
        number = self.cue_track_number
        return self.reader.tags if number is None else self.cue_tracks[number].tags

    @property
    def position_seconds(self) -> float:
        """Where playback stands, s: where a seek asked for goes, until the feeder has
        moved there (so a second seek, or the place kept, starts from it)."""
        target = self._seek_target
        if target is not None:
            return target
        played = self.played_frames - self._origin_buffer
        seconds = (self._origin_frame + max(played, 0)) / self.output_rate
        # (past the end: the next file is heard already, until `move_on` says so)
        return seconds % self.duration_seconds if self.loop else min(seconds, self.duration_seconds)

    def set_loop(self, loop: bool) -> None:
        """Loop the file seamlessly from now on (also from a last second decoded already),
        or play on to its end from where it stands (what was decoded of its next round is
        let go of, as a seek does)."""
        if loop == self.loop:
            return
        if loop:
            self.loop = True
            self._decode_on_from_the_end()  # and loop
        else:
            position = self.position_seconds  # within the round playing
            self.loop = False
            self.seek(position)

    def follow_with(self, path: Path | None) -> None:
        """Go on into `path` (the list's next file; None: none) without a gap as this file
        ends, where it opens and has this file's rate and channels; else playback ends as
        before and the window opens it anew. The feeder opens it, never the caller. A file
        decoded to its end already (one shorter than the second decoded ahead) goes on too."""
        self.following = path
        if path is not None:
            self._decode_on_from_the_end()  # into it
        else:
            self._wake.set()

    def _decode_on_from_the_end(self) -> None:
        """Wake the feeder; where it had decoded the file to its end (whole, no following
        file queued), it finds the end again and goes on, as `loop` or `following` say."""
        if self.ended and self._next is None and not self.decode_error:
            self.ended = False
        self._wake.set()

    def move_on(self) -> bool:
        """Whether the file that follows (`follow_with`) is heard now: then this playback is
        that file's (its path, length, tags and position) and True is returned once. Never
        waits on the feeder: while it decodes, the answer is False until the next call."""
        following = self._next
        if following is None or self.played_frames < following.starts_at:
            return False
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if self._next is not following:  # a seek took it back meanwhile
                return False
            heard_to_its_end = self.reader
            self.reader, self.path = following.reader, following.path
            self.duration_seconds = following.reader.duration_seconds
            self._origin_frame, self._origin_buffer = 0, following.starts_at
            self._next = self.following = None
        finally:
            self._lock.release()
        heard_to_its_end.close()
        return True

    def start(self, hand_over: FilePlayback | None = None) -> None:
        """Decode the first second, then play: through `hand_over`'s open output where it
        can (`can_take_output_from`; that playback is to be stopped next, its output no
        longer its own), else through an output opened now."""
        self._fill()
        self._feeder = threading.Thread(target=self._feed, name="file-feeder", daemon=True)
        self._feeder.start()
        if hand_over is not None and self._take_output_from(hand_over):
            return
        if self.use_output_device and has_output_device():
            try:
                self.open_output()
                return
            except AudioDeviceError:
                pass
        self._start_silent_clock()

    def start_after(self, playing: FilePlayback) -> None:
        """Decode the first second and open an output of its own now, held silent until
        `playing` has handed on its last frame and that frame is heard; from the next
        sample on it sounds. So a list's next file of another rate or channels follows
        without the gap a stream's start leaves (0.9-1.9 s through PulseAudio), where both
        streams can be open at once. AudioDeviceError where the chosen output does not
        open (an exclusive device the playing file holds; never the default one instead);
        then nothing of it is left running."""
        self._after = playing
        self._fill()
        self._feeder = threading.Thread(target=self._feed, name="file-feeder", daemon=True)
        self._feeder.start()
        try:
            if self.use_output_device and has_output_device():
                self.open_output()
                if self.output_note is not None:
                    raise AudioDeviceError(self.output_note)
            else:
                self._start_silent_clock()
        except AudioDeviceError:
            self.stop()
            raise

    @property
    def started(self) -> bool:
        """Its decoding and its output are under way (`start`, or `start_after`)."""
        return self._feeder is not None

    def sound_now(self) -> None:
        """Sound from the next block on, not after the file it was started after
        (`start_after`): that file is being stopped."""
        self._after = None

    def can_take_output_from(self, other: FilePlayback) -> bool:
        """Whether `other`'s open output (a stream or the silent clock) is alive and plays
        this file's rate and channels to the output this file would open."""
        output = other._output
        plays_like = (other.output_rate, other.output_channels, other.use_output_device)
        return (
            output is not None
            and output.active
            and not other._stopping
            and plays_like == (self.output_rate, self.output_channels, self.use_output_device)
            and other.output == self.output
        )

    def _take_output_from(self, other: FilePlayback) -> bool:
        """Take `other`'s open output where it can (`can_take_output_from`); True when it
        is this playback's now (its route points here, and `other` will not close it)."""
        if not self.can_take_output_from(other):
            return False
        output, other._output = other._output, None  # no longer the other's to close
        self._output, self._output_threads = output, other._output_threads
        self._device_output, self._output_delay = other._device_output, other._output_delay
        self.output_name, self.output_note = other.output_name, other.output_note
        self._route = other._route
        self._route.playback = self  # from the next callback on, this file sounds
        return True

    def _start_silent_clock(self) -> None:
        self._output = ClockedNullOutput(
            self._route.render, self.output_rate, self.block, self.output_channels
        )
        self._output.start()
        self.output_name = SILENT_CLOCK_NAME

    def open_output(self) -> None:
        """Open and start the chosen output (`output`), else, or when it cannot be opened
        (`output_note` says why), the default one: PulseAudio's when PortAudio lists it, else
        PortAudio's default. Playback goes on from the first sample not yet heard."""
        self.output_note = None
        chosen = self.output
        if chosen is not None:
            try:
                self._open_stream(chosen.device, chosen.pulse_sink, chosen.label)
                return
            except AudioDeviceError as error:
                self.output_note = (
                    f"The chosen output '{chosen.label}' cannot play ({error}); "
                    "playing through the default output."
                )
        sd = _sounddevice()
        self._open_stream(PULSE_DEVICE if self._has_pulse(sd) else None, None, None)

    def _open_stream(self, device: str | None, pulse_sink: str | None, label: str | None) -> None:
        def make_stream(sd):
            with _pulse_device("PULSE_SINK", pulse_sink):
                stream = sd.OutputStream(
                    samplerate=self.output_rate,
                    channels=self.output_channels,
                    blocksize=self.block,
                    dtype="float32",
                    callback=self._route.callback,
                    device=device,
                )
            self._output_delay = float(stream.latency)  # before its first callback
            return stream

        try:
            stream, threads = open_stream(make_stream)
        except AudioDeviceError as error:
            raise AudioDeviceError(f"cannot open the output device: {error}") from error
        self.output_name = label or str(_sounddevice().query_devices(stream.device)["name"])
        self._output = stream
        self._output_threads = threads
        self._device_output = True

    def use_output(self, choice: OutputChoice | None) -> None:
        """Play through `choice` (None: the default output) from now on. A file that plays
        on a device moves there at once, from the first sample not yet heard;
        AudioDeviceError when no output opens (then the output counts as lost)."""
        self.output = choice
        if self._device_output:
            self.close_output()
            self.open_output()

    @property
    def on_silent_clock(self) -> bool:
        """An output device was asked for, but there was none when playback started: the
        file plays on the silent real-time clock until one appears (`move_to_device`)."""
        return self.use_output_device and not self._device_output and not self._stopping

    def move_to_device(self) -> None:
        """From the silent clock to an output device that appeared since (found by a
        `DeviceSurvey`: the silent clock is no PortAudio stream, nothing to close first);
        playback goes on from the first sample not yet heard. AudioDeviceError when it
        cannot open, and the clock goes on."""
        clock, self._output = self._output, None
        _close_quietly(clock)
        try:
            self.open_output()
        except AudioDeviceError:
            self._start_silent_clock()
            raise

    def close_output(self) -> None:
        """Let go of the output device (the file position stays where playback reached)."""
        output, self._output = self._output, None
        _close_quietly(output, self._output_threads)

    @property
    def uses_device(self) -> bool:
        """Whether playback goes to an output device (not the silent real-time clock)."""
        return self._device_output

    @property
    def output_lost(self) -> bool:
        """The output device stopped taking samples (unplugged, its sound server died) or
        could not be opened again since: playback is held where it stopped."""
        if not self._device_output or self._stopping:
            return False
        output = self._output
        return output is None or not output.active

    @staticmethod
    def _has_pulse(sd) -> bool:
        return any(d["name"] == PULSE_DEVICE for d in sd.query_devices())

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status.output_underflow:
            self.underruns += 1
        delay = time_info.outputBufferDacTime - time_info.currentTime
        if not 0.0 < delay < 1.0:
            delay = self._output_delay
        self._render(outdata, frames, time.perf_counter() + delay + frames / self.output_rate)

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Hold playback where it stands, or play on; waits for a block being rendered, so
        the position read after pausing is where it stays."""
        with self._render_lock:
            self._paused = paused

    def _render(self, outdata, frames, last_sample_time) -> None:
        # Never waits: a block that meets `set_paused` under way is silent, as paused.
        if self._paused or not self._render_lock.acquire(blocking=False):
            outdata.fill(0)
            return
        try:
            self._render_unpaused(outdata, frames, last_sample_time)
        finally:
            self._render_lock.release()

    def _render_unpaused(self, outdata, frames, last_sample_time) -> None:
        after = self._after
        if after is not None:
            silent = self._frames_before_heard_to_its_end(after, frames, last_sample_time)
            outdata[:silent] = 0.0
            if silent == frames:
                return
            self._after = None
            outdata, frames = outdata[silent:], frames - silent
        count, samples = self._buffer.take(outdata[:frames])
        if count < frames:
            outdata[count:] = 0.0
        if count:
            # The last sample released is heard with the last frame played.
            heard = last_sample_time - (frames - count) / self.output_rate
            self.heard.write(
                outdata[:count] if self.output_channels > 1 else outdata[:count, 0], heard
            )
            if samples:
                self.ring.write(self._buffer.analysis[:samples], heard)
            # Counted as played once written where it is heard and analysed: a file seen
            # `finished` has its last block in both rings.
            self.played_frames = self._buffer.frames_read
            self.last_heard = (self.played_frames, heard)
        self._wake.set()

    def _frames_before_heard_to_its_end(
        self, playing: FilePlayback, frames: int, last_sample_time: float
    ) -> int:
        """How many of a block's `frames` (its last heard at `last_sample_time`) are heard
        before `playing`'s last frame is: all of them until that time is known."""
        end = playing.heard_to_its_end_at
        if end is None:
            return frames
        first_sample_time = last_sample_time - (frames - 1) / self.output_rate
        before = (end - first_sample_time) * self.output_rate
        return min(max(math.floor(before) + 1, 0), frames)

    @property
    def heard_to_its_end_at(self) -> float | None:
        """When its last frame will be heard (perf_counter time), once it is decoded to its
        end and plays on to it: the frames left in its buffer after the last one handed on
        (so a file started after it never waits on the order two output threads run in);
        None before, and while it is paused or a seek is under way."""
        if self._seek_target is not None or not self.ended or self.paused:  # as `finished`
            return None
        handed_on, heard = self.last_heard
        if not handed_on:
            return None
        return heard + (self._buffer.frames_written - handed_on) / self.output_rate

    def _fill(self) -> None:
        """Decode ahead until the buffer is full; at the end of the file, on into the one
        that follows it where that can play without a gap."""
        while self._fill_from_reader() and self._go_on_into_following():
            pass

    def _fill_from_reader(self) -> bool:
        """True when the file decoded ended and a following one is to be opened."""
        with self._lock:
            while not self.ended and self._buffer.space_for(
                self._chunk_frames, self._chunk_samples
            ):
                reader = self.reader if self._next is None else self._next.reader
                chunk = reader.read_chunk()
                if chunk is None:
                    if self.loop:
                        reader.seek(0.0)
                        continue
                    if self._next is None and self.following is not None:
                        return True
                    self.ended = True
                    break
                self._buffer.put(chunk.sound, chunk.samples)
        return False

    def can_go_on_into(self, following: FilePlayback | AudioFileReader) -> bool:
        """Whether a file (its playback, or its reader) plays at this file's rate and
        channels, and so can go on in this file's buffer and output without a gap."""
        if isinstance(following, FilePlayback):
            following = following.reader
        plays_as = (following.source_rate, following.sound_channels)
        return plays_as == (self.output_rate, self.output_channels)

    def _go_on_into_following(self) -> bool:
        """Open the following file (outside the lock: `move_on` never waits on it); True
        when its frames go on in this buffer. A file that does not open, or that has another
        rate or channels, is left to the window to open anew (and to name, if it fails)."""
        path = self.following
        if path is None:  # the window has just said none follows
            self.ended = True
            return False
        try:
            reader = self._open_reader(path)
        except Exception:  # noqa: BLE001 - named when the window opens it, not as this file's
            self.ended = True
            return False
        if not self.can_go_on_into(reader):
            reader.close()
            self.ended = True
            return False
        with self._lock:
            self._next = FollowingFile(path, reader, self._buffer.frames_written)
        return True

    def _feed(self) -> None:
        while not self._stopping:
            self._wake.wait(0.1)
            self._wake.clear()
            try:
                if self._seek_request is not None:
                    self._apply_seek()
                self._fill()
            except Exception as error:  # noqa: BLE001 - a file damaged midway
                self.decode_error = str(error)
                self.ended = True

    def _apply_seek(self) -> None:
        """Seek in the file heard: a following file decoded on already is let go of, and
        gone on into again at this file's end."""
        seconds = self._seek_applying = self._seek_request
        self._seek_request = None  # a seek asked for from here on is applied after this one
        try:
            with self._lock:
                dropped, self._next = self._next, None
                if dropped is not None:
                    dropped.reader.close()
                self.reader.seek(seconds)
                self.ended = False
                self._origin_frame = round(self.reader.position_seconds * self.output_rate)
                self._origin_buffer = self._buffer.frames_written
                self._buffer.flush()
        finally:
            self._seek_applying = None

    def seek(self, seconds: float) -> None:
        self._seek_request = min(max(seconds, 0.0), self.duration_seconds)
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._output is not None and self._output.active

    def stop(self) -> None:
        self._stopping = True
        self._after = None
        self._wake.set()
        self.close_output()
        if self._feeder is not None:
            self._feeder.join(timeout=2.0)
        self.reader.close()
        if self._next is not None:
            self._next.reader.close()
