"""The live visualizer (PyQt6). Bare `musicscape` calls `run`; `add_arguments` adds its options.

Nothing heavy is imported here: Qt and ONNX Runtime load only inside `run`, so
`musicscape --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from visualizer.bundled import assets_dir
from visualizer.output_files import output_file_problem

from .canvas_orientation import ROTATIONS, CanvasOrientation
from .corner_pin import CornerPin

if TYPE_CHECKING:
    from PyQt6.QtWidgets import QApplication

    from .audio_sources import InputChoice, OutputChoice
    from .main_window import MainWindow
    from .playlist import Playlist
    from .show_log import ShowLog


def corner_pin_argument(text: str) -> CornerPin:
    """--corners' value: a pin, or argparse's error in the pin's own words."""
    try:
        return CornerPin.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from visualizer.video_file import VIDEO_CODECS  # numpy: not on `import visualizer.app`

    group = parser.add_argument_group("visualizer (when no subcommand is given)")
    group.add_argument(
        "--models",
        metavar="DIR",
        type=Path,
        default=None,
        help="model directory (default: the bundled assets/models)",
    )
    group.add_argument(
        "--file",
        metavar="AUDIO",
        nargs="+",
        help="play and visualise these audio files, folders of them, .m3u or .pls playlists or "
        ".cue sheets (an album or mix in one file, named track by track), in order",
    )
    group.add_argument(
        "--loop", action="store_true", help="start the --file list again after its last file"
    )
    group.add_argument(
        "--shuffle",
        action="store_true",
        help="play the --file list in a random order (dealt again each time --loop starts it "
        "over, never the same file twice in a row)",
    )
    group.add_argument(
        "--input",
        metavar="NAME|INDEX",
        help="capture this input (an index or name from --list-devices, monitor sources too)",
    )
    group.add_argument(
        "--output",
        metavar="NAME|INDEX",
        help="play files through this output (an index or name from --list-devices, "
        "PulseAudio sinks too; remembered)",
    )
    group.add_argument(
        "--list-devices", action="store_true", help="list the audio inputs and outputs and exit"
    )
    group.add_argument(
        "--osc-in",
        metavar="PORT",
        type=int,
        help="take OSC commands on this UDP port (the README lists the addresses; 'vj' "
        "extra), described by OSCQuery on the TCP port of that number and announced on the "
        "network",
    )
    group.add_argument(
        "--http",
        metavar="PORT",
        type=int,
        help="serve a remote on this TCP port: a page for a phone's browser, the OSC "
        "addresses as POST /musicscape/ACTION, and the picture live (GET "
        "/musicscape/live.mjpg; /screen: a page of it alone) (0: any free port, shown in the "
        "panel)",
    )
    group.add_argument(
        "--osc-out",
        metavar="HOST:PORT",
        action="append",
        help="send category probabilities, scene, onset envelope, the level and its low, "
        "mid and high bands, beats and each control's value over OSC there (given again: "
        "to each)",
    )
    group.add_argument(
        "--record-dir",
        metavar="DIR",
        type=Path,
        help="where R (or the Record button, or OSC) writes videos and P saves pictures "
        "(default: ~/Videos, else the current directory)",
    )
    group.add_argument(
        "--record-codec",
        choices=tuple(VIDEO_CODECS),
        help="what R records as: h264 (an .mp4) or prores (Apple ProRes 422 in a .mov, every "
        "frame a key frame, for VJ software to scrub and loop; about 15 times the size); "
        "remembered, as the Stage box's Record as",
    )
    group.add_argument(
        "--settings", metavar="INI", help="keep settings in this file instead of the user's"
    )
    group.add_argument(
        "--log",
        metavar="FILE",
        type=Path,
        help="write the show's log there: each fault the panel shows, with its time, and "
        "errors with their tracebacks (default: ~/.local/state/musicscape/musicscape.log)",
    )
    beat_grid = group.add_mutually_exclusive_group()  # one beat grid at a time
    beat_grid.add_argument(
        "--link",
        action="store_true",
        help="join the Ableton Link session on this network: beats and tempo from its grid "
        "while it has peers (remembered, as the Stage box's Ableton Link button; 'link' extra)",
    )
    beat_grid.add_argument(
        "--midi-clock",
        action="store_true",
        help="follow the MIDI clock of the show's gear on any MIDI input: beats and tempo from "
        "it while it runs (remembered, as the Stage box's MIDI clock button; 'vj' extra)",
    )
    dmx = group.add_mutually_exclusive_group()  # one DMX protocol at a time
    dmx.add_argument(
        "--artnet",
        metavar="HOST[:PORT]",
        help="send stage lights that match the scene over Art-Net (20 DMX channels: the "
        "picture's colours by zone, the beat, the scene, the music's low, mid and high bands) "
        "to a DMX node, a lighting desk or a broadcast address; port 6454 unless given "
        "(remembered, as the Stage box's DMX out)",
    )
    dmx.add_argument(
        "--sacn",
        metavar="HOST[:PORT]",
        nargs="?",
        const="",
        help="the same over sACN (E1.31): to the universe's multicast group, or to HOST; "
        "port 5568 unless given",
    )
    group.add_argument(
        "--dmx-universe",
        type=int,
        metavar="N",
        help="the DMX universe (Art-Net 0-32767, default 0; sACN 1-63999, default 1)",
    )
    group.add_argument(
        "--dmx-channel",
        type=int,
        metavar="N",
        help="the first of the 20 DMX channels (1-493, default 1)",
    )
    group.add_argument(
        "--dmx-in",
        choices=("artnet", "sacn"),
        help="let a lighting desk drive the show over Art-Net or sACN: 8 channels (master, "
        "scene, reactivity, feel, cross-fade, blackout, preset, tap; README's table) "
        "(remembered, as the Stage box's DMX in)",
    )
    group.add_argument(
        "--dmx-in-universe",
        type=int,
        metavar="N",
        help="the desk's universe (Art-Net 0-32767, default 0; sACN 1-63999, default 1)",
    )
    group.add_argument(
        "--dmx-in-channel",
        type=int,
        metavar="N",
        help="the first of the desk's 8 channels (1-505, default 1)",
    )
    group.add_argument("--fullscreen", action="store_true", help="start in full screen")
    group.add_argument(
        "--rotate",
        type=int,
        choices=ROTATIONS,
        metavar="DEGREES",
        help="turn the canvas's picture clockwise by 0, 90, 180 or 270 degrees for its screen "
        "(a projector on its side, a screen mounted portrait; remembered)",
    )
    group.add_argument(
        "--mirror",
        action="store_true",
        help="mirror the canvas left and right, for rear projection (remembered)",
    )
    group.add_argument(
        "--corners",
        type=corner_pin_argument,
        metavar="'X,Y X,Y X,Y X,Y'",
        help="pin the canvas's corners (keystone) where a projector's picture should land: "
        "four x,y shares of the screen, clockwise from the top left (as in "
        "'0.05,0 0.95,0 1,1 0,1'), or 'none' (remembered; C drags them by hand)",
    )
    group.add_argument(
        "--test-card",
        action="store_true",
        help="start on the test card (G goes to the scene), to set up a projector or screen",
    )
    group.add_argument(
        "--desktop-entry",
        action="store_true",
        help="put musicscape, with its icon, in this user's desktop application menu "
        "(~/.local/share/applications) and exit",
    )
    group.add_argument(
        "--fps", type=float, default=60.0, help="display frame rate to aim for (default 60)"
    )
    group.add_argument(
        "--input-rate",
        metavar="HZ",
        type=int,
        default=None,
        help="open audio inputs at this sample rate and convert to the models' rate "
        "(default: the models' rate when the input supports it, else the input's own)",
    )
    group.add_argument(
        "--scene-memory",
        metavar="SECONDS",
        type=float,
        default=None,
        help="the scene follows the music averaged over about this long, 0-120 s (default: "
        "the panel's last choice, else the model's, 16 s for the bundled one; 0: every "
        "encoder result as it comes)",
    )
    group.add_argument(
        "--feel",
        metavar="STRENGTH",
        type=float,
        default=None,
        help="how strongly light and colour follow the music's feel (arousal, valence), "
        "0 (off) to 1 (default: the panel's last choice, else 0.5)",
    )
    group.add_argument(
        "--silent",
        action="store_true",
        help="play files through a silent real-time clock instead of the output device",
    )


def run(args: argparse.Namespace) -> int:
    from .audio_sources import AudioDeviceError, list_inputs, list_outputs
    from .command_line import describe_devices, find_device, option_problem
    from .playlist import Playlist, PlaylistError

    problem = option_problem(args)
    if problem:
        print(f"musicscape: {problem}", file=sys.stderr)
        return 2
    if args.desktop_entry:
        from .app_icon import install_desktop_entry

        try:
            entry = install_desktop_entry()
        except OSError as error:
            print(f"musicscape: --desktop-entry: {error}", file=sys.stderr)
            return 1
        print(f"musicscape is in the application menu: {entry}")
        return 0
    playlist = None
    if args.file:
        try:
            playlist = Playlist.from_paths(args.file, loop=args.loop, shuffle=args.shuffle)
        except PlaylistError as error:
            print(f"musicscape: --file: {error}", file=sys.stderr)
            return 2
    if args.record_dir is not None and not args.record_dir.is_dir():
        print(f"musicscape: --record-dir: {args.record_dir} is not a folder", file=sys.stderr)
        return 2
    if args.settings:
        problem = output_file_problem(Path(args.settings), create_folders=True)
        if problem:
            print(f"musicscape: --settings: cannot keep settings in {args.settings}: {problem}",
                  file=sys.stderr)  # fmt: skip
            return 2
    if args.log is not None:
        problem = output_file_problem(args.log, create_folders=True)
        if problem:
            print(f"musicscape: --log: cannot write the log {args.log}: {problem}",
                  file=sys.stderr)  # fmt: skip
            return 2
    choice = output = None
    if args.list_devices or args.input is not None or args.output is not None:
        try:
            inputs, outputs = list_inputs(), list_outputs()
        except AudioDeviceError as error:
            print(f"musicscape: {error}", file=sys.stderr)
            return 1
        if args.list_devices:
            print(describe_devices(inputs, outputs))
            return 0
        try:
            if args.input is not None:
                choice = find_device(args.input, inputs, "input")
            if args.output is not None:
                output = find_device(args.output, outputs, "output")
        except ValueError as error:
            flag = "--input" if choice is None and args.input is not None else "--output"
            print(f"musicscape: {flag}: {error}", file=sys.stderr)
            return 2
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        if sys.platform.startswith("linux") and "QT_QPA_PLATFORM" not in os.environ:
            print(
                "musicscape: no display found (DISPLAY is not set). Run it on a desktop, or "
                "set QT_QPA_PLATFORM=offscreen for a headless run.",
                file=sys.stderr,
            )
            return 1
    from PyQt6.QtWidgets import QApplication

    from .app_icon import APP_ID, app_icon
    from .audio_sources import let_go_of_stuck_streams_at_exit, streams_closing
    from .show_log import ShowLog, default_log_path

    application = QApplication.instance() or QApplication(sys.argv[:1])
    application.setApplicationName(APP_ID)
    application.setDesktopFileName(APP_ID)  # Wayland's app id: the desktop entry's name
    application.setWindowIcon(app_icon())
    show_log = ShowLog(args.log or default_log_path())
    show_log.started(sys.argv[1:])
    show_log.install()
    try:
        return _run_window(args, application, show_log, playlist, choice, output)
    finally:
        if let_go_of_stuck_streams_at_exit():
            show_log.write(
                "an audio stream PortAudio could not close is left to the system"
                if streams_closing()
                else "PortAudio, still waiting on the sound server, is left to the system"
            )
        show_log.close()


def _run_window(
    args: argparse.Namespace,
    application: QApplication,
    show_log: ShowLog,
    playlist: Playlist | None,
    choice: InputChoice | None,
    output: OutputChoice | None,
) -> int:
    """Open the window as the options say and run it until it closes; the exit status."""
    from .quit_signals import QuitOnSignals
    from .stall_watch import StallWatch

    windows: list[MainWindow] = []
    # A Ctrl-C or SIGTERM closes the app as its close button does, also one that comes while
    # the window is being made (a fresh install's first start took over 10 s here): it is
    # acted on once the event loop runs, and the window closes as soon as it is shown.
    quit_signals = QuitOnSignals(lambda: windows[0].close(), application)
    stall_watch = StallWatch(show_log, parent=application)
    try:
        windows.append(_show_window(args, show_log, playlist, choice, output))
        stall_watch.start()  # from the first turn of the event loop
        status = application.exec()
    finally:
        stall_watch.stop()
        quit_signals.restore()
    return 128 + quit_signals.received if quit_signals.received else status


def _show_window(
    args: argparse.Namespace,
    show_log: ShowLog,
    playlist: Playlist | None,
    choice: InputChoice | None,
    output: OutputChoice | None,
) -> MainWindow:
    """The window, made and shown as the options say."""
    from .app_settings import AppSettings, settings_from_file, user_settings
    from .command_line import desk_patch, dmx_target, host_and_port
    from .frame_worker import WorkerSettings
    from .main_window import MainWindow

    store = settings_from_file(args.settings) if args.settings else user_settings()
    settings = AppSettings(store)
    assets = assets_dir()
    window = MainWindow(
        settings,
        model_dir=args.models or assets / "models",
        demo_dir=assets / "demo",
        use_output_device=not args.silent,
        worker_settings=WorkerSettings(fps=args.fps, scene_memory_seconds=args.scene_memory),
        feel_strength=args.feel,
        input_rate=args.input_rate,
        show_log=show_log,
        start_remembered=choice is None and playlist is None,
    )
    if args.record_dir is not None:
        window.stage.record_dir = args.record_dir
    if args.record_codec is not None:
        window.stage.set_record_codec(args.record_codec)
    window.stage.open_midi()
    if args.osc_in is not None:
        window.stage.listen_osc(args.osc_in)
    for destination in args.osc_out or ():
        window.stage.send_osc(*host_and_port(destination))
    if args.http is not None:
        window.stage.serve_http(args.http)
    if args.link:
        window.stage.beats.set_link(True)
    if args.midi_clock:
        window.stage.beats.set_midi_clock(True)
    target = dmx_target(args)
    if target is not None:
        window.stage.lights.set_dmx(True, target)
    patch = desk_patch(args)
    if patch is not None:
        window.stage.lights.set_dmx_in(True, patch)
    if output is not None:
        window.use_output(output)
    if choice is not None:
        window.capture_input(choice)
    elif playlist is not None:
        window.play_playlist(playlist)
    if args.rotate is not None or args.mirror:
        orientation = settings.canvas_orientation
        window.set_orientation(
            CanvasOrientation(
                orientation.rotation if args.rotate is None else args.rotate,
                orientation.mirrored or args.mirror,
            )
        )
    if args.corners is not None:
        window.set_corner_pin(args.corners)
    if args.test_card:
        window.set_test_card(True)
    if args.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    return window
