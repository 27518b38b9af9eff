"""WebSocket frames with RFC 6455's own known answers: the handshake's accept key, the
masked "Hello", fragments joined, the three length encodings, and the frames refused."""

from __future__ import annotations

import struct

import pytest

from visualizer.app.websocket_frames import (
    BINARY,
    CLOSE,
    MAX_MESSAGE_BYTES,
    PING,
    TEXT,
    FrameError,
    Message,
    accept_key,
    encode_frame,
    read_message,
)

MASK = bytes([0x37, 0xFA, 0x21, 0x3D])  # RFC 6455 section 5.7's


def reader(data: bytes):
    """`receive(n)` over `data`, as a socket would give it."""
    position = 0

    def receive(count: int) -> bytes:
        nonlocal position
        if position + count > len(data):
            raise ConnectionError("the stream ended")
        chunk = data[position : position + count]
        position += count
        return chunk

    return receive


def masked(first: int, payload: bytes) -> bytes:
    """A client's frame: `first` byte (FIN and opcode), the payload masked with MASK."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    else:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    return header + MASK + bytes(byte ^ MASK[i % 4] for i, byte in enumerate(payload))


def test_the_rfc_s_accept_key():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_the_rfc_s_masked_hello_and_fragments():
    hello = bytes([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    assert read_message(reader(hello)) == Message(TEXT, b"Hello")
    # "Hel" then "lo", with a ping between them, which is passed over
    split = masked(0x01, b"Hel") + masked(0x80 | PING, b"") + masked(0x80, b"lo")
    assert read_message(reader(split)) == Message(TEXT, b"Hello")
    assert read_message(reader(masked(0x80 | PING, b"hi"))) == Message(PING, b"hi")
    assert read_message(reader(masked(0x80 | CLOSE, b"\x03\xe8"))) == Message(CLOSE, b"\x03\xe8")


def test_the_three_length_encodings():
    assert encode_frame(TEXT, b"Hello") == bytes([0x81, 0x05]) + b"Hello"  # RFC 5.7
    assert encode_frame(BINARY, bytes(125))[:2] == bytes([0x82, 125])
    assert encode_frame(BINARY, bytes(256))[:4] == bytes([0x82, 126, 0x01, 0x00])  # RFC 5.7
    assert encode_frame(BINARY, bytes(65536))[:10] == bytes([0x82, 127]) + (65536).to_bytes(8)


def test_frames_it_will_not_take():
    with pytest.raises(FrameError, match="must be masked"):
        read_message(reader(bytes([0x81, 0x05]) + b"Hello"))
    too_long = struct.pack("!BBQ", 0x82, 0x80 | 127, MAX_MESSAGE_BYTES + 1) + MASK
    with pytest.raises(FrameError, match=f"over {MAX_MESSAGE_BYTES} bytes"):
        read_message(reader(too_long))
    with pytest.raises(FrameError, match="continuation with no message"):
        read_message(reader(masked(0x80, b"lo")))
    with pytest.raises(FrameError, match="must not be split"):
        read_message(reader(masked(PING, b"")))
    with pytest.raises(ConnectionError):
        read_message(reader(masked(0x81, b"Hello")[:6]))  # the stream ends mid-frame
