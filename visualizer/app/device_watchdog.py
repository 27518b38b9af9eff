"""The device watchdog: a lost input or output device, a file that ended or broke, a file
with NaN or infinite samples.

The window calls `check` a few times a second. An input that delivered nothing for
SILENT_DEVICE_SECONDS is treated as lost: the device list is made afresh and the same input
is opened again every RETRY_SECONDS until it delivers. A file's output device that stopped
is looked for every OUTPUT_RETRY_SECONDS while the file is held where it was. A file that
breaks off midway plays up to the damage; then the playlist's next file plays, the reason
kept in the playlist line (with no next file, playback stops and says why). A file that
started with no output device plays on a silent real-time clock and moves to an output
device once a sound server answers. A stream PortAudio could not close (`release_stream`)
is said for as long as it lasts, and so is a sound server that does not answer PortAudio
(`wait_on_sound_server`: the window does not wait with it). Each becomes a line in the
panel, gone when the device is back.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from .app_settings import SOURCE_INPUT
from .audio_sources import (
    SOUND_SERVER_SILENT,
    STREAM_STUCK,
    AudioDeviceError,
    CaptureSource,
    FilePlayback,
    rescan_devices,
    sound_server_answers,
    sound_server_waited_on,
    streams_closing,
)

if TYPE_CHECKING:
    from .main_window import MainWindow

SILENT_DEVICE_SECONDS = 2.5  # an input that delivered nothing this long is treated as lost
RETRY_SECONDS = 2.0
OUTPUT_RETRY_SECONDS = 1.0  # a lost output device is looked for this often
SILENT_CLOCK_FAULT = "No output device"
STUCK_STREAM_FAULT = "portaudio"  # the fault line of a stream PortAudio could not close,
# or of a sound server PortAudio waits on


class DeviceWatchdog:
    """Watches the current source of one window (see the module docstring)."""

    def __init__(self, window: MainWindow):
        self.window = window
        self._silent_since: float | None = None
        self._retry_at = 0.0
        self._output_retry_at = 0.0
        self._last_blocks = 0

    def source_started(self, blocks: int) -> None:
        """A source started; `blocks`: the ring's block count now (new ones mean sound)."""
        self._last_blocks = blocks
        self._silent_since = None

    def input_missing_since(self, now: float) -> None:
        """The chosen input is not there (or did not open): look for it again from `now`."""
        self._silent_since = now

    def check(self, now: float) -> None:
        window = self.window
        trouble = None
        if streams_closing():
            trouble = f"{STREAM_STUCK}."
        elif sound_server_waited_on():
            trouble = f"{SOUND_SERVER_SILENT}."
        window.set_fault(STUCK_STREAM_FAULT, trouble)
        sources = window.sources
        source = sources.source
        if window.settings.source_kind == SOURCE_INPUT:
            self._watch_input(source, now)
        elif isinstance(source, FilePlayback):
            window.panel.set_position(source.position_seconds, source.duration_seconds)
            self._watch_output(source, now)
            if source.nonfinite_samples:
                window.set_fault(
                    "samples",
                    f"{source.path}: {source.nonfinite_samples} samples so far are NaN or "
                    "infinite; they play as silence.",
                )
            playlist = sources.playlist
            if source.decode_error and (playlist is None or not playlist.has_next):
                window.set_fault("source", f"Playback stopped: {source.decode_error}")
            elif source.finished and not sources.playlist_ended and playlist is not None:
                # a file that broke off played up to the damage; the list goes on
                error = source.decode_error
                sources.next_file(f"Skipped the rest: {error}" if error else None)
        if not isinstance(source, FilePlayback):
            window.panel.set_position(None, None)

    def _watch_input(self, source, now: float) -> None:
        window = self.window
        ring = window.link.ring
        delivering = (
            isinstance(source, CaptureSource) and source.alive and ring.blocks != self._last_blocks
        )
        self._last_blocks = ring.blocks
        if delivering:
            self._silent_since = None
            if "source" in window.faults and window.faults["source"].startswith("Lost"):
                window.set_fault("source", None)
            return
        if self._silent_since is None:
            self._silent_since = now
            return
        if now - self._silent_since < SILENT_DEVICE_SECONDS or now < self._retry_at:
            return
        self._retry_at = now + RETRY_SECONDS
        sources = window.sources
        key = window.settings.input_key
        sources.stop()
        with contextlib.suppress(AudioDeviceError):  # no PortAudio: refresh_inputs says so
            rescan_devices()  # a sound server that (re)started since is listed only then
        sources.refresh_inputs()
        choice = sources.input_by_key(key)
        label = sources.remembered_input_label()
        if choice is not None and sources.switch_to(
            CaptureSource(choice, sources.capture_ring(choice))
        ):
            self._silent_since = now
            window.set_fault("source", f"Lost input '{label}'; reconnected, waiting for sound.")
            return
        window.set_fault(
            "source",
            f"Lost input '{label}': it stopped delivering sound. Retrying every "
            f"{RETRY_SECONDS:.0f} s; pick another input to switch.",
        )

    def _watch_output(self, playback: FilePlayback, now: float) -> None:
        """A file's output device that stopped (unplugged, its sound server died) is opened
        again every OUTPUT_RETRY_SECONDS; playback is held where it stopped meanwhile."""
        window = self.window
        if playback.on_silent_clock:
            self._watch_silent_clock(playback, now)
            return
        lost_prefix = "Lost the output device"
        if not playback.output_lost:
            if window.faults.get("source", "").startswith(lost_prefix):
                window.set_fault("source", None)
            return
        if now >= self._output_retry_at:
            self._output_retry_at = now + OUTPUT_RETRY_SECONDS
            with contextlib.suppress(AudioDeviceError):
                playback.reopen_output()
                window.sources.show_output(playback)
                return
        minutes, seconds = divmod(int(playback.position_seconds), 60)
        window.set_fault(
            "source",
            f"{lost_prefix} '{playback.output_name}': the file is held at "
            f"{minutes}:{seconds:02d} and goes on when the device is back (looking for it "
            f"every {OUTPUT_RETRY_SECONDS:.0f} s; Space and seeking still work).",
        )

    def _watch_silent_clock(self, playback: FilePlayback, now: float) -> None:
        """A file that plays on the silent clock (there was no output device when it
        started) moves to an output device once a sound server answers; PortAudio is asked
        only then (re-initialising it stalls this thread for tens of milliseconds)."""
        window = self.window
        if now >= self._output_retry_at:
            self._output_retry_at = now + OUTPUT_RETRY_SECONDS
            if sound_server_answers():
                with contextlib.suppress(AudioDeviceError):
                    playback.move_to_device()
                    window.sources.show_output(playback)
                    if window.faults.get("source", "").startswith(SILENT_CLOCK_FAULT):
                        window.set_fault("source", None)
                    return
        window.set_fault(
            "source",
            f"{SILENT_CLOCK_FAULT}: '{playback.path.name}' plays silently in real time and "
            "moves to the output device once one appears.",
        )
