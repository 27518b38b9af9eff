"""Art-Net DMX out: stage lights that match the scene.

Lighting desks, media servers and DMX nodes take Art-Net (Art-Net 4, UDP port 6454): with
it on, the app sends one ArtDMX packet 40 times a second to one address (a node, a desk,
or a broadcast address such as 2.255.255.255 or the venue network's x.x.x.255), on one
universe (15 bits: Net, Sub-Net and Universe), its LIGHT_CHANNELS channels from a chosen
first channel, so they can be patched beside other fixtures:

| channel (from the first) | what |
|---|---|
| 1-3 | the whole picture's red, green, blue |
| 4-6 | its top third (the sky), red, green, blue |
| 7-9 | its bottom third (the ground or the water) |
| 10-12 | its left half |
| 13-15 | its right half |
| 16 | the beat's pulse (the picture's beat envelope, 0-255) |
| 17 | the scene shown: its category's number (1 = first; 0 before the first frame) |

The colours are those of the picture that goes out (the master and the blackout
included: a blackout puts the lights out with the picture) as linear light: each pixel's
sRGB value decoded to the light it stands for, averaged, and sent as 0-255, since LED
fixtures dim linearly; a mid-grey picture (sRGB 128) is DMX 55. Sending never blocks the
GUI thread for long (one small datagram) and a network error is counted and shown, never
raised, so a pulled cable or a node that is not up yet costs nothing.
"""

from __future__ import annotations

import socket
import struct

import numpy as np

ARTNET_PORT = 6454
MAX_UNIVERSE = 32_767  # the 15-bit Port-Address
DMX_CHANNELS = 512
LIGHT_CHANNELS = 17
MAX_FIRST_CHANNEL = DMX_CHANNELS - LIGHT_CHANNELS + 1
ARTNET_ID = b"Art-Net\x00"
OP_DMX = 0x5000
PROTOCOL_VERSION = 14
SAMPLE_GRID = 48  # colours are read from a grid of at most 48 x 48 pixels, at any size


def _srgb_to_linear_table() -> np.ndarray:
    value = np.arange(256, dtype=np.float64) / 255.0
    return np.where(value <= 0.04045, value / 12.92, ((value + 0.055) / 1.055) ** 2.4)


SRGB_TO_LINEAR = _srgb_to_linear_table()


class ArtNetError(RuntimeError):
    """Art-Net cannot start (an address that does not resolve, a socket refused)."""


def light_channels(picture: np.ndarray | None, pulse: float, category: int | None) -> bytes:
    """The LIGHT_CHANNELS values (the table above) for a uint8 RGB picture [H, W, 3], the
    beat pulse 0-1 and the shown category's index (None: none yet; no picture: dark)."""
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
    return values.tobytes()


def artdmx_packet(universe: int, sequence: int, data: bytes) -> bytes:
    """One ArtDMX packet: `data` (channel 1 first) padded to an even length of 2-512."""
    if not 0 <= universe <= MAX_UNIVERSE:
        raise ValueError(f"universe must be 0-{MAX_UNIVERSE}, got {universe}")
    if len(data) > DMX_CHANNELS:
        raise ValueError(f"at most {DMX_CHANNELS} channels, got {len(data)}")
    length = max(len(data) + len(data) % 2, 2)
    return (
        ARTNET_ID
        + struct.pack("<H", OP_DMX)
        + struct.pack(">H", PROTOCOL_VERSION)
        + bytes((sequence, 0, universe & 0xFF, universe >> 8))
        + struct.pack(">H", length)
        + data.ljust(length, b"\x00")
    )


class ArtNetOutput:
    """Sends the lights' channels to HOST:PORT on `universe`, from `first_channel` (1-based)."""

    def __init__(self, host: str, port: int, universe: int, first_channel: int):
        if not 0 <= universe <= MAX_UNIVERSE:
            raise ArtNetError(f"Art-Net universe must be 0-{MAX_UNIVERSE}, got {universe}")
        if not 1 <= first_channel <= MAX_FIRST_CHANNEL:
            raise ArtNetError(
                f"Art-Net first channel must be 1-{MAX_FIRST_CHANNEL} ({LIGHT_CHANNELS} "
                f"channels from it), got {first_channel}"
            )
        try:
            address = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)[0][4]
        except (OSError, UnicodeError) as error:
            raise ArtNetError(f"Art-Net: cannot find the address '{host}': {error}") from error
        self.host, self.port, self.universe, self.first_channel = (
            host,
            port,
            universe,
            first_channel,
        )
        self._address = address
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self._socket.setblocking(False)
        self._sequence = 0
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None

    @property
    def channels(self) -> str:
        return f"{self.first_channel}-{self.first_channel + LIGHT_CHANNELS - 1}"

    def send(self, lights: bytes) -> None:
        """One packet with `lights` from the first channel; an error is counted, not raised."""
        self._sequence = self._sequence % 255 + 1  # 1-255: 0 would turn ordering off
        data = bytes(self.first_channel - 1) + lights
        try:
            self._socket.sendto(artdmx_packet(self.universe, self._sequence, data), self._address)
        except OSError as error:  # unreachable network, a full buffer: the next one may go
            self.failed += 1
            self.last_error = str(error)
        else:
            self.sent += 1
            self.last_error = None

    def close(self) -> None:
        self._socket.close()
