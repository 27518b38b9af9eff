"""The WebSocket protocol's handshake and frames (RFC 6455), as far as OSCQuery's LISTEN
needs them on the server's side: the accept key, frames written unmasked, frames read
(masked, as clients must send them; fragments joined), with nothing beyond the standard
library.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_MESSAGE_BYTES = 65536  # a client's message longer than this ends the connection


class FrameError(ValueError):
    """A frame this server will not take (unmasked, too long, a control frame split); the
    connection is closed."""


@dataclass(frozen=True)
class Message:
    opcode: int  # TEXT, BINARY, CLOSE, PING or PONG
    payload: bytes


def accept_key(client_key: str) -> str:
    """Sec-WebSocket-Accept for the client's Sec-WebSocket-Key."""
    digest = hashlib.sha1((client_key.strip() + GUID).encode("ascii")).digest()  # noqa: S324
    return base64.b64encode(digest).decode("ascii")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (a server's)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


def read_message(receive: Callable[[int], bytes]) -> Message:
    """The next whole message from `receive(n)` (exactly n bytes, or ConnectionError at
    the end of the stream): control frames as they come, data frames joined from their
    fragments and unmasked."""
    opcode, parts = None, []
    while True:
        first, second = receive(2)
        final, frame_opcode = bool(first & 0x80), first & 0x0F
        if not second & 0x80:
            raise FrameError("a client's frame must be masked")
        length = second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", receive(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", receive(8))
        if length > MAX_MESSAGE_BYTES or sum(map(len, parts)) + length > MAX_MESSAGE_BYTES:
            raise FrameError(f"a message over {MAX_MESSAGE_BYTES} bytes")
        mask = receive(4)
        data = bytes(byte ^ mask[index % 4] for index, byte in enumerate(receive(length)))
        if frame_opcode >= CLOSE:  # a control frame, maybe between a message's fragments
            if not final:
                raise FrameError("a control frame must not be split")
            if opcode is None:
                return Message(frame_opcode, data)
            continue  # skipped: OSCQuery's commands are short and come whole
        if frame_opcode != CONTINUATION:
            opcode = frame_opcode
        elif opcode is None:
            raise FrameError("a continuation with no message to continue")
        parts.append(data)
        if final:
            return Message(opcode, b"".join(parts))
