"""DMX in: a lighting desk drives the show over Art-Net or sACN, as it drives a media server.

The desk patches musicscape as a fixture of DESK_CHANNELS channels from a first channel on
one universe (`--dmx-in artnet|sacn`, `--dmx-in-universe`, `--dmx-in-channel`):

| channel (from the first) | what | values |
|---|---|---|
| 1 | master | 0-255: 0-100% |
| 2 | scene | 0-9 auto; 10-19 hold category 1, … 90-99 hold 9; 110-199 bias the same way |
| 3 | reactivity | 0-255: 0-3 |
| 4 | feel | 0-255: 0-1 |
| 5 | cross-fade | 0-255: 0.3-20 s |
| 6 | blackout | 0-127 off, 128-255 on |
| 7 | preset | 0-9 none; 10-19 recalls preset 1, … 80-89 preset 8 |
| 8 | tap | each rise through 128 is a tap of the beat (a desk's flash button) |

A channel acts when its value changes (on the first packet heard, every channel but the
tap and the preset acts), through the stage's own actions, so the panel, the keys, OSC,
MIDI and the desk drive one show and the latest move wins. Art-Net comes to UDP port 6454
(broadcast, or sent to this machine; an ArtPoll is answered naming a port that takes the
universe, so a desk that sends only to the nodes it found sends here), sACN to port 5568
(its universe's multicast group, joined, or sent to this machine); this app's own sACN
packets (its source id) are passed over. Several sources on the universe (a main and a
backup desk, a desk and a show controller) are merged as a DMX node merges them: sACN's
highest priority among the sources heard within SOURCE_LOST_SECONDS counts, and the sources
at that priority (all of Art-Net's, told apart by their address) are merged highest takes
precedence, channel by channel; a source that goes quiet that long, or ends its sACN stream,
leaves the merge. Taking the latest packet instead made two desks' different levels
alternate from one read to the next. The socket is read on the GUI thread at DESK_READ_MS,
without waiting.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from .dmx_output import (
    ARTNET,
    ARTNET_ID,
    ARTNET_OP_DMX,
    DMX_CHANNELS,
    PORTS,
    PROTOCOL_NAMES,
    SACN,
    UNIVERSES,
    DmxError,
    answer_artpoll,
    is_artpoll,
    sacn_multicast_address,
)
from .scene_director import BIAS, HOLD

DESK_CHANNELS = 8
MAX_DESK_FIRST_CHANNEL = DMX_CHANNELS - DESK_CHANNELS + 1
DESK_READ_MS = 25
MAX_DATAGRAMS_A_READ = 256
# Between two reads a broadcast Art-Net network's other universes queue up too; ask for room
# for a few hundred (the system caps it: Linux at net.core.rmem_max, 208 KiB unless raised)
RECEIVE_BUFFER_BYTES = 1 << 20
SOURCE_LOST_SECONDS = 2.5  # E1.31's source loss time: a quieter source's priority no longer counts
SCENE_STEP = 10  # channel 2: ten values a category
BIAS_FROM = 100  # channel 2: 110-199 bias
MAX_CATEGORIES = 9
PRESET_STEP = 10
PRESETS = 8
CROSSFADE_RANGE = (0.3, 20.0)
HALF = 128
E131_PREVIEW = 0x80  # a packet for a desk's preview, not the stage
E131_TERMINATED = 0x40


@dataclass(frozen=True)
class DeskPatch:
    """Where the desk's channels are: the protocol, the universe and the first channel."""

    protocol: str
    universe: int
    first_channel: int

    def problem(self) -> str | None:
        if self.protocol not in PROTOCOL_NAMES:
            return f"DMX protocol must be one of {', '.join(PROTOCOL_NAMES)}, got {self.protocol!r}"
        low, high = UNIVERSES[self.protocol]
        if not low <= self.universe <= high:
            name = PROTOCOL_NAMES[self.protocol]
            return f"{name} universe must be {low}-{high}, got {self.universe}"
        if not 1 <= self.first_channel <= MAX_DESK_FIRST_CHANNEL:
            return (
                f"the first DMX in channel must be 1-{MAX_DESK_FIRST_CHANNEL} ({DESK_CHANNELS} "
                f"channels from it), got {self.first_channel}"
            )
        return None

    def describe(self) -> str:
        last = self.first_channel + DESK_CHANNELS - 1
        return (
            f"{PROTOCOL_NAMES[self.protocol]} universe {self.universe}, channels "
            f"{self.first_channel}-{last}"
        )


@dataclass(frozen=True)
class DmxFrame:
    """One universe's levels as a packet brought them."""

    universe: int
    levels: bytes  # channel 1 first
    priority: int  # sACN's (0-200); Art-Net's count as sACN's default, 100
    source: bytes  # sACN's CID, or b"" for Art-Net
    terminated: bool = False  # sACN: the source's last packets (its levels are not to be used)


def parse_artdmx(datagram: bytes) -> DmxFrame | None:
    """An ArtDMX packet's universe and levels; None for anything else."""
    if len(datagram) < 18 or not datagram.startswith(ARTNET_ID):
        return None
    if struct.unpack_from("<H", datagram, 8)[0] != ARTNET_OP_DMX:
        return None
    universe = datagram[14] | (datagram[15] & 0x7F) << 8
    (length,) = struct.unpack_from(">H", datagram, 16)
    return DmxFrame(universe, datagram[18 : 18 + min(length, DMX_CHANNELS)], 100, b"")


def parse_e131(datagram: bytes) -> DmxFrame | None:
    """An sACN data packet's universe, levels (start code 0 only), priority and source id,
    and whether it ends the source's stream; None for anything else (discovery, sync,
    preview packets, other start codes)."""
    if len(datagram) < 126 or datagram[4:16] != b"ASC-E1.17\x00\x00\x00":
        return None
    root, framing, dmp = datagram[18:22], datagram[40:44], datagram[117]
    if root != b"\x00\x00\x00\x04" or framing != b"\x00\x00\x00\x02" or dmp != 0x02:
        return None
    if datagram[112] & E131_PREVIEW or datagram[125] != 0:
        return None
    (universe,) = struct.unpack_from(">H", datagram, 113)
    return DmxFrame(
        universe,
        datagram[126 : 126 + DMX_CHANNELS],
        datagram[108],
        datagram[22:38],
        terminated=bool(datagram[112] & E131_TERMINATED),
    )


def merged_levels(frames: list[DmxFrame], first: int, count: int) -> bytes:
    """Channels first+1 ... first+count as a node merges several sources: those at the
    highest priority among `frames`, highest takes precedence (each channel the highest of
    them; a channel a source does not send counts 0)."""
    top = max(frame.priority for frame in frames)
    counted = [
        frame.levels[first : first + count].ljust(count, b"\x00")
        for frame in frames
        if frame.priority == top
    ]
    return bytes(max(column) for column in zip(*counted, strict=True))


class DeskChannels:
    """The desk's channels -> stage actions (name, OSC-style arguments), as they change."""

    def __init__(self):
        self._last: bytes | None = None

    def actions(self, levels: bytes) -> list[tuple[str, tuple]]:
        """The actions the channels' new levels ask for (DESK_CHANNELS values, the first
        channel's first; missing ones read 0)."""
        levels = levels[:DESK_CHANNELS].ljust(DESK_CHANNELS, b"\x00")
        before, self._last = self._last, levels
        first = before is None
        actions: list[tuple[str, tuple]] = []

        def changed(channel: int, reading: Callable[[int], object]) -> bool:
            return first or reading(levels[channel]) != reading(before[channel])

        master, scene, reactivity, feel, crossfade, blackout, preset, tap = levels
        if changed(0, int):
            actions.append(("master", (master / 255.0,)))
        if changed(1, scene_action):
            actions.append(scene_action(scene))
        if changed(2, int):
            actions.append(("reactivity", (3.0 * reactivity / 255.0,)))
        if changed(3, int):
            actions.append(("feel", (feel / 255.0,)))
        if changed(4, int):
            low, high = CROSSFADE_RANGE
            actions.append(("crossfade", (low + (high - low) * crossfade / 255.0,)))
        if changed(5, lambda value: value >= HALF):
            actions.append(("blackout", (int(blackout >= HALF),)))
        if not first and preset_slot(preset) and preset_slot(preset) != preset_slot(before[6]):
            actions.append(("preset", (preset_slot(preset),)))
        if not first and before[7] < HALF <= tap:
            actions.append(("tap", ()))
        return actions


def scene_action(value: int) -> tuple[str, tuple]:
    """Channel 2's value as a scene action: auto, or hold / bias a category by number."""
    step = value // SCENE_STEP
    if 1 <= step <= MAX_CATEGORIES:
        return (HOLD, (step,))
    if 1 <= step - BIAS_FROM // SCENE_STEP <= MAX_CATEGORIES:
        return (BIAS, (step - BIAS_FROM // SCENE_STEP,))
    return ("auto", ())


def preset_slot(value: int) -> int:
    """Channel 7's value as a preset number (0: none)."""
    slot = value // PRESET_STEP
    return slot if 1 <= slot <= PRESETS else 0


class DmxInput:
    """Listens for the desk's universe; `read()` gives the newest levels of the patch's
    channels since the last read, without waiting. `own_source` is this app's sACN CID
    (its own packets are passed over)."""

    def __init__(self, patch: DeskPatch, own_source: bytes = b"", port: int | None = None):
        problem = patch.problem()
        if problem is not None:
            raise DmxError(problem)
        self.patch = patch
        self._own_source = own_source
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        self._socket.setblocking(False)
        port = PORTS[patch.protocol] if port is None else port
        try:
            self._socket.bind(("", port))
        except OSError as error:
            self._socket.close()
            raise DmxError(
                f"DMX in: UDP port {port} cannot be had ({error.strerror or error})"
            ) from error
        self.multicast_problem: str | None = None
        if patch.protocol == SACN:
            group = socket.inet_aton(sacn_multicast_address(patch.universe))
            try:
                self._socket.setsockopt(
                    socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, group + socket.inet_aton("0.0.0.0")
                )
            except OSError as error:  # no multicast route: packets sent here still come
                self.multicast_problem = f"cannot join the universe's group ({error.strerror})"
        self.polls_answered = 0
        self.heard = False  # any desk's packet taken, ever
        # each source's last frame, when it came (time.monotonic()) and its address, by its
        # sACN CID or its Art-Net address; those quiet SOURCE_LOST_SECONDS go at each read
        self._sources: dict[bytes | str, tuple[DmxFrame, float, str]] = {}
        self._fresh = False  # a frame came, or a source left, since the last read

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def take(self, datagram: bytes, sender: str = "") -> None:
        """A datagram from the network (this input's socket, or DMX out's on port 6454)."""
        parse = parse_artdmx if self.patch.protocol == ARTNET else parse_e131
        frame = parse(datagram)
        if frame is None or frame.universe != self.patch.universe:
            return
        if frame.source and frame.source == self._own_source:
            return
        source = frame.source or sender
        self._fresh = True
        if frame.terminated:
            self._sources.pop(source, None)
            return
        self._sources[source] = (frame, time.monotonic(), sender)
        self.heard = True

    @property
    def sources(self) -> int:
        """How many sources were heard, as of the last read."""
        return len(self._sources)

    @property
    def senders(self) -> tuple[str, ...]:
        """The addresses the sources heard send from, as of the last read."""
        return tuple(sorted({sender for _, _, sender in self._sources.values()}))

    def read(self) -> bytes | None:
        """The patch's channels as the sources heard now merge them, when a packet came or
        a source left since the last read; else None (also when every source has gone
        quiet: the levels last read hold)."""
        for _ in range(MAX_DATAGRAMS_A_READ):
            try:
                datagram, (host, port) = self._socket.recvfrom(2048)
            except OSError:  # none waiting
                break
            if self.patch.protocol == ARTNET and is_artpoll(datagram):
                self._answer_poll(host, port)
            else:
                self.take(datagram, host)
        now = time.monotonic()
        for source, (_, at, _) in list(self._sources.items()):
            if now - at >= SOURCE_LOST_SECONDS:
                del self._sources[source]
                self._fresh = True
        if not self._fresh or not self._sources:
            return None
        self._fresh = False
        frames = [frame for frame, _, _ in self._sources.values()]
        return merged_levels(frames, self.patch.first_channel - 1, DESK_CHANNELS)

    def _answer_poll(self, host: str, port: int) -> None:
        """An ArtPoll that came to this socket: this input is named as a port that takes the
        desk's universe (so a desk that sends only to the nodes it found sends here)."""
        self.polls_answered += 1
        patch = self.patch
        answer_artpoll(
            self._socket,
            (host, port),
            patch.universe,
            patch.first_channel,
            self.polls_answered,
            listens=True,
            channels=DESK_CHANNELS,
        )

    def close(self) -> None:
        self._socket.close()
