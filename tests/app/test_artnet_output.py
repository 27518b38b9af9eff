"""Art-Net DMX out (visualizer/app/artnet_output.py): the ArtDMX packet byte for byte, the
lights' channels for pictures with known colours, and the running window's packets caught
by a real UDP socket on this machine: the scene's colours, its number, dark in a blackout."""

from __future__ import annotations

import argparse
import socket
import struct

import numpy as np
import pytest

from visualizer.app import add_arguments
from visualizer.app.artnet_output import (
    LIGHT_CHANNELS,
    ArtNetError,
    ArtNetOutput,
    artdmx_packet,
    light_channels,
)
from visualizer.app.command_line import artnet_address, option_problem
from visualizer.app.scene_director import HOLD
from visualizer.app.stage import shown_category

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
    with pytest.raises(ValueError, match="universe must be 0-32767, got 32768"):
        artdmx_packet(32_768, 1, b"\x00\x00")


def test_the_lights_are_the_picture_s_zones_in_linear_light_its_beat_and_scene():
    picture = np.zeros((12, 12, 3), dtype=np.uint8)
    picture[:4] = (255, 0, 0)  # a red top third
    picture[4:8] = (0, 255, 0)
    picture[8:] = (0, 0, 255)  # a blue bottom third
    lights = light_channels(picture, 0.5, 2)
    assert len(lights) == LIGHT_CHANNELS
    assert list(lights) == [
        *(85, 85, 85),  # the whole: a third of each at full light
        *(255, 0, 0),  # the top third
        *(0, 0, 255),  # the bottom third
        *(85, 85, 85),  # the left half
        *(85, 85, 85),  # the right half
        128,  # the beat's pulse, 0.5
        3,  # the third category
    ]
    grey = np.full((8, 8, 3), 128, dtype=np.uint8)
    assert list(light_channels(grey, 0.0, None))[:3] == [55, 55, 55]  # sRGB 128: 21.6% light
    sides = np.zeros((8, 8, 3), dtype=np.uint8)
    sides[:, 4:] = 255  # white on the right
    assert list(light_channels(sides, 1.0, 0))[9:] == [0, 0, 0, 255, 255, 255, 255, 1]
    assert light_channels(None, 1.0, None) == bytes(15) + b"\xff\x00"  # no picture: dark


def test_the_address_and_the_numbers_are_checked_before_any_window():
    assert artnet_address("192.168.1.255") == ("192.168.1.255", 6454)
    assert artnet_address("127.0.0.1:7000") == ("127.0.0.1", 7000)
    with pytest.raises(ValueError, match="must be HOST:PORT with a port 1-65535"):
        artnet_address("node:99999")
    with pytest.raises(ArtNetError, match="Art-Net first channel must be 1-496"):
        ArtNetOutput("127.0.0.1", 6454, 0, 497)
    with pytest.raises(ArtNetError, match="cannot find the address 'no-such-node.invalid'"):
        ArtNetOutput("no-such-node.invalid", 6454, 0, 1)


def parse_arguments(argv: list[str]):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_the_command_line_refuses_numbers_out_of_range():
    args = parse_arguments(["--artnet", "10.0.0.255", "--artnet-universe", "40000"])
    assert option_problem(args) == (
        "--artnet-universe must be 0-32767 (Art-Net's 15-bit Port-Address), got 40000"
    )
    args = parse_arguments(["--artnet", "10.0.0.255:0"])
    assert option_problem(args) == (
        "--artnet must be HOST:PORT with a port 1-65535, got '10.0.0.255:0'"
    )


@pytest.fixture
def lights_receiver():
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(2.0)
    yield receiver
    receiver.close()


def _packets(receiver, count: int) -> list[tuple[int, int, bytes]]:
    """The next `count` ArtDMX packets: (sequence, universe, channel data)."""
    packets = []
    while len(packets) < count:
        packet = receiver.recv(1024)
        assert packet[:10] == b"Art-Net\x00\x00\x50"
        (length,) = struct.unpack(">H", packet[16:18])
        packets.append((packet[12], packet[14] | packet[15] << 8, packet[18 : 18 + length]))
    return packets


def _drain(receiver) -> None:
    receiver.setblocking(False)
    try:
        while True:
            receiver.recv(1024)
    except BlockingIOError:
        pass
    receiver.settimeout(2.0)


def test_the_window_sends_the_scene_s_lights_dark_in_a_blackout(
    qtbot, make_window, model_dir, beats_file, lights_receiver
):
    window = make_window(model_dir)
    assert window.play_file(beats_file)
    stage = window.stage
    port = lights_receiver.getsockname()[1]
    assert stage.set_artnet(True, "127.0.0.1", port, 300, 11)
    assert stage.artnet_button.isChecked() and window.settings.artnet_enabled
    assert stage.artnet_label.text() == f"universe 300, channels 11-27 to 127.0.0.1:{port}"
    assert stage.state()["artnet"] == {
        "to": f"127.0.0.1:{port}",
        "universe": 300,
        "channels": "11-27",
    }
    window.set_scene(HOLD, 1)  # the second category, held
    qtbot.waitUntil(lambda: stage._latest is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: shown_category(stage._latest) == 1, timeout=TIMEOUT_MS)
    qtbot.wait(300)
    _drain(lights_receiver)
    qtbot.wait(500)  # the GUI thread sends them: let it run
    packets = _packets(lights_receiver, 10)
    sequences = [sequence for sequence, _, _ in packets]
    assert all(
        later == earlier % 255 + 1 for earlier, later in zip(sequences, sequences[1:], strict=False)
    )
    for _, universe, data in packets:
        assert universe == 300
        assert len(data) == 10 + LIGHT_CHANNELS + 1  # from channel 11, padded to even
        assert data[:10] == bytes(10)  # the channels before the first are left at zero
        lights = data[10 : 10 + LIGHT_CHANNELS]
        assert lights[16] == 2  # the held second category
    assert max(max(data[10:25]) for _, _, data in packets) > 0  # a lit scene

    stage.set_fade_seconds(0.0)
    stage.perform("blackout", (1,))
    qtbot.wait(300)
    _drain(lights_receiver)
    qtbot.wait(300)
    for _, _, data in _packets(lights_receiver, 5):
        assert data[10:26] == bytes(16)  # colours and the beat dark; the scene's number stays
        assert data[26] == 2

    stage.perform("artnet")  # no argument: toggles off
    assert stage.artnet is None and not window.settings.artnet_enabled
    assert stage.artnet_label.text() == "off"
    _drain(lights_receiver)
    qtbot.wait(300)
    with pytest.raises(BlockingIOError):
        lights_receiver.setblocking(False)
        lights_receiver.recv(1024)  # nothing more


def test_the_address_is_remembered_and_without_one_it_says_how_to_give_it(
    qtbot, make_window, model_dir, lights_receiver
):
    window = make_window(model_dir)
    window.stage.perform("artnet", (1,))
    assert window.stage.artnet is None and not window.stage.artnet_button.isChecked()
    assert window.stage.artnet_label.text() == (
        "no address yet: start with --artnet HOST (a DMX node, a lighting desk or a broadcast "
        "address)"
    )
    port = lights_receiver.getsockname()[1]
    assert window.stage.set_artnet(True, "127.0.0.1", port, 5, 1)
    window.close()
    again = make_window(model_dir)  # the same settings: on, to the same address
    assert again.stage.artnet is not None
    assert (again.stage.artnet.host, again.stage.artnet.port) == ("127.0.0.1", port)
    assert (again.stage.artnet.universe, again.stage.artnet.first_channel) == (5, 1)
    qtbot.wait(300)  # the GUI thread sends them: let it run
    _, universe, data = _packets(lights_receiver, 1)[0]
    assert universe == 5 and len(data) == LIGHT_CHANNELS + 1
