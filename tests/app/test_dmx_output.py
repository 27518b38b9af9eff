"""DMX out (visualizer/app/dmx_output.py): the ArtDMX and sACN packets byte for byte, the
lights' channels for pictures with known colours and bands with known levels, and the
running window's packets caught by a real UDP socket on this machine: the scene's colours,
its number, the music's bands, dark in a blackout."""

from __future__ import annotations

import argparse
import socket
import struct
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import Qt

from visualizer.app import add_arguments
from visualizer.app.command_line import dmx_target, option_problem
from visualizer.app.dmx_output import (
    ARTNET,
    LIGHT_CHANNELS,
    MAX_FIRST_CHANNEL,
    SACN,
    DmxError,
    DmxOutput,
    DmxTarget,
    artdmx_packet,
    artpollreply_packet,
    band_share,
    e131_discovery_packet,
    e131_packet,
    light_channels,
    sacn_multicast_address,
)
from visualizer.app.scene_director import HOLD
from visualizer.resize import centre_crop

from .conftest import canvas_alone_on_a_window

TIMEOUT_MS = 10_000


def test_an_artdmx_packet_is_art_net_4_s_layout():
    packet = artdmx_packet(0x1234, 7, b"\x01\x02\x03")
    assert packet == (
        b"Art-Net\x00"  # ID
        + b"\x00\x50"  # OpCode ArtDMX 0x5000, low byte first
        + b"\x00\x0e"  # protocol version 14
        + b"\x07\x00"  # sequence, physical
        + b"\x34\x12"  # SubUni (Sub-Net and Universe), Net
        + b"\x00\x04"  # length, high byte first: even, so one zero pads it
        + b"\x01\x02\x03\x00"
    )
    assert len(artdmx_packet(0, 1, bytes(512))) == 18 + 512
    with pytest.raises(ValueError, match="Art-Net universe must be 0-32767, got 32768"):
        artdmx_packet(32_768, 1, b"\x00\x00")


CID = bytes(range(16))


def test_an_sacn_packet_is_e1_31_s_layout():
    slots = bytes(value % 256 for value in range(1, 513))
    packet = e131_packet(1, 9, slots, CID)
    assert len(packet) == 638  # a full universe: E1.31's 126 bytes and 512 slots
    assert packet[:16] == b"\x00\x10\x00\x00ASC-E1.17\x00\x00\x00"  # preamble, identifier
    assert packet[16:18] == b"\x72\x6e"  # root flags and length: 0x7000 | 622, as E1.31 gives
    assert packet[18:22] == b"\x00\x00\x00\x04" and packet[22:38] == CID
    assert packet[38:40] == b"\x72\x58"  # framing: 0x7000 | 600
    assert packet[40:44] == b"\x00\x00\x00\x02"
    assert packet[44:108] == b"musicscape" + bytes(54)  # the source name
    assert packet[108] == 100 and packet[109:111] == b"\x00\x00"  # priority, no sync
    assert packet[111] == 9 and packet[112] == 0 and packet[113:115] == b"\x00\x01"
    assert packet[115:117] == b"\x72\x0b"  # DMP: 0x7000 | 523
    assert packet[117:125] == b"\x02\xa1\x00\x00\x00\x01\x02\x01"  # 513 values
    assert packet[125] == 0 and packet[126:] == slots  # the start code, then the slots
    short = e131_packet(63_999, 0, b"\x05\x06\x07", CID)
    assert len(short) == 126 + 3 and short[113:115] == b"\xf9\xff"
    assert sacn_multicast_address(1) == "239.255.0.1"
    assert sacn_multicast_address(63_999) == "239.255.249.255"
    with pytest.raises(ValueError, match="sACN universe must be 1-63999, got 0"):
        e131_packet(0, 1, b"\x00", CID)


SACN_EXTENDED_ROOT = b"\x00\x00\x00\x08"  # the root vector of sACN's discovery packets
ARTPOLL = b"Art-Net\x00" + bytes((0x00, 0x20, 0, 14, 0x02, 0x10))  # OpPoll, v14, flags


def test_an_artpollreply_is_art_net_4_s_layout():
    reply = artpollreply_packet("192.168.1.20", 300, 11, 3)  # 300: net 1, sub-net 2, low 12
    assert len(reply) == 239
    assert reply[:8] == b"Art-Net\x00" and reply[8:10] == b"\x00\x21"  # OpPollReply, LE
    assert reply[10:14] == bytes((192, 168, 1, 20)) and reply[14:16] == b"\x36\x19"
    assert (reply[18], reply[19], reply[186]) == (1, 2, 12)  # NetSwitch, SubSwitch, SwIn[0]
    assert reply[20:22] == b"\x00\xff" and reply[23] == 0xD0  # OEM unknown, Status1
    assert reply[26:44] == b"musicscape".ljust(18, b"\x00")
    assert reply[44:108] == b"musicscape: scene lights, channels 11-30".ljust(64, b"\x00")
    assert reply[108:172] == b"#0001 [0003] sending universe 300".ljust(64, b"\x00")
    assert reply[172:174] == b"\x00\x01"  # one port
    assert reply[174:178] == bytes((0x40, 0, 0, 0))  # it puts DMX onto Art-Net
    assert reply[178:182] == bytes((0x80, 0, 0, 0))  # with data
    assert reply[182:186] == bytes(4) and reply[190:194] == bytes(4)  # no outputs
    assert (reply[194], reply[200], reply[211], reply[212]) == (100, 0x02, 1, 0x08)
    assert reply[213:] == bytes(239 - 213)


def test_an_artpoll_is_answered_at_the_next_packet(lights_receiver):
    port = lights_receiver.getsockname()[1]
    output = DmxOutput(DmxTarget(ARTNET, "127.0.0.1", port, 5, 1), poll_port=0)
    others = []
    output.received = lambda datagram, host: others.append((datagram, host))  # DMX in's
    try:
        assert output.poll_problem is None and output.poll_port > 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
            desk.bind(("127.0.0.1", 0))
            desk.settimeout(2.0)
            desk.sendto(
                b"Art-Net\x00" + bytes((0x00, 0x50)) + bytes(8), ("127.0.0.1", output.poll_port)
            )
            desk.sendto(ARTPOLL, ("127.0.0.1", output.poll_port))  # another's ArtDmx, a poll
            _send_until(output, lambda: output.polls_answered == 1, seconds=2.0)
            reply = desk.recv(1024)
        assert reply == artpollreply_packet("127.0.0.1", 5, 1, 1)
        assert others == [(b"Art-Net\x00" + bytes((0x00, 0x50)) + bytes(8), "127.0.0.1")]
        assert _packets(lights_receiver, 1)[0][1] == 5  # and the lights went as ever
    finally:
        output.close()


def test_a_port_that_cannot_be_had_leaves_polls_unanswered_and_the_lights_going(
    lights_receiver,
):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("", 0))  # another program's, without SO_REUSEADDR
        taken = holder.getsockname()[1]
        port = lights_receiver.getsockname()[1]
        output = DmxOutput(DmxTarget(ARTNET, "127.0.0.1", port, 0, 1), poll_port=taken)
        try:
            assert output.poll_port is None
            assert output.poll_problem == (
                f"ArtPolls go unanswered: UDP port {taken} cannot be had (Address already in use)"
            )
            output.send(bytes(LIGHT_CHANNELS))
            assert len(_packets(lights_receiver, 1)) == 1
        finally:
            output.close()
    sacn = DmxOutput(DmxTarget(SACN, "127.0.0.1", port, 1, 1))
    assert (sacn.poll_port, sacn.poll_problem) == (None, None)  # sACN has no ArtPoll
    sacn.close()


def test_an_sacn_universe_list_is_e1_31_s_discovery_layout():
    packet = e131_discovery_packet([258, 7], CID)
    assert len(packet) == 120 + 2 * 2
    assert packet[:16] == b"\x00\x10\x00\x00ASC-E1.17\x00\x00\x00"
    assert packet[16:18] == struct.pack(">H", 0x7000 | (len(packet) - 16))
    assert packet[18:22] == SACN_EXTENDED_ROOT and packet[22:38] == CID
    assert packet[38:40] == struct.pack(">H", 0x7000 | (len(packet) - 38))
    assert packet[40:44] == b"\x00\x00\x00\x02"  # VECTOR_E131_EXTENDED_DISCOVERY
    assert packet[44:108] == b"musicscape".ljust(64, b"\x00") and packet[108:112] == bytes(4)
    assert packet[112:114] == struct.pack(">H", 0x7000 | (len(packet) - 112))
    assert packet[114:118] == b"\x00\x00\x00\x01"  # VECTOR_UNIVERSE_DISCOVERY_UNIVERSE_LIST
    assert packet[118:120] == b"\x00\x00"  # page 0 of 0
    assert packet[120:] == struct.pack(">HH", 7, 258)  # sorted


def test_sacn_lists_its_universe_and_ends_its_stream_when_closed(lights_receiver):
    port = lights_receiver.getsockname()[1]
    output = DmxOutput(DmxTarget(SACN, "127.0.0.1", port, 9, 1), CID)
    output.send(bytes(range(LIGHT_CHANNELS)))
    assert lights_receiver.recv(1024) == e131_discovery_packet([9], CID)  # first, then each 10 s
    assert lights_receiver.recv(1024) == e131_packet(9, 1, bytes(range(LIGHT_CHANNELS)), CID)
    output.send(bytes(LIGHT_CHANNELS))
    assert _packets(lights_receiver, 1)[0][0] == 2
    output.close()
    for sequence in (3, 4, 5):  # three, marked: receivers let the lights go at once
        packet = lights_receiver.recv(1024)
        assert packet == e131_packet(9, sequence, bytes(LIGHT_CHANNELS), CID, 0x40)
    lights_receiver.settimeout(0.2)
    with pytest.raises(TimeoutError):
        lights_receiver.recv(1024)


def test_the_lights_are_the_picture_s_zones_in_linear_light_its_beat_and_scene():
    picture = np.zeros((12, 12, 3), dtype=np.uint8)
    picture[:4] = (255, 0, 0)  # a red top third
    picture[4:8] = (0, 255, 0)
    picture[8:] = (0, 0, 255)  # a blue bottom third
    bands = (band_share(-6.02), band_share(-24.0), band_share(-120.0))
    lights = light_channels(picture, 0.5, 2, bands)
    assert len(lights) == LIGHT_CHANNELS
    assert list(lights) == [
        *(85, 85, 85),  # the whole: a third of each at full light
        *(255, 0, 0),  # the top third
        *(0, 0, 255),  # the bottom third
        *(85, 85, 85),  # the left half
        *(85, 85, 85),  # the right half
        128,  # the beat's pulse, 0.5
        3,  # the third category
        223,  # the low band: a half-scale sine's -6.02 dB, 41.98 dB of the 48 above the floor
        128,  # the mid band at -24 dB, half the range
        0,  # the high band silent
    ]
    silent = (0.0, 0.0, 0.0)
    grey = np.full((8, 8, 3), 128, dtype=np.uint8)
    assert list(light_channels(grey, 0.0, None, silent))[:3] == [55, 55, 55]  # sRGB 128: 21.6%
    sides = np.zeros((8, 8, 3), dtype=np.uint8)
    sides[:, 4:] = 255  # white on the right
    right = list(light_channels(sides, 1.0, 0, (1.0, 0.25, 0.0)))[9:]
    assert right == [0, 0, 0, 255, 255, 255, 255, 1, 255, 64, 0]
    dark = bytes(15) + b"\xff\x00" + bytes(3)
    assert light_channels(None, 1.0, None, silent) == dark  # no picture: dark


def test_a_band_s_level_is_its_share_of_the_48_db_above_the_floor():
    assert band_share(0.0) == 1.0  # a full-scale sine in the band
    assert band_share(3.0) == 1.0  # a band above full scale (a square wave's) stays at 255
    assert band_share(-12.0) == pytest.approx(0.75, abs=1e-12)
    assert band_share(-24.0) == pytest.approx(0.5, abs=1e-12)
    assert band_share(-48.0) == 0.0
    assert band_share(-120.0) == 0.0  # the meter's silence


def test_the_address_and_the_numbers_are_checked_before_any_window():
    assert dmx_target(parse_arguments(["--artnet", "192.168.1.255"])) == DmxTarget(
        ARTNET, "192.168.1.255", 6454, 0, 1
    )
    assert dmx_target(parse_arguments(["--artnet", "127.0.0.1:7000", "--dmx-channel", "9"])) == (
        DmxTarget(ARTNET, "127.0.0.1", 7000, 0, 9)
    )
    multicast = dmx_target(parse_arguments(["--sacn", "--dmx-universe", "258"]))
    assert multicast == DmxTarget(SACN, "", 5568, 258, 1)
    assert multicast.describe() == (
        "sACN universe 258, channels 1-20 to 239.255.1.2:5568 (multicast)"
    )
    assert dmx_target(parse_arguments([])) is None
    with pytest.raises(ValueError, match="--artnet must be HOST:PORT with a port 1-65535"):
        dmx_target(parse_arguments(["--artnet", "node:99999"]))
    with pytest.raises(DmxError, match="the first DMX channel must be 1-493"):
        DmxOutput(DmxTarget(ARTNET, "127.0.0.1", 6454, 0, 494))


def parse_arguments(argv: list[str]):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_command_line_refuses_numbers_out_of_range():
    args = parse_arguments(["--artnet", "10.0.0.255", "--dmx-universe", "40000"])
    assert option_problem(args) == "--artnet: Art-Net universe must be 0-32767, got 40000"
    args = parse_arguments(["--sacn", "--dmx-universe", "0"])
    assert option_problem(args) == "--sacn: sACN universe must be 1-63999, got 0"
    args = parse_arguments(["--sacn", "--dmx-universe", "64000"])
    assert option_problem(args) == (
        "--dmx-universe must be 0-63999 (Art-Net 0-32767, sACN 1-63999), got 64000"
    )
    assert option_problem(parse_arguments(["--dmx-channel", "5"])) == (
        "--dmx-universe and --dmx-channel go with --artnet or --sacn"
    )
    args = parse_arguments(["--artnet", "10.0.0.255:0"])
    assert option_problem(args) == (
        "--artnet must be HOST:PORT with a port 1-65535, got '10.0.0.255:0'"
    )
    args = parse_arguments(["--artnet", "10.0.0.255", "--dmx-channel", "494"])
    assert option_problem(args) == (
        "--dmx-channel must be 1-493 (the first of 20 DMX channels), got 494"
    )
    assert (
        option_problem(parse_arguments(["--artnet", "10.0.0.255", "--dmx-channel", "493"])) is None
    )


def test_the_help_names_the_lights_channels_as_the_sender_counts_them():
    """The command line's module is kept free of numpy (a fast --help), so its help words
    the channels' count and range itself: they must be the sender's."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    helps = {action.option_strings[0]: action.help for action in parser._actions}
    assert helps["--dmx-channel"] == (
        f"the first of the {LIGHT_CHANNELS} DMX channels (1-{MAX_FIRST_CHANNEL}, default 1)"
    )
    assert f"over Art-Net ({LIGHT_CHANNELS} DMX channels: " in helps["--artnet"]


@pytest.fixture
def lights_receiver():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2.0)
    yield receiver
    receiver.close()


def _packets(receiver, count: int) -> list[tuple[int, int, bytes]]:
    """The next `count` ArtDMX or sACN data packets: (sequence, universe, channel data);
    sACN's universe lists between them are passed over."""
    packets = []
    while len(packets) < count:
        packet = receiver.recv(1024)
        if packet[18:22] == SACN_EXTENDED_ROOT:
            continue
        if packet.startswith(b"Art-Net\x00"):
            assert packet[8:10] == b"\x00\x50"  # ArtDMX
            (length,) = struct.unpack(">H", packet[16:18])
            packets.append((packet[12], packet[14] | packet[15] << 8, packet[18 : 18 + length]))
        else:
            assert packet[4:16] == b"ASC-E1.17\x00\x00\x00" and packet[125] == 0
            (universe,) = struct.unpack(">H", packet[113:115])
            packets.append((packet[111], universe, packet[126:]))
    return packets


def _send_until(output: DmxOutput, done, seconds: float = 10.0) -> None:
    """Sends dark lights every 10 ms (as the window does every 25) until done()."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        output.send(bytes(LIGHT_CHANNELS))
        time.sleep(0.01)
    assert done()


def test_a_host_name_is_looked_up_without_holding_up_the_sender(monkeypatch, lights_receiver):
    answered = threading.Event()
    real_lookup = socket.getaddrinfo
    asked_on = []

    def unhurried_name_server(host, *args, **kwargs):  # stands in for a slow name server
        if host == "node.stage":
            asked_on.append(threading.current_thread().name)
            answered.wait(10)
            host = "127.0.0.1"
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unhurried_name_server)
    port = lights_receiver.getsockname()[1]
    output = DmxOutput(DmxTarget(ARTNET, "node.stage", port, 0, 1))  # returns unanswered
    try:
        output.send(bytes(LIGHT_CHANNELS))
        assert (output.sent, output.status) == (0, "looking up 'node.stage'…")
        answered.set()
        _send_until(output, lambda: output.sent > 0)
        assert output.status is None and asked_on == ["dmx-lookup"]
        assert _packets(lights_receiver, 1)[0][2] == bytes(LIGHT_CHANNELS)
    finally:
        output.close()


def test_a_name_not_found_is_said_and_looked_up_again(lights_receiver):
    output = DmxOutput(DmxTarget(ARTNET, "no-such-node.invalid", 6454, 0, 1), retry_seconds=0.2)
    try:
        _send_until(output, lambda: (output.status or "").startswith("cannot find"))
        assert output.status.startswith("cannot find the address 'no-such-node.invalid': ")
        assert output.sent == 0
        _send_until(output, lambda: output.status == "looking up 'no-such-node.invalid'…")
    finally:
        output.close()
    port = lights_receiver.getsockname()[1]
    output = DmxOutput(DmxTarget(SACN, "localhost", port, 1, 1))  # a name that is found
    try:
        _send_until(output, lambda: output.sent > 0)
        assert _packets(lights_receiver, 1)[0][1] == 1
    finally:
        output.close()


def _drain(receiver) -> None:
    receiver.setblocking(False)
    try:
        while True:
            receiver.recv(1024)
    except BlockingIOError:
        pass
    receiver.settimeout(2.0)


def _lights_of_a_held_scene(qtbot, window, receiver, count: int) -> list[tuple[int, int, bytes]]:
    stage = window.stage
    window.set_scene(HOLD, 1)  # the second category, held
    qtbot.waitUntil(lambda: stage.latest_packet is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: stage.latest_packet.shown_category == 1, timeout=TIMEOUT_MS)
    qtbot.wait(300)
    _drain(receiver)
    qtbot.wait(500)  # the GUI thread sends them: let it run
    return _packets(receiver, count)


def test_the_window_sends_the_scene_s_lights_dark_in_a_blackout(
    qtbot, make_window, model_dir, beats_file, lights_receiver
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    stage = window.stage
    port = lights_receiver.getsockname()[1]
    assert stage.lights.set_dmx(True, DmxTarget(ARTNET, "127.0.0.1", port, 300, 11))
    assert stage.lights.dmx_button.isChecked() and window.settings.dmx_enabled
    assert stage.lights.dmx_label.text() == (
        f"Art-Net universe 300, channels 11-30 to 127.0.0.1:{port}"
    )
    assert stage.state()["dmx"] == {
        "protocol": "artnet",
        "to": f"127.0.0.1:{port}",
        "universe": 300,
        "channels": "11-30",
    }
    packets = _lights_of_a_held_scene(qtbot, window, lights_receiver, 10)
    assert np.all(np.diff([sequence for sequence, _, _ in packets]) % 255 == 1)  # never 0
    for _, universe, data in packets:
        assert universe == 300
        assert len(data) == 10 + LIGHT_CHANNELS  # from channel 11
        assert data[:10] == bytes(10)  # the channels before the first are left at zero
        assert data[10 + 16] == 2  # the held second category
    assert max(max(data[10:25]) for _, _, data in packets) > 0  # a lit scene
    assert max(max(data[27:30]) for _, _, data in packets) > 0  # the music's bands

    stage.set_fade_seconds(0.0)
    stage.perform("blackout", (1,))
    qtbot.wait(300)
    _drain(lights_receiver)
    qtbot.wait(300)
    for _, _, data in _packets(lights_receiver, 5):
        assert data[10:26] == bytes(16)  # colours and the beat dark; the scene's number stays
        assert data[26] == 2
        assert data[27:30] == bytes(3)  # the bands dark too

    stage.perform("dmx")  # no argument: toggles off
    assert stage.lights.dmx is None and not window.settings.dmx_enabled
    assert stage.lights.dmx_label.text() == "off"
    _drain(lights_receiver)
    qtbot.wait(300)
    with pytest.raises(BlockingIOError):
        lights_receiver.setblocking(False)
        lights_receiver.recv(1024)  # nothing more


def test_the_lights_are_the_middle_the_canvas_shows_where_it_fills_a_wide_screen(
    qtbot, make_window, model_dir, beats_file, lights_receiver
):
    """With the canvas filling a 16:9 screen the audience sees the square picture's middle:
    the lights' zones are that middle's (its top third lower in the picture than the
    square's), as recordings, NDI and the HTTP picture are."""
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    port = lights_receiver.getsockname()[1]
    assert window.stage.lights.set_dmx(True, DmxTarget(ARTNET, "127.0.0.1", port, 0, 1))
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 5, timeout=TIMEOUT_MS)
    canvas_alone_on_a_window(qtbot, window, 640, 360)
    window.stage.perform("fill", (1,))
    window.stage.perform("freeze", (1,))  # the picture that goes out holds still
    qtbot.wait(300)
    _drain(lights_receiver)
    qtbot.wait(200)
    colours = _packets(lights_receiver, 3)[-1][2][:15]
    square = window.canvas.current_pixels()
    silent = (0.0, 0.0, 0.0)
    assert colours == light_channels(centre_crop(square, 16 / 9), 0.0, None, silent)[:15]
    assert colours != light_channels(square, 0.0, None, silent)[:15]


def test_the_bands_channels_follow_the_music_s_bass_then_its_highs(
    qtbot, make_window, model_dir, lights_receiver, tmp_path
):
    """A file of a bass (100 Hz) then a hi-hat's range (6 kHz), each a half-scale sine: the
    low band's channel (18) reads the bass's -6.24 dB (-6.02 and the crossover's -0.2, as
    OSC's test reads it) as 222, the mid band's (19) the bass's -37.6 dB left after the
    mid band's 250-Hz high-pass as 55, the high band's 0 (below -48 dB); then the high
    band's reads -6.02 dB as 223 and the other two 0 (the mid band's -53.5 dB is below the
    floor)."""
    window = make_window(model_dir)
    time_axis = np.arange(3 * 22_050) / 22_050
    bass, hiss = (0.5 * np.sin(2 * np.pi * hz * time_axis) for hz in (100.0, 6000.0))
    music = tmp_path / "bass_then_hiss.wav"
    sf.write(music, np.concatenate([bass, hiss]).astype(np.float32), 22_050)
    port = lights_receiver.getsockname()[1]
    assert window.stage.lights.set_dmx(True, DmxTarget(ARTNET, "127.0.0.1", port, 0, 1))
    assert window.play_file(music)

    newest = bytes(LIGHT_CHANNELS)

    def bands() -> bytes:
        """The bands' channels of the newest packet come (the GUI thread sends them while
        the test waits)."""
        nonlocal newest
        lights_receiver.setblocking(False)
        try:
            while True:
                newest = lights_receiver.recv(1024)[18:]  # ArtDMX's 18-byte header
        except BlockingIOError:
            return newest[17:20]

    qtbot.waitUntil(lambda: bands()[0] > 200, timeout=TIMEOUT_MS)
    qtbot.wait(1500)  # the start's click has fallen from the mid band's meter (0.3 s)
    low, mid, high = bands()
    assert abs(low - round(band_share(-6.24) * 255)) <= 2
    assert abs(mid - round(band_share(-37.6) * 255)) <= 3 and high == 0
    qtbot.waitUntil(lambda: bands()[2] > 200, timeout=TIMEOUT_MS)
    qtbot.wait(1500)  # the bass's meter falls over 0.3 s
    low, mid, high = bands()
    assert abs(high - round(band_share(-6.02) * 255)) <= 2 and (low, mid) == (0, 0)


def test_the_window_says_while_a_name_is_looked_up_then_sends(
    qtbot, make_window, model_dir, lights_receiver
):
    window = make_window(model_dir)
    port = lights_receiver.getsockname()[1]
    assert window.stage.lights.set_dmx(True, DmxTarget(ARTNET, "localhost", port, 0, 1))
    described = f"Art-Net universe 0, channels 1-20 to localhost:{port}"
    assert window.stage.lights.dmx_label.text() == f"{described}; not sent: looking up 'localhost'…"
    qtbot.waitUntil(lambda: window.stage.lights.dmx_label.text() == described, timeout=TIMEOUT_MS)
    qtbot.wait(300)  # the GUI thread sends them: let it run
    assert len(_packets(lights_receiver, 3)) == 3


def test_sacn_carries_the_same_lights_with_one_source_id_from_run_to_run(
    qtbot, make_window, model_dir, beats_file, lights_receiver
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    port = lights_receiver.getsockname()[1]
    assert window.stage.lights.set_dmx(True, DmxTarget(SACN, "127.0.0.1", port, 7, 1))
    assert window.stage.lights.dmx_label.text() == (
        f"sACN universe 7, channels 1-20 to 127.0.0.1:{port}"
    )
    packets = _lights_of_a_held_scene(qtbot, window, lights_receiver, 10)
    assert np.all(np.diff([sequence for sequence, _, _ in packets]) % 256 == 1)
    for _, universe, data in packets:
        assert universe == 7 and len(data) == LIGHT_CHANNELS and data[16] == 2
    _drain(lights_receiver)
    qtbot.wait(100)
    source_id = lights_receiver.recv(1024)[22:38]
    assert source_id == window.settings.sacn_source_id != bytes(16)
    window.close()
    again = make_window(model_dir)  # the same settings: on, to the same place, the same CID
    assert again.stage.lights.dmx.target == DmxTarget(SACN, "127.0.0.1", port, 7, 1)
    _drain(lights_receiver)
    qtbot.wait(300)
    assert lights_receiver.recv(1024)[22:38] == source_id


def test_without_an_address_it_says_how_to_give_one(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    qtbot.mouseClick(window.stage.lights.dmx_button, Qt.MouseButton.LeftButton)
    assert window.stage.lights.dmx is None and not window.stage.lights.dmx_button.isChecked()
    why = (
        "no address yet: start with --artnet HOST or --sacn (a DMX node, a lighting desk or a "
        "broadcast address)"
    )
    assert window.stage.lights.dmx_label.text() == why
    assert not window.settings.dmx_enabled
    assert window.stage.perform("dmx", (1,)) == why  # what OSC, HTTP and MIDI answer


def test_a_damaged_remembered_target_is_refused_in_words(qtbot, make_window, model_dir, settings):
    settings.dmx_target = DmxTarget(SACN, "", 5568, 70_000, 1)  # as a hand-edited file might
    settings.dmx_enabled = True
    window = make_window(model_dir)
    assert window.stage.lights.dmx is None and not window.stage.lights.dmx_button.isChecked()
    assert window.stage.lights.dmx_label.text() == "sACN universe must be 1-63999, got 70000"
    assert window.faults["remote"] == "sACN universe must be 1-63999, got 70000"
    settings.store.setValue("vj/dmx_protocol", "dmx512-over-carrier-pigeon")
    assert settings.dmx_target is None
