"""The device watchdog: a lost input or output device, a file that ended or broke, a file
with NaN or infinite samples.

The window calls `check` a few times a second. An input that delivered nothing for
SILENT_DEVICE_SECONDS is treated as lost: the device list is made afresh and the same input
is opened again every RETRY_SECONDS until it delivers. A file's output device that stopped
is looked for every OUTPUT_RETRY_SECONDS while the file is held where it was. Each look for
devices is a `DeviceSurvey` on a thread of its own, which the window never waits on: its
answer is taken up by the next check after it finished. A file that
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
from collections.abc import Callable
from typing import TYPE_CHECKING

from .app_settings import SOURCE_INPUT
from .audio_sources import (
    SOUND_SERVER_SILENT,
    STREAM_STUCK,
    AudioDeviceError,
    CaptureSource,
    DeviceSurvey,
    FilePlayback,
    sound_server_answers,
    sound_server_silent,
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


def silent_clock_said(faults: dict[str, str]) -> bool:
    """Whether the source's fault line is the silent clock's (no output device)."""
    return faults.get("source", "").startswith(SILENT_CLOCK_FAULT)


class DeviceWatchdog:
    """Watches the current source of one window (see the module docstring)."""

    def __init__(self, window: MainWindow):
        self.window = window
        self._silent_since: float | None = None
        self._retry_at = 0.0
        self._output_retry_at = 0.0
        self._last_blocks = 0
        # the device survey under way, and what takes up its answer (on the GUI thread)
        self._survey: DeviceSurvey | None = None
        self._take_up: Callable[[DeviceSurvey, float], None] | None = None

    def source_started(self, blocks: int) -> None:
        """A source started; `blocks`: the ring's block count now (new ones mean sound)."""
        self._last_blocks = blocks
        self._silent_since = None

    def input_missing_since(self, now: float) -> None:
        """The chosen input is not there (or did not open): look for it again from `now`."""
        self._silent_since = now

    def survey_devices(self, take_up: Callable[[DeviceSurvey, float], None]) -> None:
        """Look for devices afresh (`DeviceSurvey`). On the check after it finished, the
        pickers list what it found, then `take_up(survey, now)` runs and decides whether it
        still matters."""
        self.window.sources.before_device_survey()
        self._survey, self._take_up = DeviceSurvey(), take_up

    @property
    def surveying(self) -> bool:
        """A device survey is under way or its answer is not taken up yet."""
        return self._survey is not None

    def check(self, now: float) -> None:
        window = self.window
        survey, take_up = self._survey, self._take_up
        if survey is not None and take_up is not None and survey.done:
            self._survey = self._take_up = None
            window.sources.show_devices(survey)
            take_up(survey, now)
        trouble = None
        if streams_closing():
            trouble = f"{STREAM_STUCK}."
        elif sound_server_silent():
            trouble = f"{SOUND_SERVER_SILENT}."
        window.set_fault(STUCK_STREAM_FAULT, trouble)
        sources = window.sources
        sources.take_up_reading()  # a folder's list, read on its own thread
        source = sources.source
        if window.settings.source_kind == SOURCE_INPUT:
            self._watch_input(source, now)
        elif isinstance(source, FilePlayback):
            sources.move_on()  # the list's next file, gone on into without a gap, is heard
            sources.open_ahead()  # or, of another rate or channels, is opened ahead
            sources.follow_cue_sheet()  # or the next track of the file's cue sheet
            window.panel.set_position(
                source.position_seconds,
                source.duration_seconds,
                can_go_back=sources.plays_file_list,
                can_go_next=sources.can_go_next,
            )
            sources.keep_place()
            self._watch_output(source, now)
            if source.nonfinite_samples:
                window.set_fault(
                    "samples",
                    f"{source.path}: {source.nonfinite_samples} samples so far are NaN or "
                    "infinite; they play as silence.",
                )
            playlist = sources.playlist
            if source.decode_error and source.finished and not (playlist and playlist.has_next):
                # said as the sound stops, not as the decoder (a second or so ahead) finds it
                window.set_fault("source", f"Playback stopped: {source.decode_error}")
            elif source.finished and not sources.playlist_ended and playlist is not None:
                # a file that broke off played up to the damage; the list goes on
                error = source.decode_error
                sources.file_ended(f"Ended early: {error}" if error else None)
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
        if (
            now - self._silent_since < SILENT_DEVICE_SECONDS
            or now < self._retry_at
            or self.surveying
        ):
            return
        self._retry_at = now + RETRY_SECONDS
        window.sources.stop()
        self._say_input_lost()
        key = window.settings.input_key
        # a sound server that (re)started since is listed only once PortAudio looks again
        self.survey_devices(lambda survey, then: self._reconnect_input(key, survey, then))

    def _reconnect_input(self, key: str, survey: DeviceSurvey, now: float) -> None:
        """The lost input `key` opened again if the survey found it, unless the show moved
        on while it looked (another source chosen, or this one opened by hand)."""
        window = self.window
        sources = window.sources
        if (
            window.settings.source_kind != SOURCE_INPUT
            or window.settings.input_key != key
            or sources.source is not None
        ):
            return
        choice = sources.input_by_key(key)
        if choice is not None and sources.switch_to(
            CaptureSource(choice, sources.capture_ring(choice))
        ):
            self._silent_since = now
            label = sources.remembered_input_label()
            window.set_fault("source", f"Lost input '{label}'; reconnected, waiting for sound.")
            return
        self._say_input_lost()  # again: a failed open put its own reason there

    def _say_input_lost(self) -> None:
        label = self.window.sources.remembered_input_label()
        self.window.set_fault(
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
        if self.surveying:  # its answer opens the output (the refresh button's too)
            return
        if now >= self._output_retry_at:
            self._output_retry_at = now + OUTPUT_RETRY_SECONDS
            playback.close_output()  # looking for devices closes every stream
            self.survey_devices(lambda survey, _: self.take_output(playback, survey))
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
        only then, by a `DeviceSurvey` (re-initialising PortAudio costs 40-50 ms of a core)."""
        window = self.window
        if now >= self._output_retry_at and not self.surveying:
            self._output_retry_at = now + OUTPUT_RETRY_SECONDS
            if sound_server_answers():
                self.survey_devices(lambda survey, _: self.take_output(playback, survey))
        window.set_fault(
            "source",  # one line for every file of a list that plays on the silent clock
            f"{SILENT_CLOCK_FAULT}: files play silently in real time and move to the output "
            "device once one appears.",
        )

    def take_output(self, playback: FilePlayback, survey: DeviceSurvey) -> None:
        """The file's output device, when `survey` found one and `playback` still plays and
        waits for it: opened again after it was lost, or moved to from the silent clock.
        Else the next look comes OUTPUT_RETRY_SECONDS after the last began."""
        window = self.window
        if window.sources.source is not playback or not survey.has_output:
            return
        with contextlib.suppress(AudioDeviceError):  # not yet: looked for again
            if playback.on_silent_clock:
                playback.move_to_device()
                if silent_clock_said(window.faults):
                    window.set_fault("source", None)
            elif playback.output_lost:
                playback.open_output()
            else:
                return
            window.sources.show_output(playback)
