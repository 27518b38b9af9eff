"""DMX out: stage lights that match the scene, over Art-Net or sACN.

Lighting desks, media servers and DMX nodes take Art-Net (Art-Net 4, UDP port 6454) or
sACN (ANSI E1.31, UDP port 5568, multicast by universe unless sent to one address). With
DMX out on, the app sends one packet 40 times a second on one universe, its LIGHT_CHANNELS
channels from a chosen first channel, so they can be patched beside other fixtures:

| channel (from the first) | what |
|---|---|
| 1-3 | the whole picture's red, green, blue |
| 4-6 | its top third (the sky), red, green, blue |
| 7-9 | its bottom third (the ground or the water) |
| 10-12 | its left half |
| 13-15 | its right half |
| 16 | the beat's pulse (the picture's beat envelope, 0-255) |
| 17 | the scene shown: its category's number (1 = first; 0 before the first frame) |
| 18-20 | the music's low, mid and high bands (frontend/bands.py), BAND_FLOOR_DB-0 dB as 0-255 |

The colours are those of the picture that goes out (its middle where the canvas fills a
wide screen; the master and the blackout included: a blackout puts the lights out with the
picture, and the beat and the bands with it) as linear light: each pixel's sRGB value
decoded to the light it stands for, averaged, and sent as 0-255, since LED
fixtures dim linearly; a mid-grey picture (sRGB 128) is DMX 55. The bands' meters are in
dB, so each is sent on a dB scale, its level above BAND_FLOOR_DB as a share of the range
up to 0 dB (a full-scale sine in the band): a kick's rise is a step a desk's chase or a
dimmer can follow, where a linear amplitude would leave all but the loudest peaks near 0
(a band at -24 dB, 6% of full amplitude, is DMX 128). A packet is one small
datagram sent without waiting, and a network error is counted and shown, never raised, so
a pulled cable or a node that is not up yet costs nothing. A host name is looked up on a
thread of its own (a slow or absent name server never holds the window up); until it is
found no packet goes, and a name not found is looked up again every LOOKUP_RETRY_SECONDS.

Art-Net desks and tools list the devices on the network by polling (ArtPoll, broadcast to
UDP port 6454): with Art-Net out on, the app's socket is bound to port 6454 (shared with
any other Art-Net program on the machine) and each ArtPoll that comes is answered, at the
next packet, with an ArtPollReply naming it: "musicscape", a media server with one port
that puts DMX onto the network on its universe. Where port 6454 cannot be had the lights
still go and the Stage box says that polls go unanswered.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

ARTNET = "artnet"
SACN = "sacn"
PROTOCOL_NAMES = {ARTNET: "Art-Net", SACN: "sACN"}
PORTS = {ARTNET: 6454, SACN: 5568}
UNIVERSES = {ARTNET: (0, 32_767), SACN: (1, 63_999)}  # Art-Net's 15-bit Port-Address
DMX_CHANNELS = 512
LIGHT_CHANNELS = 20
BAND_FLOOR_DB = -48.0  # a band's level at DMX 0 (0 dB: 255)
MAX_FIRST_CHANNEL = DMX_CHANNELS - LIGHT_CHANNELS + 1
SAMPLE_GRID = 48  # colours are read from a grid of at most 48 x 48 pixels, at any size
SOURCE_NAME = "musicscape"
SACN_PRIORITY = 100  # E1.31's default
LOOKUP_RETRY_SECONDS = 5.0  # a host name not found is looked up again this often

ARTNET_ID = b"Art-Net\x00"
ARTNET_OP_DMX = 0x5000
ARTNET_OP_POLL = 0x2000
ARTNET_OP_POLL_REPLY = 0x2100
ARTNET_STATUS_1 = 0xD0  # indicators normal; the Port-Address set here, not by the network
ARTNET_STATUS_2 = 0x08  # 15-bit Port-Addresses (Art-Net 3 and 4)
ARTNET_PORT_INPUT = 0x40  # a port that puts DMX512 onto the Art-Net network
ARTNET_DATA_RECEIVED = 0x80  # that port has data
ARTNET_PORT_OUTPUT = 0x80  # a port that takes DMX512 from the Art-Net network
ARTNET_DATA_SENT = 0x80  # that port has data to give
ARTNET_STYLE_MEDIA = 0x02  # StMedia: a media server
ARTNET_OEM_UNKNOWN = 0x00FF
ARTNET_REPORT_POWER_OK = 0x0001  # RcPowerOk, the NodeReport's code when all is well
MAX_DATAGRAMS_A_SEND = 256  # datagrams read from port 6454 at each send, at most
ARTNET_VERSION = 14
E131_PREAMBLE = struct.pack(">HH", 0x0010, 0x0000) + b"ASC-E1.17\x00\x00\x00"
E131_ROOT_VECTOR = 0x00000004  # VECTOR_ROOT_E131_DATA
E131_FRAMING_VECTOR = 0x00000002  # VECTOR_E131_DATA_PACKET
E131_DMP_VECTOR = 0x02  # VECTOR_DMP_SET_PROPERTY
E131_FLAGS = 0x7000  # each layer's flags, above its 12-bit length
E131_STREAM_TERMINATED = 0x40  # the framing layer's option: this source stops sending
E131_TERMINATION_PACKETS = 3  # E1.31 asks for three, so one lost does not leave lights held
E131_EXTENDED_ROOT_VECTOR = 0x00000008  # VECTOR_ROOT_E131_EXTENDED
E131_DISCOVERY_VECTOR = 0x00000002  # VECTOR_E131_EXTENDED_DISCOVERY
E131_UNIVERSE_LIST_VECTOR = 0x00000001  # VECTOR_UNIVERSE_DISCOVERY_UNIVERSE_LIST
E131_DISCOVERY_ADDRESS = "239.255.250.214"  # the discovery universe's group (64214)
E131_DISCOVERY_SECONDS = 10.0  # how often a source lists its universes


def _srgb_to_linear_table() -> np.ndarray:
    value = np.arange(256, dtype=np.float64) / 255.0
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)


SRGB_TO_LINEAR = _srgb_to_linear_table()


class DmxError(RuntimeError):
    """DMX out cannot start (a number out of range, a protocol it does not speak)."""


def band_share(level_db: float) -> float:
    """A band's level in dB as the share of its DMX range: 0 at BAND_FLOOR_DB and below,
    1 at 0 dB and above."""
    return min(max(1.0 - level_db / BAND_FLOOR_DB, 0.0), 1.0)


def light_channels(
    picture: np.ndarray | None, pulse: float, category: int | None, bands: Sequence[float]
) -> bytes:
    """The LIGHT_CHANNELS values (the table above) for a uint8 RGB picture [H, W, 3], the
    beat pulse 0-1, the shown category's index (None: none yet; no picture: dark) and the
    low, mid and high bands' shares 0-1 (band_share)."""
    values = np.zeros(LIGHT_CHANNELS, dtype=np.uint8)
    if picture is not None:
        step = max(1, -(-max(picture.shape[:2]) // SAMPLE_GRID))
        grid = SRGB_TO_LINEAR[picture[::step, ::step]]  # [h, w, 3] linear light
        rows, columns = grid.shape[:2]
        third = max(rows // 3, 1)
        half = max(columns // 2, 1)
        zones = (
            grid,
            grid[:third],
            grid[rows - third :],
            grid[:, :half],
            grid[:, columns - half :],
        )
        light = np.concatenate([zone.reshape(-1, 3).mean(axis=0) for zone in zones])
        values[:15] = np.round(np.clip(light, 0.0, 1.0) * 255.0).astype(np.uint8)
    values[15] = round(min(max(pulse, 0.0), 1.0) * 255.0)
    values[16] = 0 if category is None else min(category + 1, 255)
    values[17:] = [round(min(max(share, 0.0), 1.0) * 255.0) for share in bands]
    return values.tobytes()


def _check_universe(protocol: str, universe: int) -> None:
    low, high = UNIVERSES[protocol]
    if not low <= universe <= high:
        name = PROTOCOL_NAMES[protocol]
        raise ValueError(f"{name} universe must be {low}-{high}, got {universe}")


def artdmx_packet(universe: int, sequence: int, data: bytes) -> bytes:
    """One ArtDMX packet (Art-Net 4): `data` (channel 1 first) padded to an even length of
    2-512."""
    _check_universe(ARTNET, universe)
    if len(data) > DMX_CHANNELS:
        raise ValueError(f"at most {DMX_CHANNELS} channels, got {len(data)}")
    length = max(len(data) + len(data) % 2, 2)
    return (
        ARTNET_ID
        + struct.pack("<H", ARTNET_OP_DMX)
        + struct.pack(">H", ARTNET_VERSION)
        + bytes((sequence, 0, universe & 0xFF, universe >> 8))
        + struct.pack(">H", length)
        + data.ljust(length, b"\x00")
    )


def artpollreply_packet(
    ip: str,
    universe: int,
    first_channel: int,
    replies: int,
    listens: bool = False,
    channels: int = LIGHT_CHANNELS,
) -> bytes:
    """An ArtPollReply (Art-Net 4, every field: 239 bytes) for this app at the IPv4
    address `ip`: a media server with one port on `universe` (`channels` from
    `first_channel`) that puts DMX onto the network (DMX out, bind index 1) or, `listens`,
    takes it from there (DMX in, bind index 2: a desk that sends only to the nodes it found
    sends to it); `replies` counts the replies sent, this one included."""
    _check_universe(ARTNET, universe)
    last_channel = first_channel + channels - 1
    doing = f"listening on universe {universe}" if listens else f"sending universe {universe}"
    report = f"#{ARTNET_REPORT_POWER_OK:04x} [{replies % 10_000:04d}] {doing}"
    what = "desk control" if listens else "scene lights"
    long_name = f"{SOURCE_NAME}: {what}, channels {first_channel}-{last_channel}"
    port_type, good_input, good_output = (
        (ARTNET_PORT_OUTPUT, 0, ARTNET_DATA_SENT)
        if listens
        else (ARTNET_PORT_INPUT, ARTNET_DATA_RECEIVED, 0)
    )
    low = universe & 0x0F
    return (
        ARTNET_ID
        + struct.pack("<H", ARTNET_OP_POLL_REPLY)
        + socket.inet_aton(ip)
        + struct.pack("<H", PORTS[ARTNET])
        + struct.pack(">H", 1)  # the "firmware" version
        + bytes((universe >> 8 & 0x7F, universe >> 4 & 0x0F))  # NetSwitch, SubSwitch
        + struct.pack(">H", ARTNET_OEM_UNKNOWN)
        + bytes((0, ARTNET_STATUS_1))  # no UBEA; Status1
        + struct.pack("<H", 0)  # no ESTA manufacturer code
        + SOURCE_NAME.encode()[:17].ljust(18, b"\x00")
        + long_name.encode()[:63].ljust(64, b"\x00")
        + report.encode()[:63].ljust(64, b"\x00")
        + struct.pack(">H", 1)  # one port
        + bytes((port_type, 0, 0, 0))  # PortTypes
        + bytes((good_input, 0, 0, 0))  # GoodInput
        + bytes((good_output, 0, 0, 0))  # GoodOutputA
        + bytes((0 if listens else low, 0, 0, 0))  # SwIn: the universe's low nibble
        + bytes((low if listens else 0, 0, 0, 0))  # SwOut
        + bytes((SACN_PRIORITY, 0, 0))  # AcnPriority, SwMacro, SwRemote
        + bytes(3)  # spare
        + bytes((ARTNET_STYLE_MEDIA,))
        + bytes(6)  # no MAC address to give
        + socket.inet_aton(ip if listens else "0.0.0.0")  # BindIp: DMX in is bound to out
        + bytes((2 if listens else 1, ARTNET_STATUS_2))  # BindIndex, Status2
        + bytes(4 + 1 + 6 + 2 + 2 + 11)  # GoodOutputB, Status3, RDM UID, User, RefreshRate, filler
    )


def is_artpoll(datagram: bytes) -> bool:
    """An ArtPoll (the ID and OpPoll; its flags are not needed to answer it)."""
    return (
        len(datagram) >= 12
        and datagram.startswith(ARTNET_ID)
        and struct.unpack_from("<H", datagram, 8)[0] == ARTNET_OP_POLL
    )


def e131_packet(
    universe: int,
    sequence: int,
    data: bytes,
    source_id: bytes,
    options: int = 0,
    priority: int = SACN_PRIORITY,
) -> bytes:
    """One sACN data packet (ANSI E1.31-2018): the root, framing and DMP layers, the DMX
    start code 0 and `data` (channel 1 first); `source_id` is the sender's 16-byte CID;
    `options` the framing layer's (E131_STREAM_TERMINATED: the last packets); `priority`
    0-200 (this app sends E1.31's default)."""
    _check_universe(SACN, universe)
    if len(data) > DMX_CHANNELS:
        raise ValueError(f"at most {DMX_CHANNELS} channels, got {len(data)}")
    if len(source_id) != 16:
        raise ValueError(f"the source's CID must be 16 bytes, got {len(source_id)}")
    slots = b"\x00" + data  # start code 0: DMX levels
    dmp = (
        struct.pack(
            ">HBBHHH", E131_FLAGS | (10 + len(slots)), E131_DMP_VECTOR, 0xA1, 0, 1, len(slots)
        )
        + slots
    )
    framing_body = (
        struct.pack(">I", E131_FRAMING_VECTOR)
        + SOURCE_NAME.encode().ljust(64, b"\x00")
        + struct.pack(">BHBBH", priority, 0, sequence, options, universe)
    )
    framing = struct.pack(">H", E131_FLAGS | (2 + len(framing_body) + len(dmp))) + framing_body
    root_body = struct.pack(">I", E131_ROOT_VECTOR) + source_id
    root = struct.pack(">H", E131_FLAGS | (2 + len(root_body) + len(framing) + len(dmp)))
    return E131_PREAMBLE + root + root_body + framing + dmp


def e131_discovery_packet(universes: list[int], source_id: bytes) -> bytes:
    """An sACN universe discovery packet (E1.31-2018 section 8): the universes this source
    sends, sorted, on one page (sACN viewers and consoles list sources by it)."""
    for universe in universes:
        _check_universe(SACN, universe)
    listed = struct.pack(f">{len(universes)}H", *sorted(universes))
    discovery = (
        struct.pack(">HIBB", E131_FLAGS | (8 + len(listed)), E131_UNIVERSE_LIST_VECTOR, 0, 0)
        + listed
    )
    framing_body = (
        struct.pack(">I", E131_DISCOVERY_VECTOR)
        + SOURCE_NAME.encode().ljust(64, b"\x00")
        + bytes(4)  # reserved
    )
    framing = struct.pack(">H", E131_FLAGS | (2 + len(framing_body) + len(discovery)))
    root_body = struct.pack(">I", E131_EXTENDED_ROOT_VECTOR) + source_id
    root_length = 2 + len(root_body) + len(framing) + len(framing_body) + len(discovery)
    root = struct.pack(">H", E131_FLAGS | root_length)
    return E131_PREAMBLE + root + root_body + framing + framing_body + discovery


def sacn_multicast_address(universe: int) -> str:
    """E1.31's multicast group for a universe: 239.255.high.low."""
    _check_universe(SACN, universe)
    return f"239.255.{universe >> 8}.{universe & 0xFF}"


@dataclass(frozen=True)
class DmxTarget:
    """Where the lights go: the protocol, the address (sACN: '' for its multicast group),
    the port, the universe and the first channel (1-based)."""

    protocol: str
    host: str
    port: int
    universe: int
    first_channel: int

    @classmethod
    def of(
        cls, protocol: str, host: str, port: int | None, universe: int | None, first: int | None
    ) -> DmxTarget:
        """A target with each number not given at its protocol's default (port, the first
        universe it allows, channel 1)."""
        return cls(
            protocol,
            host,
            PORTS[protocol] if port is None else port,
            UNIVERSES[protocol][0] if universe is None else universe,
            1 if first is None else first,
        )

    def problem(self) -> str | None:
        """What is out of range, in words; None when all is fine."""
        if self.protocol not in PROTOCOL_NAMES:
            return f"DMX protocol must be one of {', '.join(PROTOCOL_NAMES)}, got {self.protocol!r}"
        try:
            _check_universe(self.protocol, self.universe)
        except ValueError as error:
            return str(error)
        if not 1 <= self.first_channel <= MAX_FIRST_CHANNEL:
            return (
                f"the first DMX channel must be 1-{MAX_FIRST_CHANNEL} ({LIGHT_CHANNELS} channels "
                f"from it), got {self.first_channel}"
            )
        if not 1 <= self.port <= 65_535:
            return f"the port must be 1-65535, got {self.port}"
        return None

    @property
    def address(self) -> str:
        if self.protocol == SACN and not self.host:
            return sacn_multicast_address(self.universe)
        return self.host

    @property
    def channels(self) -> str:
        """The lights' channels, first-last: '11-27'."""
        return f"{self.first_channel}-{self.first_channel + LIGHT_CHANNELS - 1}"

    def state(self) -> dict:
        """What the HTTP state gives of it."""
        return {
            "protocol": self.protocol,
            "to": f"{self.address}:{self.port}",
            "universe": self.universe,
            "channels": self.channels,
        }

    def describe(self) -> str:
        multicast = " (multicast)" if self.protocol == SACN and not self.host else ""
        return (
            f"{PROTOCOL_NAMES[self.protocol]} universe {self.universe}, channels "
            f"{self.channels} to {self.address}:{self.port}{multicast}"
        )


class DmxOutput:
    """Sends the lights' channels to a DmxTarget; `source_id` is this installation's sACN
    CID (16 bytes, the same from run to run, as E1.31 asks; None: a new one). An IP address
    is used at once; a host name is looked up on a thread of its own, and each
    send takes the answer when it has come (it never waits for it)."""

    def __init__(
        self,
        target: DmxTarget,
        source_id: bytes | None = None,
        retry_seconds: float = LOOKUP_RETRY_SECONDS,
        poll_port: int = PORTS[ARTNET],
    ):
        problem = target.problem()
        if problem is not None:
            raise DmxError(problem)
        self.target = target
        self._source_id = uuid.uuid4().bytes if source_id is None else source_id
        self._retry_seconds = retry_seconds
        self._lookup: Future | None = None
        self._lookup_failed_at = 0.0
        self._address = _numeric_address(target.address, target.port)
        if self._address is None:
            self._lookup = _look_up(target.address, target.port)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self._socket.setblocking(False)
        self.poll_problem: str | None = None  # why ArtPolls go unanswered (Art-Net only)
        if target.protocol == ARTNET:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self._socket.bind(("", poll_port))
            except OSError as error:
                self.poll_problem = (
                    f"ArtPolls go unanswered: UDP port {poll_port} cannot be had "
                    f"({error.strerror or error})"
                )
        self.polls_answered = 0
        self.received: Callable[[bytes, str], None] | None = None  # others' datagrams to 6454
        self._next_discovery = 0.0  # time.monotonic() of the next sACN universe list
        self._last_lights: bytes | None = None
        self._sequence = 0
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    @property
    def poll_port(self) -> int | None:
        """The port ArtPolls are taken on (None: none)."""
        if self.target.protocol != ARTNET or self.poll_problem is not None:
            return None
        return int(self._socket.getsockname()[1])

    @property
    def status(self) -> str | None:
        """Why packets do not go now (the name still being looked up, or the last error), in
        words; None while they go."""
        if self._address is None and self._lookup is not None:
            return f"looking up '{self.target.address}'…"
        return self.last_error

    def packet(self, lights: bytes, options: int = 0) -> bytes:
        """The next packet with `lights` from the first channel (the channels before it 0);
        `options`: sACN's framing options."""
        target = self.target
        data = bytes(target.first_channel - 1) + lights
        if target.protocol == ARTNET:
            self._sequence = self._sequence % 255 + 1  # 1-255: 0 would turn ordering off
            return artdmx_packet(target.universe, self._sequence, data)
        self._sequence = (self._sequence + 1) % 256
        return e131_packet(target.universe, self._sequence, data, self._source_id, options)

    def send(self, lights: bytes) -> None:
        """One packet, after answering the ArtPolls that came since the last; an error is
        counted, not raised. Nothing goes until the address is known."""
        if self.poll_port is not None:
            self._answer_polls()
        if self._address is None and not self._take_lookup():
            return
        if self.target.protocol == SACN and time.monotonic() >= self._next_discovery:
            self._list_universes()
        self._last_lights = lights
        try:
            self._socket.sendto(self.packet(lights), self._address)
        except OSError as error:  # unreachable network, a full buffer: the next one may go
            self.failed += 1
            self.last_error = str(error)
        else:
            self.sent += 1
            self.last_error = None

    def _list_universes(self) -> None:
        """sACN's universe discovery, every E131_DISCOVERY_SECONDS: to the discovery group
        when the lights go to their universe's group, else to where they go."""
        self._next_discovery = time.monotonic() + E131_DISCOVERY_SECONDS
        multicast = not self.target.host
        to = (E131_DISCOVERY_ADDRESS, self.target.port) if multicast else self._address
        try:
            self._socket.sendto(e131_discovery_packet([self.target.universe], self._source_id), to)
        except OSError:  # as a lost data packet: the next list goes in 10 s
            pass

    def _answer_polls(self) -> None:
        """Reads what came to port 6454 (other sources' ArtDmx too: dropped) and answers
        each ArtPoll, to its sender's port and to Art-Net's (where a controller listens)."""
        for _ in range(MAX_DATAGRAMS_A_SEND):
            try:
                datagram, (host, port) = self._socket.recvfrom(2048)
            except OSError:  # none waiting (BlockingIOError), or an error the next may not have
                return
            if not is_artpoll(datagram):
                if self.received is not None:  # a desk's ArtDMX sent to this machine: DMX in's
                    self.received(datagram, host)
                continue
            self.polls_answered += 1
            target = self.target
            problem = answer_artpoll(
                self._socket,
                (host, port),
                target.universe,
                target.first_channel,
                self.polls_answered,
            )
            if problem is not None:
                self.last_error = problem

    def _take_lookup(self) -> bool:
        """Takes the lookup's answer if it has come (never waits); after a name not found,
        starts another once retry_seconds have passed. True when the address is known."""
        lookup = self._lookup
        if lookup is None:
            if time.monotonic() - self._lookup_failed_at >= self._retry_seconds:
                self._lookup = _look_up(self.target.address, self.target.port)
            return False
        if not lookup.done():
            return False
        self._lookup = None
        try:
            self._address = lookup.result()
        except (OSError, UnicodeError) as error:
            self._lookup_failed_at = time.monotonic()
            self.last_error = f"cannot find the address '{self.target.address}': {error}"
            return False
        self.last_error = None
        return True

    def close(self) -> None:
        """Stops; sACN's receivers are told the stream ends (three packets so marked), so
        they let the lights go at once instead of holding them for 2.5 s."""
        if self.target.protocol == SACN and self._last_lights is not None:
            for _ in range(E131_TERMINATION_PACKETS):
                terminated = self.packet(self._last_lights, E131_STREAM_TERMINATED)
                try:
                    self._socket.sendto(terminated, self._address)
                except OSError:
                    break
        self._socket.close()  # a lookup still running ends on its own thread, unread


def answer_artpoll(
    sender: socket.socket,
    poller: tuple[str, int],
    universe: int,
    first_channel: int,
    replies: int,
    listens: bool = False,
    channels: int = LIGHT_CHANNELS,
) -> str | None:
    """Answers an ArtPoll from `poller` (host, port) with this app's ArtPollReply
    (`artpollreply_packet`, at this machine's address on the way to it), at the port it
    polled from and at Art-Net's (where a controller listens); why not, in words, else
    None."""
    host, port = poller
    reply = artpollreply_packet(
        _local_address_towards(host), universe, first_channel, replies, listens, channels
    )
    for reply_port in {port, PORTS[ARTNET]}:
        try:
            sender.sendto(reply, (host, reply_port))
        except OSError as error:
            return f"cannot answer an ArtPoll from {host}: {error}"
    return None


def _local_address_towards(host: str) -> str:
    """This machine's IPv4 address on the way to `host` (the routing table's choice; no
    packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, PORTS[ARTNET]))
            return probe.getsockname()[0]
        except OSError:
            return "0.0.0.0"


def _numeric_address(host: str, port: int) -> tuple[str, int] | None:
    """(IPv4 address, port) when `host` is written as one (no name server asked); None for
    a name to look up."""
    try:
        return str(ipaddress.IPv4Address(host)), port
    except ValueError:
        return None


def _look_up(host: str, port: int) -> Future:
    """Looks the name's first IPv4 address up on a daemon thread of its own (one a hung name
    server holds up never holds up the app's exit); the Future gets (address, port) or the
    lookup's error."""
    answer: Future = Future()

    def look_up() -> None:
        try:
            answer.set_result(
                socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
            )
        except (OSError, UnicodeError) as error:
            answer.set_exception(error)

    threading.Thread(target=look_up, name="dmx-lookup", daemon=True).start()
    return answer
