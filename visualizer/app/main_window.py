"""The main window: canvas, spectrogram and control panel, composed from the app's parts.

Its parts: `WorkerLink` (the models, the worker and the analysis ring: sources write, the
worker reads), `SourceSwitcher` (the demo, files and playlists, inputs), `DeviceWatchdog`
(lost devices, ended files), `SceneControls` (what the user steers, sent to the worker as
commands) and `Stage` (OSC, MIDI, recording, NDI). Keys (keyboard.py), OSC, MIDI and the
command line drive the window through its public methods. Every fault (no device, a lost
device, a bad file, a bad model, a failing provider) becomes a line of plain words in the
panel; the window keeps running and no setting is lost. Shortcuts work in every window of
the app (the detached canvas too).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .about_box import AboutBox
from .app_settings import AppSettings
from .audio_sources import CaptureSource, FilePlayback, InputChoice, OutputChoice
from .canvas_orientation import ROTATIONS, CanvasOrientation
from .canvas_window import CanvasWindow
from .control_panel import FEEL_STEPS, REACTIVITY_STEPS, ControlPanel
from .corner_pin import CornerPin
from .device_watchdog import DeviceWatchdog
from .frame_stats import FrameStats
from .frame_worker import FrameWorker, WorkerSettings
from .keyboard import bind_keys, help_overlay
from .media_keys import MediaKeys
from .model_loader import ModelLoader
from .model_runtime import ModelRuntime
from .now_playing import NowPlaying
from .playlist import Playlist
from .presets import PresetError
from .sample_ring import SampleRing
from .scene_canvas import CanvasPreview, SceneCanvas
from .scene_controls import SceneControls
from .screen_saver import QtDBus, ScreenSaverInhibitor
from .show_log import ShowLog
from .source_switcher import APP_TITLE, SourceSwitcher
from .spectrogram_view import SpectrogramView
from .stage import Stage
from .worker_link import WorkerLink, first_worker_settings

HEALTH_PERIOD_MS = 250
SCREEN_FAULT = "screen"
UNEXPECTED_FAULT = "unexpected"
UNEXPECTED_SHOWN_MS = 30_000  # how long the panel says that an unforeseen error happened


def screen_name(name: str) -> str:
    """'screen HDMI-1', or 'screen' for a screen the system gives no name."""
    return f"screen {name}" if name else "screen"


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: AppSettings,
        model_dir: Path,
        demo_dir: Path,
        use_output_device: bool = True,
        worker_settings: WorkerSettings | None = None,
        input_rate: int | None = None,
        feel_strength: float | None = None,
        session_bus: QtDBus.QDBusConnection | None = None,
        show_log: ShowLog | None = None,
        start_remembered: bool = True,
    ):
        """`start_remembered`: start the source of the last run (the demo the first time);
        False when the command line names one, so nothing else starts first."""
        super().__init__()
        self.settings = settings
        self.show_log = show_log
        self.about_box: AboutBox | None = None
        self._unexpected_timer = QTimer(self)
        self._unexpected_timer.setSingleShot(True)
        self._unexpected_timer.setInterval(UNEXPECTED_SHOWN_MS)
        self._unexpected_timer.timeout.connect(lambda: self.set_fault(UNEXPECTED_FAULT, None))
        if show_log is not None:
            show_log.unexpected_error.connect(self.on_unexpected_error)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.faults: dict[str, str] = {}
        self.stats = FrameStats()
        self.canvas_window: CanvasWindow | None = None
        self._canvas_screen_lost = False  # its screen went: it comes back here, then returns
        self._closing_canvas_window = False  # the app, not the performer, closes it

        self.canvas = SceneCanvas(self.stats)
        self.canvas.set_fill(settings.canvas_fill)
        self.canvas.set_orientation(settings.canvas_orientation)
        self.canvas.set_corner_pin(settings.canvas_corner_pin)
        self.canvas.corner_dragged.connect(self.set_corner_pin)
        self.canvas.set_title_cards(settings.title_cards)
        self.spectrogram = SpectrogramView(settings.colormap)
        self.panel = ControlPanel()
        self.help_overlay = help_overlay()
        self.link = WorkerLink(
            self, model_dir, first_worker_settings(settings, worker_settings, feel_strength)
        )
        self.sources = SourceSwitcher(self, demo_dir, use_output_device, input_rate)
        self.watchdog = DeviceWatchdog(self)
        self.controls = SceneControls(self)
        self._build_layout()
        self.controls.show_presets()
        self._connect_panel()
        self.pinning_shortcuts = bind_keys(self)  # enabled while the corners are pinned
        self.stage = Stage(self)  # OSC, MIDI, recording, NDI: through the same methods as keys
        self.screen_saver = ScreenSaverInhibitor(session_bus, self)
        self.screen_saver.changed.connect(self.panel.screen_label.setText)
        self.panel.screen_label.setText(self.screen_saver.status)
        self.media_keys = MediaKeys(self, session_bus)
        self.now_playing = NowPlaying(session_bus, lambda: self.media_keys.service, self)
        self.now_playing.changed.connect(self.sources.show_player_track)
        if settings.geometry is not None:
            self.restoreGeometry(settings.geometry)
        else:
            self.resize(1100, 720)
        self._fit_to_screen()

        self.link.load_models()
        self.sources.refresh_inputs()
        self.sources.refresh_outputs()
        if start_remembered:
            self.sources.start_remembered()
        self._restore_canvas_screen()
        application = QGuiApplication.instance()
        application.screenRemoved.connect(self.on_screen_removed)
        application.screenAdded.connect(self.on_screen_added)
        self.health_timer = QTimer(self)
        self.health_timer.setInterval(HEALTH_PERIOD_MS)
        self.health_timer.timeout.connect(self._check_health)
        self.health_timer.start()

    # ----- layout -----
    def _fit_to_screen(self) -> None:
        """A window larger than its screen's free area (a 1024x600 netbook, a 720p projector,
        a size saved on a bigger monitor) shrinks to fit it and moves inside it, so no
        control is out of reach; the panel scrolls instead."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        width, height = min(self.width(), area.width()), min(self.height(), area.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        if not area.contains(self.geometry()):
            self.move(area.topLeft())

    def _build_layout(self) -> None:
        self.canvas_holder = QWidget()
        holder_layout = QVBoxLayout(self.canvas_holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.canvas)
        self.preview = CanvasPreview(self.canvas)
        self.preview_label = QLabel()
        self.preview_label.setStyleSheet("color: gray;")
        self.preview_label.setWordWrap(True)
        holder_layout.addWidget(self.preview, 1)
        holder_layout.addWidget(self.preview_label)
        self.preview.hide()
        self.preview_label.hide()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.canvas_holder)
        self.splitter.addWidget(self.spectrogram)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter, 1)
        # The panel scrolls when the window is shorter than its boxes (a laptop screen, a
        # projector at 720p), instead of squeezing their rows over each other.
        self.panel_scroll = QScrollArea()
        self.panel_scroll.setWidget(self.panel)
        self.panel_scroll.setWidgetResizable(True)
        self.panel_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.panel_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scrollbar = self.panel_scroll.verticalScrollBar().sizeHint().width()
        self.panel_scroll.setFixedWidth(self.panel.maximumWidth() + scrollbar)
        layout.addWidget(self.panel_scroll)
        self.setCentralWidget(central)
        self.help_overlay.setParent(central)
        self.help_overlay.hide()
        self.panel.reactivity.setValue(round(self.settings.reactivity * REACTIVITY_STEPS))
        self.panel.feel.setValue(round(self.worker_settings.feel_strength * FEEL_STEPS))
        self.panel.crossfade.setValue(self.settings.crossfade_seconds)
        self.panel.on_beat.setChecked(self.settings.scene_on_beat)
        self.panel.on_bar.setChecked(self.settings.scene_on_bar)
        self.panel.remember_scenes.setChecked(self.settings.remember_track_scenes)
        self.panel.show_remembered_count(len(self.controls.track_scenes))
        self.panel.av_offset.setValue(self.settings.av_offset_ms)
        self.panel.log_frequency.setChecked(self.settings.log_frequency)
        self.panel.auto_level.setChecked(self.settings.auto_level)
        self.panel.title_cards.setChecked(self.settings.title_cards)
        self.panel.colormap.setCurrentText(self.settings.colormap)
        self.panel.fill.setChecked(self.settings.canvas_fill)
        orientation = self.settings.canvas_orientation
        self.panel.mirrored.setChecked(orientation.mirrored)
        self.panel.rotation.setCurrentIndex(ROTATIONS.index(orientation.rotation))
        self.panel.corners_label.setText(self.settings.canvas_corner_pin.describe())

    def _connect_panel(self) -> None:
        panel, sources, controls = self.panel, self.sources, self.controls
        panel.source_chosen.connect(sources.on_source_chosen)
        panel.output_chosen.connect(sources.on_output_chosen)
        panel.refresh_requested.connect(sources.look_for_devices)
        panel.open_file_requested.connect(sources.choose_file)
        panel.open_folder_requested.connect(sources.choose_folder)
        panel.previous_requested.connect(sources.previous_file)
        panel.play_pause_requested.connect(sources.toggle_pause)
        panel.next_requested.connect(sources.next_file)
        panel.list_loop_changed.connect(sources.set_list_loop)
        panel.list_shuffle_changed.connect(sources.set_list_shuffle)
        panel.seek_requested.connect(sources.seek)
        panel.av_offset_changed.connect(controls.set_av_offset)
        panel.auto_level_changed.connect(sources.set_auto_level)
        panel.title_cards_changed.connect(self.set_title_cards)
        panel.about_requested.connect(self.show_about)
        panel.reactivity_changed.connect(controls.set_reactivity)
        panel.feel_changed.connect(controls.set_feel_strength)
        panel.scene_memory_changed.connect(controls.set_scene_memory)
        panel.crossfade_changed.connect(controls.set_crossfade)
        panel.on_beat_changed.connect(controls.set_on_beat)
        panel.on_bar_changed.connect(controls.set_on_bar)
        panel.mode_chosen.connect(controls.on_mode_chosen)
        panel.remember_scenes_changed.connect(controls.set_remember_track_scenes)
        panel.log_frequency_changed.connect(controls.set_log_frequency)
        panel.colormap_changed.connect(controls.set_colormap)
        panel.fill_changed.connect(self.set_fill)
        panel.mirrored_changed.connect(self.set_mirrored)
        panel.rotation_chosen.connect(self.set_rotation)
        panel.test_card_changed.connect(self.set_test_card)
        panel.pinning_changed.connect(self.set_pinning)
        panel.corners_reset_requested.connect(lambda: self.set_corner_pin(CornerPin()))

    # ----- faults -----
    def set_fault(self, area: str, message: str | None) -> None:
        if self.faults.get(area) == (message or None):
            return  # the watchdog says the same a few times a second
        if message:
            self.faults[area] = message
        else:
            self.faults.pop(area, None)
        self.panel.show_faults(self.fault_text())
        if self.show_log is not None and area != UNEXPECTED_FAULT:  # that one is logged whole
            self.show_log.fault(area, message or None)

    def on_unexpected_error(self, summary: str) -> None:
        """An exception nothing caught (the show's log has it): said for a while."""
        log = self.show_log
        details = f"the details are in {log.path}" if log.problem is None else log.problem
        self.set_fault(
            UNEXPECTED_FAULT, f"Something went wrong {summary}. musicscape goes on; {details}."
        )
        self._unexpected_timer.start()

    def log(self, text: str) -> None:
        """Write what happens (a source that starts) to the show's log."""
        if self.show_log is not None:
            self.show_log.write(text)

    def log_error(self, where: str, error: BaseException) -> None:
        """An error a part caught and got over (it says so in its own words): its traceback
        goes to the show's log."""
        if self.show_log is not None:
            self.show_log.report(where, error)

    def fault_text(self) -> str:
        return "\n".join(self.faults.values())

    # ----- what the parts hold -----
    @property
    def runtime(self) -> ModelRuntime | None:
        return self.link.runtime

    @property
    def worker(self) -> FrameWorker | None:
        return self.link.worker

    @property
    def worker_settings(self) -> WorkerSettings:
        return self.link.worker_settings

    @property
    def ring(self) -> SampleRing:
        return self.link.ring

    @property
    def sound_ring(self) -> SampleRing:
        """The sound as it is heard: a file's as its output plays it (its own rate and
        channels), an input's as the analysis ring holds it."""
        source = self.source
        return source.heard if isinstance(source, FilePlayback) else self.link.ring

    @property
    def model_loader(self) -> ModelLoader:
        return self.link.loader

    @property
    def source(self) -> CaptureSource | FilePlayback | None:
        return self.sources.source

    @property
    def playlist_ended(self) -> bool:
        return self.sources.playlist_ended

    # ----- what keys, OSC, MIDI and the command line do -----
    def reload_models(self) -> bool:
        return self.link.reload_models()

    def play_file(self, path: str | Path) -> bool:
        return self.sources.play_file(path)

    def play_playlist(self, playlist: Playlist) -> bool:
        return self.sources.play_playlist(playlist)

    def capture_input(self, choice: InputChoice) -> bool:
        return self.sources.capture_input(choice)

    def use_output(self, choice: OutputChoice | None) -> bool:
        return self.sources.use_output(choice)

    def choose_file(self) -> None:
        self.sources.choose_file()

    def choose_folder(self) -> None:
        self.sources.choose_folder()

    def next_file(self) -> bool:
        return self.sources.next_file()

    def previous_file(self) -> bool:
        return self.sources.previous_file()

    def toggle_pause(self) -> None:
        self.sources.toggle_pause()

    def seek(self, seconds: float) -> None:
        self.sources.seek(seconds)

    def seek_relative(self, delta: float) -> None:
        self.sources.seek_relative(delta)

    def set_scene(self, kind: str, index: int) -> None:
        self.controls.set_scene(kind, index)

    def set_auto_mode(self) -> None:
        self.controls.set_auto_mode()

    def set_reactivity(self, value: float) -> None:
        self.controls.set_reactivity(value)

    def set_feel_strength(self, value: float) -> None:
        self.controls.set_feel_strength(value)

    def set_scene_memory(self, seconds: float) -> None:
        self.controls.set_scene_memory(seconds)

    def set_crossfade(self, seconds: float) -> None:
        self.controls.set_crossfade(seconds)

    def set_on_beat(self, enabled: bool) -> None:
        self.controls.set_on_beat(enabled)

    def set_on_bar(self, enabled: bool) -> None:
        self.controls.set_on_bar(enabled)

    def recall_preset(self, slot: int) -> None:
        """F1 … F8: run preset `slot`'s look; why not, when it cannot, in the Presets row."""
        try:
            self.controls.recall_preset(slot)
        except PresetError as error:
            self.controls.show_presets(str(error))

    def store_preset(self, slot: int) -> None:
        self.controls.store_preset(slot)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt's name
        urls = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:  # files, folders and playlists: they play in turn
            self.sources.play_paths(urls)
            event.acceptProposedAction()

    # ----- frames and figures -----
    def show_latest_frame(self) -> None:
        """The worker has a frame: show the newest (older ones it made meanwhile are gone)."""
        worker = self.link.worker
        if worker is None:
            return
        packet = worker.take_latest()
        if packet is None:
            return
        self.canvas.show_frame(packet.sequence, self.stage.frame(packet), packet.onset_time)
        self.canvas.set_sound(packet.envelope, packet.input_meter_db, packet.tempo_bpm)
        if self.canvas_window is not None:
            self.preview.update()
        if packet.spectrogram_layout is not self.spectrogram.layout_:
            self.spectrogram.set_layout(packet.spectrogram_layout)
        if packet.spectrogram is not None and self.spectrogram.isVisible():
            self.spectrogram.show_columns(packet.spectrogram)
        metadata = worker.runtime.metadata
        self.panel.show_frame(
            packet,
            metadata.categories,
            live_input=isinstance(self.source, CaptureSource),
            has_reference=metadata.music_level_db is not None,
        )

    def _check_health(self) -> None:
        now = time.perf_counter()
        self.panel.show_figures(self.stats.fps(now), self.stats.latencies)
        self.watchdog.check(now)
        self.screen_saver.hold(self.music_plays)
        self.media_keys.refresh()

    @property
    def music_plays(self) -> bool:
        """A source plays: an input captures, or a file plays (not paused, not ended)."""
        source = self.source
        return source is not None and not getattr(source, "paused", False)

    # ----- VJ -----
    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def set_fill(self, fill: bool) -> None:
        """Cover the canvas with the scene, its overhang cropped, or show it whole with black
        bars (remembered)."""
        self.settings.canvas_fill = fill
        self.canvas.set_fill(fill)
        self.panel.fill.setChecked(fill)

    def toggle_fill(self) -> None:
        self.set_fill(not self.canvas.fill)

    def set_orientation(self, orientation: CanvasOrientation) -> None:
        """Turn and mirror the canvas's picture for its screen (remembered)."""
        self.settings.canvas_orientation = orientation
        self.canvas.set_orientation(orientation)
        self.panel.mirrored.setChecked(orientation.mirrored)
        self.panel.rotation.setCurrentIndex(ROTATIONS.index(orientation.rotation))

    def set_mirrored(self, mirrored: bool) -> None:
        self.set_orientation(replace(self.canvas.orientation, mirrored=bool(mirrored)))

    def set_rotation(self, degrees: int) -> None:
        self.set_orientation(replace(self.canvas.orientation, rotation=degrees))

    def set_corner_pin(self, pin: CornerPin) -> None:
        """Where the canvas's corners land on its screen: keystone for a projector not
        square on to its surface (remembered)."""
        self.settings.canvas_corner_pin = pin
        self.canvas.set_corner_pin(pin)
        self.panel.corners_label.setText(pin.describe())

    @property
    def pinning(self) -> bool:
        """The corners are being pinned: the canvas shows the test card with a handle on
        each corner; the mouse drags them, the keys pick and move them."""
        return self.canvas.pinning is not None

    def set_pinning(self, pinning: bool) -> None:
        """Pin the corners (the top left picked first), or be done (never remembered: a show
        starts on the scene)."""
        if pinning != self.pinning:
            self.canvas.set_pinning(0 if pinning else None)
        for shortcut in self.pinning_shortcuts:
            shortcut.setEnabled(pinning)
        self.panel.pinning.setChecked(pinning)

    def pick_corner(self, corner: int) -> None:
        """While pinning, the corner the keys move (0-3, clockwise from the top left)."""
        if self.pinning:
            self.canvas.set_pinning(corner)

    def nudge_corner(self, right: int, down: int) -> None:
        """While pinning, move the picked corner by whole pixels of the canvas (stopped at
        the screen's edge, and not where the picture would fold)."""
        if self.pinning:
            canvas = self.canvas
            width, height = max(canvas.width(), 1), max(canvas.height(), 1)
            pin = canvas.corner_pin.nudged(canvas.pinning, right / width, down / height)
            self.set_corner_pin(pin)

    def reset_corner(self) -> None:
        """While pinning, the picked corner back to the screen's corner."""
        if self.pinning:
            self.set_corner_pin(self.canvas.corner_pin.reset(self.canvas.pinning))

    def set_test_card(self, shown: bool) -> None:
        """The test card in place of the scene on the canvas, for setting up a screen (never
        remembered: a show starts on the scene)."""
        self.canvas.set_test_card(shown)
        self.panel.test_card.setChecked(shown)

    def show_about(self) -> None:
        """The About box (made on first use, then raised)."""
        if self.about_box is None:
            self.about_box = AboutBox(self.link.model_dir, self.sources.demo_dir, self)
        self.about_box.show()
        self.about_box.raise_()

    def set_title_cards(self, enabled: bool) -> None:
        """Whether a file's title fades in over the scene when it starts (remembered)."""
        self.settings.title_cards = enabled
        self.canvas.set_title_cards(enabled)
        self.panel.title_cards.setChecked(enabled)

    def leave_fullscreen(self) -> None:
        """Esc: close the help, else be done pinning corners, else bring the canvas back,
        else leave full screen."""
        if self.help_overlay.isVisible():
            self.help_overlay.hide()
        elif self.pinning:
            self.set_pinning(False)
        elif self.canvas_window is not None:
            self.canvas_window.close()
        elif self.isFullScreen():
            self.showNormal()

    def toggle_help(self) -> None:
        overlay = self.help_overlay
        if overlay.isVisible():
            overlay.hide()
            return
        overlay.adjustSize()
        parent = overlay.parentWidget()
        overlay.move(
            max(0, (parent.width() - overlay.width()) // 2),
            max(0, (parent.height() - overlay.height()) // 2),
        )
        overlay.show()
        overlay.raise_()

    def toggle_chrome(self) -> None:
        hidden = self.panel_scroll.isVisible()
        self.panel_scroll.setVisible(not hidden)
        self.spectrogram.setVisible(not hidden)

    def choose_canvas_screen(self) -> None:
        screens = QGuiApplication.screens()
        names = [screen.name() for screen in screens]
        if len(screens) > 1:
            current = (
                names.index(self.settings.canvas_screen)
                if (self.settings.canvas_screen in names)
                else len(names) - 1
            )
            name, ok = QInputDialog.getItem(
                self, "Canvas screen", "Show the canvas alone on:", names, current, False
            )
            if not ok:
                return
        else:
            name = names[0]
        self.settings.canvas_screen = name
        self.settings.canvas_detached = True
        self._canvas_screen_lost = False
        self.set_fault(SCREEN_FAULT, None)
        self.detach_canvas(screens[names.index(name)])

    def detach_canvas(self, screen) -> None:
        if self.canvas_window is None:
            self.canvas_window = CanvasWindow(self._canvas_window_closed)
            self.canvas_window.layout().addWidget(self.canvas)
        window = self.canvas_window
        window.setScreen(screen)
        window.move(screen.geometry().topLeft())
        window.showFullScreen()
        self.preview_label.setText(
            f"The canvas is alone on {screen_name(screen.name())}; here is what it shows, "
            "upright. Esc or S brings it back."
        )
        self.preview.show()
        self.preview_label.show()

    def attach_canvas(self) -> None:
        """The canvas back in this window."""
        window, self.canvas_window = self.canvas_window, None
        if window is not None:
            self.preview.hide()
            self.preview_label.hide()
            self.canvas_holder.layout().insertWidget(0, self.canvas)
            self.canvas.show()

    def _canvas_window_closed(self) -> None:
        self.attach_canvas()
        if not self._closing_canvas_window:
            self.settings.canvas_detached = False  # the performer brought it back (Esc)

    def _close_canvas_window(self) -> None:
        """Close the canvas's window without forgetting the screen (its screen went, or the
        app closes): it goes back there next time."""
        self._closing_canvas_window = True
        try:
            self.canvas_window.close()
        finally:
            self._closing_canvas_window = False

    def _restore_canvas_screen(self) -> None:
        """At start, the canvas alone on the screen it was on when the app last closed, if
        that screen is connected beside another (alone, it would hide the controls); if it
        is not connected, the canvas waits for it here."""
        if not self.settings.canvas_detached:
            return
        name = self.settings.canvas_screen
        screens = QGuiApplication.screens()
        screen = next((s for s in screens if s.name() == name), None)
        if screen is not None and len(screens) == 1:
            return
        if screen is None:
            self._canvas_screen_lost = True
            self.set_fault(
                SCREEN_FAULT,
                f"The canvas's {screen_name(name)} is not connected: the "
                "canvas shows here and goes there when it is (S: another screen)",
            )
        else:
            self.detach_canvas(screen)

    def on_screen_removed(self, screen) -> None:
        """A screen went (a projector unplugged): a canvas on it comes back into this window,
        and goes back to that screen when it returns."""
        if self.canvas_window is None or screen.name() != self.settings.canvas_screen:
            return
        self._canvas_screen_lost = True
        self._close_canvas_window()
        self.set_fault(
            SCREEN_FAULT,
            f"The canvas's {screen_name(screen.name())} went away: the "
            "canvas shows here and goes back when it returns (S: another screen)",
        )

    def on_screen_added(self, screen) -> None:
        if (
            self._canvas_screen_lost
            and self.settings.canvas_detached
            and screen.name() == self.settings.canvas_screen
        ):
            self._canvas_screen_lost = False
            self.set_fault(SCREEN_FAULT, None)
            self.detach_canvas(screen)

    # ----- shutdown -----
    def shutdown(self) -> None:
        self.health_timer.stop()
        self.screen_saver.close()
        self.now_playing.watch(False)
        self.media_keys.close()
        self.stage.close()
        self.link.close()
        self.sources.stop()
        if self.canvas_window is not None:
            self._close_canvas_window()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.settings.geometry = self.saveGeometry()
        self.shutdown()
        super().closeEvent(event)
