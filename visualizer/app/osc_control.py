"""OSC in and out over UDP (python-osc, the `vj` extra).

`OscListener` (`--osc-in PORT`) serves on its own thread; every message it receives is
handed to the GUI thread by a queued Qt signal, so no network thread ever touches a widget
or the worker. `OscSender` (`--osc-out HOST:PORT`) sends plain UDP datagrams; the window's
stage calls it on the GUI thread. The addresses are in `INPUT_ADDRESSES` and
`OUTPUT_ADDRESSES` and the README's table.
"""

from __future__ import annotations

import threading
from functools import partial

from PyQt6.QtCore import QObject, pyqtSignal

from .http_serving import SHUTDOWN_POLL_SECONDS

PREFIX = "/musicscape/"
EXTRA = "vj"
REMOTE_FAULT = "remote"  # the window's fault line for what a remote (OSC, HTTP, MIDI, DMX) asked

# address (after PREFIX) -> what its arguments are
INPUT_ADDRESSES = {
    "auto": "none: the music chooses the scene",
    "hold": "category name or number (1 = first): hold that scene",
    "bias": "category name or number: bias toward that scene",
    "reactivity": "float 0-3: how much beats move the picture",
    "scene_memory": "float 0-120: seconds the scene averages the music over",
    "crossfade": "float 0.3-20: seconds a change of scene takes, 10% to 90%",
    "on_beat": "0 / 1, none toggles: a change of scene waits for the next beat (2 s at most)",
    "on_bar": "0 / 1, none toggles: a change of scene waits for the next bar's first beat of "
    "the beat grid followed (Link, MIDI clock, taps; 5 s at most)",
    "feel": "float 0-1: how strongly light and colour follow the music's feel (0: off)",
    "blackout": "0 / 1, none toggles: fade to black over the fade time (recording and NDI too)",
    "freeze": "0 / 1, none toggles: the picture holds still (recording, NDI and the lights "
    "too) while the music goes on being heard; off, the live picture again",
    "master": "float 0-1: how bright the picture goes out (at once)",
    "blackout_fade": "float 0-10: seconds the blackout takes to fade to black and back (0: a cut)",
    "fullscreen": "0 / 1, none toggles",
    "titles": "0 / 1, none toggles: each track's title fades in over the scene as it starts",
    "test_card": "0 / 1, none toggles: the test card in place of the scene on the canvas, for "
    "setting up a projector or screen",
    "mirror": "0 / 1, none toggles: the canvas mirrored left and right (rear projection)",
    "fill": "0 / 1, none toggles: the canvas filled with the scene, its overhang cut off "
    "(recordings, saved pictures and NDI take the same middle), instead of black bars",
    "corner": "int 1-4 and two floats 0-1: put that corner of the canvas's picture (1: top "
    "left, then clockwise) at x, y on its screen (shares of its width and height), keystone "
    "for a projector; 0: every corner back to the screen's",
    "pinning": "int 0-4: 1-4 pin the canvas's corners with that corner picked (the test card "
    "with a ring on each corner, the picked one yellow, as C shows it); 0: done",
    "nudge_corner": "int 1-4 and two floats -0.1-0.1: move that corner of the canvas's picture "
    "by x, y (shares of its screen's width and height), as far as it can go: stopped at the "
    "screen's edge, not moved where the picture would fold",
    "remember_scenes": "0 / 1, none toggles: a scene held or biased while a track plays is "
    "remembered for that track",
    "link": "0 / 1, none toggles: Ableton Link: beats and tempo from the session's grid "
    "while it has peers",
    "midi_clock": "0 / 1, none toggles: beats and tempo from the MIDI inputs' clock while it runs",
    "tap": "none (or 1): a tap of the beat: from a run's second tap the beats and tempo follow "
    "the taps, a lone tap later puts a bar's first beat there; 0: forget the taps",
    "dmx": "0 / 1, none toggles: DMX out (the lights' channels over Art-Net or sACN) to where "
    "--artnet or --sacn last said",
    "dmx_in": "0 / 1, none toggles: DMX in (a lighting desk's 8 channels drive the show) from "
    "where --dmx-in last said",
    "next": "none: the next track of a cue sheet, else the next file of the list",
    "previous": "none: back to the track's start (a cue sheet's, else the file's), or, within "
    "its first 3 s, the track or file before",
    "play": "0 / 1, none toggles: the file plays (1) or pauses (0); after the list's last file, "
    "1 plays the list again",
    "loop": "0 / 1, none toggles: the file list starts again after its last file (one file "
    "loops seamlessly); lists opened after it take it too",
    "shuffle": "0 / 1, none toggles: the list's other files in a random order after the one "
    "playing; off, the order they were given in; lists opened after it take it too",
    "seek": "float, seconds from the file's start (0 to its length): play the file from there",
    "file": "string: play that audio file, folder, .m3u / .pls playlist or .cue sheet (a path "
    "on the machine musicscape runs on, absolute), as --file does",
    "record": "0 / 1, none toggles: record what the canvas shows",
    "ndi": "0 / 1, none toggles: NDI output",
    "picture": "none: save the picture the canvas shows as a PNG in the record folder",
    "preset": "int 1-8: recall that preset's look (scene mode, reactivity, feel, scene "
    "memory, cross-fade)",
    "store_preset": "int 1-8: store the look that runs now in that preset",
}
OUTPUT_ADDRESSES = {
    "probabilities": "one float per category, in the models' order (40 Hz)",
    "scene": "string category, string mode (auto / hold / bias) (40 Hz)",
    "onset": "float: the beat envelope, 0-1 (40 Hz)",
    "colour": "three floats 0-1: the mean red, green and blue of the picture that goes out, "
    "master and blackout included (40 Hz), for lights that match the scene",
    "mood": "two floats -1-1: the music's arousal and valence, as the feel reads them (40 Hz)",
    "track": "four strings: the file's title, artist, album (each '' when its tags lack it) "
    "and its name, when a file starts and every second while it plays",
    "position": "two floats: where the file playing stands and its length, seconds (40 Hz "
    "while a file plays), for a show's countdown",
    "tempo": "float: the music's tempo in beats per minute, 60-200 (0: no steady beat; 40 Hz)",
    "level": "float: the audio's level as it comes, dBFS (up at once, down over 0.3 s; -120: "
    "silence; 40 Hz), for sound-to-light",
    "bands": "three floats: the low (below 250 Hz), mid and high (above 2 kHz) bands' "
    "levels, dB (a full-scale sine in the band: 0; up at once, down over 0.3 s; -120: "
    "nothing), as the models hear the music (an input after its auto level; 40 Hz), for "
    "sound-to-light that tells the kick from the hi-hat",
    "beat": "double: the beat's audio time, seconds on this machine's monotonic clock "
    "(Python's time.perf_counter), sent once per beat as soon as it is seen",
}
# The addresses that switch something on (1) or off (0), and toggle it with no argument.
SWITCHES = (
    "on_beat",
    "on_bar",
    "blackout",
    "freeze",
    "fullscreen",
    "titles",
    "test_card",
    "mirror",
    "fill",
    "remember_scenes",
    "link",
    "midi_clock",
    "dmx",
    "dmx_in",
    "record",
    "ndi",
    "play",
    "loop",
    "shuffle",
)
# And feedback: each INPUT_ADDRESSES control that holds a value goes out on its own address
# (a float: the number, or a switch's 0 / 1) when it changes and every second
# (Stage.control_values), so a control surface shows the show's state.


class OscUnavailable(RuntimeError):
    """python-osc is not installed, or the port cannot be used; the message says which."""


def _python_osc():
    try:
        from pythonosc import dispatcher, osc_server, udp_client
    except ImportError as error:
        raise OscUnavailable(
            f"OSC needs the '{EXTRA}' extra (python-osc is missing): "
            f"pip install '.[{EXTRA}]' or ./install.sh --vj"
        ) from error
    return dispatcher, osc_server, udp_client


class OscListener(QObject):
    """Receives OSC on a UDP port; `received(action, args)` fires on the thread that owns
    this object (the GUI's) for every message under PREFIX, `rejected(text)` for others."""

    received = pyqtSignal(str, tuple)
    rejected = pyqtSignal(str)

    def __init__(self, port: int, host: str = "0.0.0.0", parent: QObject | None = None):
        super().__init__(parent)
        dispatcher_module, osc_server, _ = _python_osc()
        dispatcher = dispatcher_module.Dispatcher()
        dispatcher.set_default_handler(self.take)
        try:
            self._server = osc_server.BlockingOSCUDPServer((host, port), dispatcher)
        except OSError as error:
            raise OscUnavailable(f"cannot listen for OSC on UDP port {port}: {error}") from error
        self._server.handle_error = self._unreadable  # instead of a traceback on stderr
        self._thread = threading.Thread(
            target=partial(self._server.serve_forever, poll_interval=SHUTDOWN_POLL_SECONDS),
            name="osc-in",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def take(self, address: str, *args) -> None:
        """A message that came by UDP, or over OSCQuery's WebSocket (osc_query.py): from
        any thread, it only emits `received` or `rejected`."""
        if address.startswith(PREFIX) and address[len(PREFIX) :] in INPUT_ADDRESSES:
            self.received.emit(address[len(PREFIX) :], tuple(args))
        else:
            self.rejected.emit(f"unknown OSC address {address}")

    def _unreadable(self, request, client_address: tuple[str, int]) -> None:
        """A datagram python-osc could not read (its address not UTF-8, say: it raises
        UnicodeDecodeError, which its server would print as a traceback): passed over,
        and said."""
        self.rejected.emit(f"an OSC datagram from {client_address[0]} could not be read")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2.0)


class OscSender:
    """Sends the stage's figures to each HOST:PORT added (`add`): the show's software, the
    lighting console and a control surface can each have them. Each message is built once
    and sent to every destination."""

    def __init__(self):
        _, _, udp_client = _python_osc()
        from pythonosc.osc_message_builder import OscMessageBuilder

        self._udp_client = udp_client
        self._builder = OscMessageBuilder
        self.destinations: list[tuple[str, int]] = []
        self._clients: list = []
        self.sent = 0  # datagrams, counted per destination
        self.failed = 0

    def add(self, host: str, port: int) -> None:
        """Send to HOST:PORT too (once, however often it is added)."""
        if (host, port) in self.destinations:
            return
        try:
            client = self._udp_client.UDPClient(host, port)
        except OSError as error:
            raise OscUnavailable(f"cannot send OSC to {host}:{port}: {error}") from error
        self.destinations.append((host, port))
        self._clients.append(client)

    def describe(self) -> str:
        return ", ".join(f"{host}:{port}" for host, port in self.destinations)

    def send(self, name: str, *args: tuple[str, object]) -> None:
        """Send PREFIX+name with (OSC type tag, value) arguments to every destination; a
        refused datagram (no one listening yet) is counted, never raised."""
        builder = self._builder(PREFIX + name)
        for tag, value in args:
            builder.add_arg(value, tag)
        message = builder.build()
        for client in self._clients:
            try:
                client.send(message)
                self.sent += 1
            except OSError:
                self.failed += 1
