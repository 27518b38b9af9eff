"""Where the sound comes from: the demo clip, a file or a playlist, or an input device.

The source picker lists the demo, the last file and every input; choosing, opening or
dropping a file switches the source, and the choice is kept in the user's settings. A file
plays (play, pause, seek) through the output picker's choice: the default output unless
another is picked, or when the one picked cannot play, which the panel says. A playlist
goes on to its next file at the end of one and says when the last has played. A source
that cannot start becomes a line in the panel; the picture goes on with the one it had. A
list's next file that has the playing file's rate and channels follows it without a gap
(the playback decodes on into it, `FilePlayback.follow_with`), and the window shows it
started when it is heard (`move_on`); other files are opened as the one before ends. A
file with a cue sheet (an album or DJ mix in one file) is named track by track as it plays
(`follow_cue_sheet`), and next and previous step through its tracks. An
input is brought to the level of the models' training music unless the user turned that
off (frontend/level.py); a file plays at its own level. Where a file list stands (its files,
the file playing, how far it played, kept every PLACE_STEP_SECONDS and as it stops) is kept
too, so the next start, after a close or a crash, goes on from there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QFileDialog

from visualizer.frontend import AUDIO_FILE_SUFFIXES, AudioDecodeError

from .app_settings import SOURCE_DEMO, SOURCE_FILE, SOURCE_INPUT
from .audio_sources import (
    AudioDeviceError,
    CaptureSource,
    DeviceSurvey,
    FilePlayback,
    InputChoice,
    OutputChoice,
    capture_rate,
    input_label,
    list_inputs,
    list_outputs,
)
from .cue_sheet import CueTrack, tracks_in_file
from .device_watchdog import silent_clock_said
from .frame_worker import ResetAudio, SetAutoLevel
from .playlist import PLAYLIST_SUFFIXES, Playlist, PlaylistError, PlaylistReading
from .sample_ring import SampleRing
from .track_scenes import tags_key, track_key

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .now_playing import PlayerTrack

APP_TITLE = "musicscape"
MISSING_INPUT = " (not there now)"  # after a remembered input the list lacks
PLACE_STEP_SECONDS = 5.0  # how far a list's file plays between two keepings of its place
# "Previous" goes back to the start of the track playing (a cue sheet's, else the file) once
# it has played this long, else to the track or file before (as players do: a second press
# goes on back)
BACK_TO_START_SECONDS = 3.0
AUDIO_EXTENSIONS = " ".join(f"*{suffix}" for suffix in AUDIO_FILE_SUFFIXES)
PLAYLIST_EXTENSIONS = " ".join(f"*{suffix}" for suffix in PLAYLIST_SUFFIXES)


class SourceSwitcher:
    """The current source of one window and the choice of the next."""

    def __init__(
        self, window: MainWindow, demo_dir: Path, use_output_device: bool, input_rate: int | None
    ):
        self.window = window
        self.settings = window.settings
        self.panel = window.panel
        self.demo_dir = Path(demo_dir)
        self.use_output_device = use_output_device
        self.input_rate = input_rate  # open inputs at this rate (None: the models' if they can)
        self.source: CaptureSource | FilePlayback | None = None
        self.inputs: list[InputChoice] = []
        self.outputs: list[OutputChoice] = []
        self.playlist: Playlist | None = None  # the files that play one after another
        self.playlist_ended = False  # the last file has played: shown, not silently frozen
        self._place_kept = 0.0  # the list's file's place as last kept in the settings, s
        self._shown_cue_track: int | None = None  # the cue sheet's track the window names
        # the panel's Loop and Shuffle: the list playing's, and what a list opened takes
        self.list_loop = self.list_shuffle = False
        # the list's next file opened ahead in an output of its own (`open_ahead`), and
        # which file playing was last looked ahead from, and to which file
        self._opened_ahead: FilePlayback | None = None
        self._looked_ahead: tuple[FilePlayback, Path] | None = None
        self._reading: PlaylistReading | None = None  # a folder walked on its own thread

    # ----- the picker -----
    def look_for_devices(self) -> None:
        """The refresh button: PortAudio looks for devices afresh (a sound server started
        since, a device plugged in) by a `DeviceSurvey`, which the window does not wait on,
        and the pickers list what it found. Re-initialising PortAudio closes every stream, so
        the current source lets go of its device now and takes it again with the answer.
        While a survey is already under way, its answer is the one shown."""
        watchdog = self.window.watchdog
        if watchdog.surveying:
            return
        source = self.source
        if isinstance(source, CaptureSource):
            self.stop()
        elif isinstance(source, FilePlayback) and source.uses_device:
            source.close_output()
        watchdog.survey_devices(lambda survey, _: self._take_device_again(source, survey))

    def _take_device_again(
        self, source: CaptureSource | FilePlayback | None, survey: DeviceSurvey
    ) -> None:
        """After the refresh button's survey: `source` takes its device again, unless the
        show moved on meanwhile (another source chosen)."""
        if isinstance(source, CaptureSource) and self.source is None:
            if self.settings.source_kind == SOURCE_INPUT:
                choice = self.input_by_key(source.choice.key)
                if choice is not None:
                    self.capture_input(choice)
        elif isinstance(source, FilePlayback):  # else lost: the health check looks again
            self.window.watchdog.take_output(source, survey)

    def show_devices(self, survey: DeviceSurvey) -> None:
        """What a device survey found, in the pickers. A survey that could not list the
        devices (PortAudio busy with a call to a silent server) leaves the lists as they
        were and says why in the inputs' line: an output chosen from the list is still
        found there (`chosen_output`) by a file that starts meanwhile."""
        if survey.error is not None:
            self.window.set_fault("inputs", str(survey.error))
            return
        self.show_inputs(survey.inputs, None)
        self.show_outputs(survey.outputs)

    def refresh_inputs(self) -> None:
        try:
            inputs, error = list_inputs(), None
        except AudioDeviceError as listing_error:
            inputs, error = [], listing_error
        self.show_inputs(inputs, error)

    def show_inputs(self, inputs: list[InputChoice], error: AudioDeviceError | None) -> None:
        """`inputs` in the picker (`error`: why none could be listed, said in the panel)."""
        self.inputs = inputs
        if error is not None:
            self.window.set_fault("inputs", str(error))
        else:
            self.window.set_fault(
                "inputs", None if inputs else "No audio input device found; files still play."
            )
        picker = self.panel.source_picker
        picker.clear()
        picker.addItem("Demo clip")
        picker.addItem(
            f"File: {Path(self.settings.file_path).name}" if self.settings.file_path else "File…"
        )
        for choice in self.inputs:
            picker.addItem(choice.label)
        self._sync_picker()

    def _sync_picker(self) -> None:
        picker = self.panel.source_picker
        kind = self.settings.source_kind
        if kind == SOURCE_DEMO:
            picker.setCurrentIndex(0)
        elif kind == SOURCE_FILE:
            picker.setCurrentIndex(1)
        else:
            key = self.settings.input_key
            keys = [choice.key for choice in self.inputs]
            if key in keys:
                picker.setCurrentIndex(2 + keys.index(key))
            elif key:  # remembered, and looked for (watchdog): shown as it is, not as the demo
                missing = f"{self.remembered_input_label()}{MISSING_INPUT}"
                if picker.findText(missing) < 0:  # once, however often the picker is synced
                    picker.addItem(missing)
                picker.setCurrentIndex(picker.findText(missing))

    def on_source_chosen(self, index: int) -> None:
        if index == 0:
            self.play_demo()
        elif index == 1:  # the file list where it stood (after an input, say)
            listed = self.settings.file_list
            if listed is not None:
                self.resume_file_list(listed, self.settings.file_seconds)
            elif self.settings.file_path:
                self.play_file(self.settings.file_path)
            else:
                self.choose_file()
        elif index - 2 < len(self.inputs):
            self.capture_input(self.inputs[index - 2])
        # else the remembered input that is not there now: the watchdog looks for it

    def input_by_key(self, key: str) -> InputChoice | None:
        return next((choice for choice in self.inputs if choice.key == key), None)

    # ----- the output picker -----
    def refresh_outputs(self) -> None:
        try:
            outputs = list_outputs()
        except AudioDeviceError:  # no PortAudio: the inputs' line says so
            outputs = []
        self.show_outputs(outputs)

    def show_outputs(self, outputs: list[OutputChoice]) -> None:
        self.outputs = outputs
        picker = self.panel.output_picker
        picker.clear()
        picker.addItem("Default output")
        for choice in self.outputs:
            picker.addItem(choice.label)
        self._sync_output_picker()

    def _sync_output_picker(self) -> None:
        keys = [choice.key for choice in self.outputs]
        key = self.settings.output_key
        self.panel.output_picker.setCurrentIndex(1 + keys.index(key) if key in keys else 0)

    def chosen_output(self) -> OutputChoice | None:
        """The output the settings name when it is listed now; None: the default output."""
        key = self.settings.output_key
        return next((choice for choice in self.outputs if choice.key == key), None)

    def on_output_chosen(self, index: int) -> None:
        choice = self.outputs[index - 1] if index > 0 else None
        self.use_output(choice)

    def use_output(self, choice: OutputChoice | None) -> bool:
        """Files play through `choice` (None: the default output) from now on, the one
        playing at once. False when it cannot play (the panel says why)."""
        self.settings.output_key = choice.key if choice is not None else ""
        self._sync_output_picker()
        self._open_ahead_afresh()  # on that output
        source = self.source
        if not isinstance(source, FilePlayback):
            return True
        try:
            source.use_output(choice)
        except AudioDeviceError:  # none opens: the watchdog says so and looks again
            return False
        self.show_output(source)
        return source.output_note is None

    def show_output(self, playback: FilePlayback) -> None:
        """The device line, and a line when the output picked is not the one playing."""
        self.panel.device_label.setText(
            f"output: {playback.output_name}, {playback.sound_description}"
        )
        note = playback.output_note
        key = self.settings.output_key
        if note is None and key and playback.output is None:
            note = (
                f"The output '{key.split(':', 1)[1]}' picked before is not connected; "
                "playing through the default output."
            )
        self.window.set_fault("output", note if playback.uses_device else None)

    def start_remembered(self) -> None:
        """At start-up: the source the user had last time (the demo the first time)."""
        kind = self.settings.source_kind
        if kind == SOURCE_FILE and (self.settings.file_list or self.settings.file_path):
            self.on_source_chosen(1)
        elif kind == SOURCE_INPUT and self.settings.input_key:
            choice = self.input_by_key(self.settings.input_key)
            if choice is None:
                self.window.set_fault(
                    "source",
                    f"The remembered input '{self.remembered_input_label()}' is not "
                    "connected; waiting for it (or pick another input).",
                )
                self.window.watchdog.input_missing_since(time.perf_counter())
            else:
                self.capture_input(choice)
        else:
            self.play_demo()

    # ----- switching -----
    def switch_to(self, source: CaptureSource | FilePlayback) -> bool:
        """Stop the current source and start `source`; False (and no source) when it cannot
        start, its reason in the panel. A file started while a file plays takes over its
        output where it can (`FilePlayback.start`): that file is stopped after, not before,
        so the output stream plays on and the new file sounds at once."""
        window = self.window
        self.keep_place(at_once=True)
        if source is not self._opened_ahead:
            self._let_go_of_opened_ahead()
        self._opened_ahead = self._looked_ahead = None
        previous, self.source = self.source, None
        hand_over = None  # stopped after the new file starts: it takes over its output
        started = isinstance(source, FilePlayback) and source.started  # opened ahead
        if isinstance(source, FilePlayback) and isinstance(previous, FilePlayback):
            taken_over = not started and source.can_take_output_from(previous)
            hand_over = previous if taken_over else None
        if previous is not None and hand_over is None:
            previous.stop()  # first: an exclusive device is free for the new source
        window.setWindowTitle(APP_TITLE)
        window.set_fault("samples", None)  # the stopped file's NaN/inf line
        window.set_fault("output", None)  # and what its output was
        window.link.send(ResetAudio())
        window.link.send(SetAutoLevel(self._levelled(source)))
        try:
            if started:
                source.sound_now()  # the file before is stopped: no need to wait on it
            elif hand_over is None:
                source.start()
            else:
                source.start(hand_over)
        except (AudioDeviceError, AudioDecodeError) as error:
            window.set_fault("source", str(error))
            window.now_playing.watch(False)
            window.controls.track_started(None)
            return False
        finally:
            if hand_over is not None:
                hand_over.stop()  # its output, where taken over, is the new file's now
        self.source = source
        window.watchdog.source_started(window.link.ring.blocks)
        silent_still = isinstance(source, FilePlayback) and source.on_silent_clock
        if not (silent_still and silent_clock_said(window.faults)):
            window.set_fault("source", None)  # the silent clock's line stays for the next file
        if isinstance(source, FilePlayback):
            self.show_output(source)
            self.panel.play_button.setText("Pause")
            self._show_file(source)
        else:
            self.panel.source_label.setText(source.description)
            window.now_playing.watch(True)  # what a desktop player plays into it, if one does
            self.panel.device_label.setText(source.choice.label)
            window.log(f"capturing {source.choice.label}")
            window.setWindowTitle(f"{source.choice.label} — {APP_TITLE}")  # in the task bar
            # the track a player already plays into it, or none: one scene-mode command
            self.show_player_track(window.now_playing.track)
        return True

    def _show_file(self, source: FilePlayback) -> None:
        """A file has started (or is heard, gone on into without a gap, or its cue sheet's
        next track is): its name and tags in the panel, the title card, the log and the task
        bar; its remembered scene."""
        window = self.window
        self._shown_cue_track = source.cue_track_number
        tags = source.tags
        playing = tags.label(source.path.name)
        self.panel.source_label.setText(
            f"{source.description}\n{playing}" if tags.title else source.description
        )
        window.canvas.show_title(
            tags.title or source.path.stem, " · ".join(filter(None, (tags.artist, tags.album)))
        )
        named = f" ({playing})" if tags.title else ""
        window.log(f"playing {source.path.absolute()}{named}")
        window.now_playing.watch(False)
        window.controls.track_started(track_key(source.path, tags))
        window.setWindowTitle(f"{playing} — {APP_TITLE}")  # what plays, in the task bar

    def show_player_track(self, track: PlayerTrack | None) -> None:
        """What a desktop media player plays while an input is captured (now_playing.py):
        named as a file's tags are, its title on the scene, its remembered scene."""
        source, window = self.source, self.window
        if not isinstance(source, CaptureSource):
            return
        if track is None:
            self.panel.source_label.setText(source.description)
            window.setWindowTitle(f"{source.choice.label} — {APP_TITLE}")
            window.controls.track_started(None)
            return
        tags = track.tags
        playing = tags.label(track.player)
        self.panel.source_label.setText(f"{source.description}\n{playing} ({track.player})")
        window.canvas.show_title(tags.title, " · ".join(filter(None, (tags.artist, tags.album))))
        window.log(f"hearing {playing} from {track.player}")
        window.setWindowTitle(f"{playing} — {APP_TITLE}")
        window.controls.track_started(tags_key(tags))

    def _levelled(self, source: CaptureSource | FilePlayback | None) -> bool:
        """Whether `source` gets the automatic gain: an input, with auto level on."""
        return isinstance(source, CaptureSource) and self.settings.auto_level

    def set_auto_level(self, enabled: bool) -> None:
        """The panel's Auto level box: kept, and applied to an input that runs."""
        self.settings.auto_level = enabled
        self.window.link.send(SetAutoLevel(self._levelled(self.source)))

    def stop(self) -> None:
        self.keep_place(at_once=True)
        self._let_go_of_opened_ahead()
        source, self.source = self.source, None
        if source is not None:
            source.stop()

    def keep_place(self, at_once: bool = False) -> None:
        """Keep how far the list's file playing has played, once it has moved on
        PLACE_STEP_SECONDS from the place kept (`at_once`: in any case); nothing while no
        list plays, or once it has ended."""
        source = self.source
        if not isinstance(source, FilePlayback) or not self.plays_file_list or self.playlist_ended:
            return
        seconds = source.position_seconds
        if at_once or abs(seconds - self._place_kept) >= PLACE_STEP_SECONDS:
            self.settings.file_seconds = self._place_kept = seconds

    def resume_file_list(self, playlist: Playlist, seconds: float) -> bool:
        """Play the list kept in the settings (by the last run, or before an input was
        picked) from the file it had come to, from `seconds` into it (from the next file's
        start where that file no longer plays)."""
        kept = playlist.current
        if not self.play_playlist(playlist):
            return False
        if playlist.current == kept and seconds > 0.0:
            self.seek(seconds)
            self.settings.file_seconds = self._place_kept = seconds
        else:
            seconds = 0.0
        minutes, rest = divmod(int(seconds), 60)
        self.window.log(
            f"went on with the file list where it stood: file {playlist.index + 1} of "
            f"{len(playlist.files)}, from {minutes}:{rest:02d}"
        )
        return True

    def restart_current(self) -> None:
        """The same source again (the models' rate changed: a new ring)."""
        source = self.source
        if isinstance(source, FilePlayback):
            if self._play(source.path, source.loop, source.cue_tracks) and self.plays_file_list:
                self.source.follow_with(self.playlist.upcoming)
        elif isinstance(source, CaptureSource):
            self.capture_input(source.choice)

    def remembered_input_label(self) -> str:
        """The remembered input's name as the picker showed it when it was chosen, also
        while it is not listed (else as its key names it: `input_label`)."""
        return self.settings.input_label or input_label(self.settings.input_key)

    def capture_ring(self, choice: InputChoice) -> SampleRing:
        rate = self.input_rate or capture_rate(choice, self.window.link.contract.sample_rate)
        return self.window.link.ensure_ring(rate)

    def capture_input(self, choice: InputChoice) -> bool:
        self.settings.source_kind = SOURCE_INPUT
        self.settings.remember_input(choice.key, choice.label)
        ok = self.switch_to(CaptureSource(choice, self.capture_ring(choice)))
        if not ok:
            self.window.watchdog.input_missing_since(time.perf_counter())
        self._sync_picker()
        return ok

    def demo_clip(self) -> Path | None:
        clips = sorted(self.demo_dir.glob("*.ogg")) if self.demo_dir.is_dir() else []
        return clips[0] if clips else None

    def play_demo(self) -> None:
        clip = self.demo_clip()
        if clip is None:
            self.window.set_fault(
                "source",
                f"No demo clip found in {self.demo_dir}; open a file (O) or pick an input.",
            )
            return
        if self._play(clip, loop=True):
            self.settings.source_kind = SOURCE_DEMO
            self._sync_picker()

    def _play(self, path: Path, loop: bool, cue_tracks: tuple[CueTrack, ...] = ()) -> bool:
        opened_ahead = self._opened_ahead
        if opened_ahead is not None and opened_ahead.path == path and opened_ahead.alive:
            playback = opened_ahead
            playback.loop = loop
        else:
            try:
                playback = self._file_playback(path, loop)
            except AudioDecodeError as error:
                self.window.set_fault("source", f"Cannot play that file: {error}")
                return False
        self._name_tracks(playback, cue_tracks)
        return self.switch_to(playback)

    @staticmethod
    def _name_tracks(playback: FilePlayback, sheet_tracks: tuple[CueTrack, ...]) -> None:
        """The file's tracks: a cue sheet's beside it (`sheet_tracks`), else those it marks
        in itself (its tags' cue sheet, its chapters), else none."""
        playback.cue_tracks = sheet_tracks or tracks_in_file(playback.path, playback.reader.tags)

    def _file_playback(self, path: Path, loop: bool = False) -> FilePlayback:
        """`path` opened to play through the output chosen (AudioDecodeError where it does
        not open)."""
        return FilePlayback(
            path,
            self.window.link.ensure_ring(),
            use_output_device=self.use_output_device,
            loop=loop,
            output=self.chosen_output(),
        )

    # ----- files and playlists -----
    def play_file(self, path: str | Path) -> bool:
        return self.play_playlist(Playlist([Path(path)]))

    def play_playlist(self, playlist: Playlist, notes: tuple[str, ...] = ()) -> bool:
        """Play the playlist's current file; at its end the next one plays (or, after the
        last, the window says the list has ended). A file that cannot play is skipped;
        `notes` (how the file before ended, when it broke off) head the playlist line."""
        skipped = list(notes)
        for _ in playlist.files:
            path = playlist.current
            if self._play(path, playlist.loops_one_file, playlist.cue_tracks.get(path, ())):
                self.window.set_fault("playlist", "\n".join(skipped) or None)
                self.playlist = playlist
                self.playlist_ended = False
                self.list_loop, self.list_shuffle = playlist.loop, playlist.shuffle
                self._show_list_order()
                self._list_file_started(path)
                return True
            skipped.append(f"Skipped: {self.window.faults['source']}")
            if len(playlist.files) == 1 or playlist.advance() is None:
                return False
        return False

    def _list_file_started(self, path: Path) -> None:
        """The list's file `path` plays: kept in the settings and named in the picker; the
        list's next file is to follow it."""
        with self.settings.written_together():
            self.settings.source_kind = SOURCE_FILE
            self.settings.file_path = str(path)
            self.settings.file_list = self.playlist
            self.settings.file_seconds = self._place_kept = 0.0
        self.panel.source_picker.setItemText(1, f"File: {path.name}")
        self._sync_picker()
        self.source.follow_with(self.playlist.upcoming)

    def move_on(self) -> bool:
        """Whether the file playing has gone on into the list's next one without a gap
        (`FilePlayback.move_on`); then the window shows that file started, as it shows one
        opened, and the models' analysis starts afresh as for a new file."""
        source = self.source
        if not isinstance(source, FilePlayback) or not self.plays_file_list:
            return False
        if not source.move_on():
            return False
        heard = source.path  # queued a second before: the list's order may have changed since
        if self.playlist.advance() != heard and heard in self.playlist.files:
            self.playlist.index = self.playlist.files.index(heard)
        self._name_tracks(source, self.playlist.cue_tracks.get(source.path, ()))
        window = self.window
        window.link.send(ResetAudio())
        window.set_fault("samples", None)  # the file before's NaN/inf line
        window.set_fault("playlist", None)
        self._show_file(source)
        self._list_file_started(source.path)
        return True

    def open_ahead(self) -> None:
        """As a list's file plays, open the list's next file where it cannot go on in the
        same stream (another rate or channels): it plays in an output of its own, opened
        now (here, on the GUI thread, where every PortAudio call is made, one at a time), so
        the stall a stream's start takes (up to 2 s through PortAudio's ALSA pulse device
        here) is over long before it is heard, and held silent until the file playing is
        heard to its end (`FilePlayback.start_after`), or until N goes to it; the window
        shows it as it shows a file started (`file_ended`). One that does not open, or whose
        output does not, is left to open as the file playing ends, as before. Let go of when
        the list's next file changes."""
        wanted = self._file_to_open_ahead()
        opened_ahead = self._opened_ahead
        if opened_ahead is not None and (opened_ahead.path != wanted or not opened_ahead.alive):
            self._let_go_of_opened_ahead()
        source = self.source
        if wanted is None:
            self._looked_ahead = None  # looked at again once there is a next file again
            return
        if source.output_lost or self.window.watchdog.surveying:
            return  # opened once the output is back, and PortAudio initialised again
        if self._looked_ahead == (source, wanted):
            return
        self._looked_ahead = (source, wanted)  # once for each file playing and next file
        try:
            following = self._file_playback(wanted)
        except AudioDecodeError:
            return  # named when it is opened to play
        if source.can_go_on_into(following):
            following.stop()  # it goes on in the same stream (`follow_with`)
            return
        try:
            following.start_after(source)
        except AudioDeviceError:
            return
        self._opened_ahead = following

    def _file_to_open_ahead(self) -> Path | None:
        """The list's next file, while a file that is not looping plays; else None."""
        source = self.source
        if not isinstance(source, FilePlayback) or not self.plays_file_list:
            return None
        if self.playlist_ended or source.loop:
            return None
        return source.following

    def before_device_survey(self) -> None:
        """Re-initialising PortAudio leaves every stream still open a dangling pointer
        (any call on it: 'Invalid stream pointer'): the next file opened ahead is let go
        of now, and opened ahead again once the survey is over."""
        self._open_ahead_afresh()

    def _open_ahead_afresh(self) -> None:
        """Let go of the next file opened ahead; the next check opens it again."""
        self._let_go_of_opened_ahead()
        self._looked_ahead = None

    def _let_go_of_opened_ahead(self) -> None:
        opened_ahead, self._opened_ahead = self._opened_ahead, None
        if opened_ahead is not None:
            opened_ahead.stop()

    def follow_cue_sheet(self) -> bool:
        """Whether the file's cue sheet has reached another of its tracks (played on to it,
        or sought to it) since the window last named one; then the window names it as a
        file started. The models' analysis goes on: in a mix, a track's start is a point
        in a blend, not a cut."""
        source = self.source
        if not isinstance(source, FilePlayback):
            return False
        if source.cue_track_number == self._shown_cue_track:
            return False
        self._show_file(source)
        return True

    def _cue_track_start(self, step: int) -> float | None:
        """Where the cue sheet's track `step` from the one playing starts (1: the next, -1:
        the one before, 0: its own), s; None where the file has no such track, or where the
        sheet places it past the file's end (a sheet that says more than the file holds)."""
        source = self.source
        if not isinstance(source, FilePlayback) or source.cue_track_number is None:
            return None
        number = source.cue_track_number + step
        if not 0 <= number < len(source.cue_tracks):
            return None
        start = source.cue_tracks[number].start_seconds
        return start if start < source.duration_seconds else None

    def _step_cue_sheet(self, step: int) -> bool:
        """Seek to the start of the cue sheet's track `step` from the one playing
        (`_cue_track_start`); False where there is none."""
        start = self._cue_track_start(step)
        if start is None:
            return False
        self.seek(start)
        self.follow_cue_sheet()
        return True

    @property
    def can_go_next(self) -> bool:
        """Next has somewhere to go: a later track of the cue sheet, or a next file."""
        if not self.plays_file_list or not isinstance(self.source, FilePlayback):
            return False
        return self.playlist.has_next or self._cue_track_start(1) is not None

    @property
    def plays_file_list(self) -> bool:
        """Whether the source is a list of files (one file is a list of one)."""
        return self.playlist is not None and self.settings.source_kind == SOURCE_FILE

    def next_file(self) -> bool:
        """N: the cue sheet's next track, else the playlist's next file (`file_ended`)."""
        if self.plays_file_list and not self.playlist_ended and self._step_cue_sheet(1):
            return True
        return self.file_ended()

    def file_ended(self, note: str | None = None) -> bool:
        """The playlist's next file (the file has played to its end, or N was pressed after
        its last track); after the last (and no --loop), the ended state. `note`: why the
        file ended early, kept in the playlist line."""
        playlist = self.playlist
        if not self.plays_file_list:
            return False
        notes = (note,) if note else ()
        if playlist.advance() is not None and self.play_playlist(playlist, notes):
            return True
        self._show_ended()
        return False

    def previous_file(self) -> bool:
        """Back to the start of what plays (the cue sheet's track, else the file), or,
        within its first BACK_TO_START_SECONDS, to the track or the list's file before (none
        before the first, unless the list loops: then its start). A list that had ended
        plays its last file again. False while no list plays."""
        source, playlist = self.source, self.playlist
        if not self.plays_file_list or not isinstance(source, FilePlayback):
            return False
        if self.playlist_ended:
            return self.play_playlist(playlist)
        track_start = self._cue_track_start(0)
        if track_start is not None and source.position_seconds - track_start > (
            BACK_TO_START_SECONDS
        ):
            return self._step_cue_sheet(0)
        if source.cue_track_number and self._step_cue_sheet(-1):
            return True
        if source.position_seconds > BACK_TO_START_SECONDS or playlist.back() is None:
            self.seek(0.0)
            return True
        return self.play_playlist(playlist)

    def _show_ended(self) -> None:
        self.playlist_ended = True
        self.settings.file_list_index = 0  # the next start plays the list from its start
        self.settings.file_seconds = self._place_kept = 0.0
        if isinstance(self.source, FilePlayback):
            self.source.set_paused(True)
        self.panel.play_button.setText("Play")
        self.panel.source_label.setText(f"{self.panel.source_label.text()} (ended)")

    def choose_file(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self.window,
            "Open audio files (they play in turn)",
            str(Path.home()),
            f"Audio ({AUDIO_EXTENSIONS});;Playlists ({PLAYLIST_EXTENSIONS});;All (*)",
        )
        if paths:
            self.play_paths(paths)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window,
            "Open a folder of music (its files and inner folders' play in turn)",
            str(Path.home()),
        )
        if folder:
            self.play_paths([folder])

    def play_paths(self, paths: list[str]) -> bool:
        """Files, folders, .m3u or .pls playlists and .cue sheets (opened together or dropped)
        play in turn, as `--file` plays them; what names nothing playable is said in the
        panel, and the current source goes on. Where they name a folder, it is walked on a
        thread of its own (`PlaylistReading`: a whole library, a network share) while the
        current source goes on, the panel saying so; the list plays once it is read
        (`take_up_reading`), and True means only that it is being read."""
        if self._reading is not None:  # a folder still being read is superseded
            self._reading = None
            self.window.set_fault("playlist", None)
        if any(Path(path).is_dir() for path in paths):
            self._reading = PlaylistReading(paths, self.list_loop, self.list_shuffle)
            named = ", ".join(str(Path(path).absolute()) for path in paths)
            self.window.set_fault("playlist", f"Reading {named} …")
            return True
        try:
            playlist = Playlist.from_paths(paths, self.list_loop, self.list_shuffle)
        except PlaylistError as error:
            self.window.set_fault("source", f"Cannot play that: {error}")
            return False
        return self.play_playlist(playlist)

    def take_up_reading(self) -> None:
        """Play the list of a folder read on its own thread (`play_paths`) once it is read,
        or say why it cannot play (the current source goes on)."""
        reading = self._reading
        if reading is None or not reading.done:
            return
        self._reading = None
        self.window.set_fault("playlist", None)
        if reading.playlist is None:
            self.window.set_fault("source", f"Cannot play that: {reading.error}")
        else:
            self.play_playlist(reading.playlist)

    def set_list_loop(self, loop: bool) -> None:
        """Loop the file list (a list of one: its file, seamlessly), or not; kept with the
        list, and taken by the lists opened after it (as a player's repeat)."""
        self.list_loop = loop
        self._change_list(lambda playlist: setattr(playlist, "loop", loop))

    def set_list_shuffle(self, shuffle: bool) -> None:
        """Play the list's other files in a random order after the one playing, or go back
        to the order it was given in; taken by the lists opened after it."""
        self.list_shuffle = shuffle
        self._change_list(lambda playlist: playlist.set_shuffle(shuffle))

    def _show_list_order(self) -> None:
        """The panel's Loop and Shuffle as they stand (set quietly: not a user's toggle)."""
        for box, checked in (
            (self.panel.list_loop, self.list_loop),
            (self.panel.list_shuffle, self.list_shuffle),
        ):
            box.blockSignals(True)
            box.setChecked(checked)
            box.blockSignals(False)

    def _change_list(self, change: Callable[[Playlist], None]) -> None:
        """Apply `change` to the list playing, keep it, and queue what follows anew."""
        self._show_list_order()
        playlist, source = self.playlist, self.source
        if playlist is None:
            return
        change(playlist)
        self.settings.file_list = playlist
        if isinstance(source, FilePlayback) and self.plays_file_list:
            source.set_loop(playlist.loops_one_file)
            source.follow_with(None if source.loop else playlist.upcoming)

    @property
    def file_plays(self) -> bool:
        """A file plays: not paused, and not the end of a list that has ended."""
        source = self.source
        return isinstance(source, FilePlayback) and not source.paused and not self.playlist_ended

    def set_playing(self, playing: bool) -> None:
        """Play (a list that had ended, again from its first file) or pause the file."""
        if isinstance(self.source, FilePlayback) and playing != self.file_plays:
            self.toggle_pause()

    def toggle_pause(self) -> None:
        if self.playlist_ended and self.playlist is not None:  # play the list again
            self.playlist.index = 0
            self.play_playlist(self.playlist)
        elif isinstance(self.source, FilePlayback):
            self.source.set_paused(not self.source.paused)
            self.panel.play_button.setText("Play" if self.source.paused else "Pause")

    def seek(self, seconds: float) -> None:
        if isinstance(self.source, FilePlayback):
            self.source.seek(seconds)

    def seek_relative(self, delta: float) -> None:
        if isinstance(self.source, FilePlayback):
            self.source.seek(self.source.position_seconds + delta)
