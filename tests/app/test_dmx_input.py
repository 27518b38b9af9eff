"""DMX in (visualizer/app/dmx_input.py): a desk's packets parsed (built by the project's own
DMX out writers, checked byte for byte against the standards in test_dmx_output.py), its
channels' known answers, a real socket taking them, and the running window driven by a
"desk" (a UDP socket sending sACN and Art-Net as a console does)."""

from __future__ import annotations

import argparse
import socket
import time

import pytest

from visualizer.app import add_arguments
from visualizer.app.command_line import desk_patch, option_problem
from visualizer.app.dmx_input import (
    DESK_CHANNELS,
    SOURCE_LOST_SECONDS,
    DeskChannels,
    DeskPatch,
    DmxFrame,
    DmxInput,
    merged_levels,
    parse_artdmx,
    parse_e131,
    preset_slot,
    scene_action,
)
from visualizer.app.dmx_output import (
    ARTNET,
    SACN,
    DmxError,
    DmxTarget,
    artdmx_packet,
    artpollreply_packet,
    e131_discovery_packet,
    e131_packet,
)
from visualizer.app.scene_director import BIAS, HOLD, SceneMode

DESK = bytes(range(16, 32))  # the desk's sACN source id
OWN = bytes(range(16))  # this app's
TIMEOUT_MS = 10_000


def levels(*values: int) -> bytes:
    return bytes(values).ljust(DESK_CHANNELS, b"\x00")


def test_a_desk_s_packets_are_read_and_others_passed_over():
    frame = parse_artdmx(artdmx_packet(300, 7, bytes((1, 2, 3))))
    assert (frame.universe, frame.levels, frame.source) == (300, bytes((1, 2, 3, 0)), b"")
    frame = parse_e131(e131_packet(9, 1, bytes((5, 6)), DESK))
    assert (frame.universe, frame.levels, frame.priority, frame.source) == (
        9,
        b"\x05\x06",
        100,
        DESK,
    )
    assert parse_e131(e131_packet(9, 1, bytes(3), DESK, options=0x40)).terminated
    assert not frame.terminated
    assert parse_e131(e131_packet(9, 1, bytes(3), DESK, options=0x80)) is None  # preview
    assert parse_e131(e131_discovery_packet([9], DESK)) is None
    other_start_code = bytearray(e131_packet(9, 1, bytes(3), DESK))
    other_start_code[125] = 0xCC  # RDM, not levels
    assert parse_e131(bytes(other_start_code)) is None
    assert parse_artdmx(e131_packet(9, 1, bytes(3), DESK)) is None
    assert parse_e131(artdmx_packet(9, 1, bytes(3))) is None
    assert parse_artdmx(b"Art-Net\x00\x00\x20" + bytes(4)) is None  # an ArtPoll


def test_the_scene_and_preset_channels_read_in_tens():
    assert [scene_action(value) for value in (0, 9, 10, 19, 25, 99, 100, 109)] == [
        ("auto", ()),
        ("auto", ()),
        (HOLD, (1,)),
        (HOLD, (1,)),
        (HOLD, (2,)),
        (HOLD, (9,)),
        ("auto", ()),
        ("auto", ()),
    ]
    assert [scene_action(value) for value in (110, 145, 199, 200, 255)] == [
        (BIAS, (1,)),
        (BIAS, (4,)),
        (BIAS, (9,)),
        ("auto", ()),
        ("auto", ()),
    ]
    assert [preset_slot(value) for value in (0, 9, 10, 35, 89, 90, 255)] == [0, 0, 1, 3, 8, 0, 0]


def test_channels_act_when_they_change_the_first_packet_setting_all_but_preset_and_tap():
    desk = DeskChannels()
    assert desk.actions(levels(255, 25, 85, 51, 0, 200, 15, 255)) == [
        ("master", (1.0,)),
        (HOLD, (2,)),
        ("reactivity", (1.0,)),
        ("feel", (0.2,)),
        ("crossfade", (0.3,)),
        ("blackout", (1,)),
    ]
    assert desk.actions(levels(255, 29, 85, 51, 0, 255, 15, 255)) == []  # same ranges: nothing
    assert desk.actions(levels(0, 29, 85, 51, 255, 100, 25, 0)) == [
        ("master", (0.0,)),
        ("crossfade", (20.0,)),
        ("blackout", (0,)),
        ("preset", (2,)),
    ]
    assert desk.actions(levels(0, 29, 85, 51, 255, 100, 0, 128)) == [("tap", ())]  # a rise
    assert desk.actions(levels(0, 29, 85, 51, 255, 100, 0, 255)) == []  # still up: one tap
    assert desk.actions(levels(0, 29, 85, 51, 255, 100, 0, 0)) == []  # the fall
    assert desk.actions(bytes((0, 0))) == [  # a short packet: the rest read 0
        ("auto", ()),
        ("reactivity", (0.0,)),
        ("feel", (0.0,)),
        ("crossfade", (0.3,)),
    ]


def send_until(dmx_in: DmxInput, desk: socket.socket, packet: bytes) -> bytes:
    """Sends `packet` to the input until a read gives levels (loopback: at once)."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        desk.sendto(packet, ("127.0.0.1", dmx_in.port))
        time.sleep(0.01)
        read = dmx_in.read()
        if read is not None:
            return read
    raise AssertionError("no levels came")


def test_a_real_socket_takes_the_patch_s_channels_and_not_its_own_or_another_universe():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        dmx_in = DmxInput(DeskPatch(ARTNET, 300, 11), port=0)
        try:
            data = bytes(10) + levels(1, 2, 3, 4, 5, 6, 7, 8)
            assert send_until(dmx_in, desk, artdmx_packet(300, 1, data)) == levels(
                1, 2, 3, 4, 5, 6, 7, 8
            )
            assert dmx_in.senders == ("127.0.0.1",) and dmx_in.heard
            desk.sendto(artdmx_packet(301, 2, bytes(512)), ("127.0.0.1", dmx_in.port))
            time.sleep(0.05)
            assert dmx_in.read() is None  # another universe
        finally:
            dmx_in.close()
        dmx_in = DmxInput(DeskPatch(SACN, 9, 1), own_source=OWN, port=0)
        try:
            desk.sendto(e131_packet(9, 1, levels(99), OWN), ("127.0.0.1", dmx_in.port))
            time.sleep(0.05)
            assert dmx_in.read() is None  # this app's own sACN out
            assert send_until(dmx_in, desk, e131_packet(9, 2, levels(42), DESK))[0] == 42
        finally:
            dmx_in.close()
    with pytest.raises(DmxError, match="the first DMX in channel must be 1-505"):
        DmxInput(DeskPatch(ARTNET, 0, 506), port=0)


def test_sources_merge_highest_takes_precedence_at_the_highest_priority():
    main, backup = (
        DmxFrame(1, bytes((255, 0, 10, 7)), 100, DESK),
        DmxFrame(1, bytes((0, 200, 20)), 100, OWN),
    )
    assert merged_levels([main, backup], 0, 4) == bytes((255, 200, 20, 7))
    assert merged_levels([main, backup], 2, 4) == bytes((20, 7, 0, 0))  # past the last: 0
    override = DmxFrame(1, bytes((1, 2)), 150, bytes(16))
    assert merged_levels([main, override, backup], 0, 3) == bytes((1, 2, 0))
    assert merged_levels([main], 1, 2) == bytes((0, 10))


def test_two_desks_sending_different_levels_do_not_make_the_show_flicker():
    """A main and a backup desk at one priority, unsynchronised (44 and 40 packets a second),
    one with the master up and the other down: read as the app reads (every 25 ms), the
    merge holds the master up from the first read, sACN and Art-Net alike. Taking the latest
    packet instead flipped it about 8 times a second."""
    for protocol in (SACN, ARTNET):
        dmx_in = DmxInput(DeskPatch(protocol, 1, 1), port=0)
        desks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        desks[1].bind(("127.0.0.2", 0))  # Art-Net tells sources apart by their address
        channels, reads = DeskChannels(), []
        try:
            start = time.monotonic()
            due, periods = [start, start + 0.007], (1 / 44, 1 / 40)
            next_read = start + 0.025
            while time.monotonic() - start < 1.0:
                now = time.monotonic()
                for index, desk in enumerate(desks):
                    if now >= due[index]:
                        due[index] += periods[index]
                        data = levels(255 if index == 0 else 0, 30 + index)
                        packet = (
                            e131_packet(1, 0, data, bytes([index + 1]) * 16)
                            if protocol == SACN
                            else artdmx_packet(1, 0, data)
                        )
                        desk.sendto(packet, ("127.0.0.1", dmx_in.port))
                if now >= next_read:
                    next_read += 0.025
                    read = dmx_in.read()
                    if read is not None:
                        reads.append(channels.actions(read))
                time.sleep(0.001)
            assert dmx_in.sources == 2
        finally:
            dmx_in.close()
            for desk in desks:
                desk.close()
        masters = [args for actions in reads for action, args in actions if action == "master"]
        assert len(reads) >= 10 and masters == [(1.0,)], (protocol, masters)


def test_a_higher_priority_desk_counts_until_it_ends_its_stream_or_goes_quiet():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        dmx_in = DmxInput(DeskPatch(SACN, 9, 1), port=0)
        main, override = bytes([1]) * 16, bytes([2]) * 16
        try:
            assert send_until(dmx_in, desk, e131_packet(9, 1, levels(10, 200), main)) == levels(
                10, 200
            )
            override_on = e131_packet(9, 1, levels(90, 5), override, priority=150)
            assert send_until(dmx_in, desk, override_on) == levels(90, 5)
            # the main desk's packets go on coming, and do not count beside the override
            assert send_until(dmx_in, desk, e131_packet(9, 2, levels(255, 255), main)) == levels(
                90, 5
            )
            ended = e131_packet(9, 2, levels(90, 5), override, options=0x40, priority=150)
            assert send_until(dmx_in, desk, ended) == levels(255, 255)  # at once
            assert dmx_in.sources == 1
            assert send_until(dmx_in, desk, override_on) == levels(90, 5)
            quiet_from = time.monotonic()  # the override goes quiet; the main desk sends on
            read = levels(90, 5)
            while read in (None, levels(90, 5)) and time.monotonic() - quiet_from < 5.0:
                desk.sendto(e131_packet(9, 3, levels(255, 255), main), ("127.0.0.1", dmx_in.port))
                time.sleep(0.02)
                read = dmx_in.read()
            assert read == levels(255, 255)
            assert time.monotonic() - quiet_from >= SOURCE_LOST_SECONDS - 0.1  # not before
        finally:
            dmx_in.close()


def test_the_window_is_driven_by_a_desk(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    stage = window.stage
    assert stage.lights.set_dmx_in(True, DeskPatch(SACN, 3, 5))
    assert stage.lights.dmx_in_button.isChecked() and window.settings.dmx_in_enabled
    assert stage.lights.dmx_in_label.text().startswith(
        "sACN universe 3, channels 5-12: nothing heard yet"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:

        def desk_sends(*values: int) -> None:
            for _ in range(3):  # as a desk does, again and again
                desk.sendto(
                    e131_packet(3, 1, bytes(4) + levels(*values), DESK), ("127.0.0.1", 5568)
                )
                qtbot.wait(30)

        desk_sends(102, 35, 255, 0, 0, 0, 0, 0)  # 40% master, hold the third, reactivity 3
        qtbot.waitUntil(lambda: stage.level.master == pytest.approx(0.4), timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=TIMEOUT_MS
        )
        assert window.settings.reactivity == 3.0 and stage.master_slider.value() == 40
        assert "from 127.0.0.1" in stage.lights.dmx_in_label.text()
        assert stage.state()["dmx_in"] == "sACN universe 3, channels 5-12"
        first_tap = time.perf_counter()
        for _ in range(2):  # the desk's flash button, twice half a second apart
            desk_sends(102, 35, 255, 0, 0, 0, 0, 255)
            desk_sends(102, 35, 255, 0, 0, 0, 0, 0)
            qtbot.wait(max(0, round((first_tap + 0.5 - time.perf_counter()) * 1000)))
            first_tap += 0.5
        assert stage.beats.following_taps
        assert stage.beats.tap_tempo.grid().period == pytest.approx(0.5, abs=0.06)
        desk_sends(102, 235, 255, 0, 0, 255, 0, 0)  # auto again, blackout on
        qtbot.waitUntil(lambda: stage.blackout, timeout=TIMEOUT_MS)
        qtbot.waitUntil(
            lambda: window.worker.settings.scene_mode == SceneMode(), timeout=TIMEOUT_MS
        )
    assert stage.perform("dmx_in") is None  # toggled off
    assert stage.lights.dmx_in is None and stage.lights.dmx_in_label.text() == "off"
    assert not window.settings.dmx_in_enabled


def test_the_stage_box_names_the_desks_it_merges_and_says_when_they_go_quiet(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    lights = window.stage.lights
    assert lights.set_dmx_in(True, DeskPatch(SACN, 4, 1))
    assert lights.dmx_in_label.text() == "sACN universe 4, channels 1-8: nothing heard yet"
    main, backup = (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
    )
    backup.bind(("127.0.0.2", 0))
    try:
        for sequence in range(10):
            main.sendto(e131_packet(4, sequence, levels(255), DESK), ("127.0.0.1", 5568))
            backup.sendto(e131_packet(4, sequence, levels(0, 9), OWN), ("127.0.0.1", 5568))
            qtbot.wait(30)
        qtbot.waitUntil(
            lambda: (
                lights.dmx_in_label.text()
                == "sACN universe 4, channels 1-8 from 127.0.0.1 and 127.0.0.2 (2 sources merged)"
            ),
            timeout=TIMEOUT_MS,
        )
        assert window.stage.level.master == 1.0  # the main desk's, held as the backup sends 0
        qtbot.waitUntil(
            lambda: (
                lights.dmx_in_label.text()
                == "sACN universe 4, channels 1-8: nothing heard for 2.5 s (the levels hold)"
            ),
            timeout=TIMEOUT_MS,
        )
        assert window.stage.level.master == 1.0
    finally:
        main.close()
        backup.close()


def test_the_command_line_patches_the_desk_and_refuses_numbers_out_of_range():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert desk_patch(parser.parse_args(["--dmx-in", "sacn"])) == DeskPatch(SACN, 1, 1)
    args = parser.parse_args(
        ["--dmx-in", "artnet", "--dmx-in-universe", "3", "--dmx-in-channel", "505"]
    )
    assert desk_patch(args) == DeskPatch(ARTNET, 3, 505) and option_problem(args) is None
    args = parser.parse_args(["--dmx-in", "artnet", "--dmx-in-universe", "40000"])
    assert option_problem(args) == "--dmx-in artnet: Art-Net universe must be 0-32767, got 40000"
    args = parser.parse_args(["--dmx-in", "sacn", "--dmx-in-channel", "506"])
    assert option_problem(args) == (
        "--dmx-in-channel must be 1-505 (the first of the desk's 8 DMX channels), got 506"
    )
    assert option_problem(parser.parse_args(["--dmx-in-universe", "2"])) == (
        "--dmx-in-universe and --dmx-in-channel go with --dmx-in"
    )


def test_with_art_net_both_ways_the_desk_s_packets_reaching_dmx_out_go_to_dmx_in(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    stage = window.stage
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as lights:
        lights.bind(("127.0.0.1", 0))
        assert stage.lights.set_dmx(
            True, DmxTarget(ARTNET, "127.0.0.1", lights.getsockname()[1], 0, 1)
        )
        assert stage.lights.set_dmx_in(True, DeskPatch(ARTNET, 0, 1))
        assert stage.lights.dmx.received == stage.lights.dmx_in.take  # port 6454 is both's
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:  # to this machine
            for _ in range(5):
                desk.sendto(artdmx_packet(0, 1, levels(51)), ("127.0.0.1", 6454))
                qtbot.wait(30)
        qtbot.waitUntil(lambda: stage.level.master == pytest.approx(0.2), timeout=TIMEOUT_MS)
        stage.lights.set_dmx_in(False)
        assert stage.lights.dmx.received is None


def test_dmx_in_is_remembered_and_a_second_listener_on_the_port_is_fine(
    qtbot, make_window, model_dir
):
    window = make_window(model_dir)
    assert window.stage.lights.set_dmx_in(True, DeskPatch(ARTNET, 7, 100))
    window.close()
    again = make_window(model_dir)  # the same settings
    lights = again.stage.lights
    assert lights.dmx_in.patch == DeskPatch(ARTNET, 7, 100) and lights.dmx_in_button.isChecked()
    other = DmxInput(DeskPatch(ARTNET, 7, 1))  # another Art-Net program on this machine
    other.close()
    assert again.stage.perform("dmx_in", (0,)) is None and lights.dmx_in is None


def test_art_net_in_answers_a_poll_as_a_port_that_takes_the_desk_s_universe():
    reply = artpollreply_packet("10.0.0.5", 300, 11, 2, listens=True, channels=DESK_CHANNELS)
    assert len(reply) == 239 and reply[8:10] == b"\x00\x21"
    assert (reply[18], reply[19]) == (1, 2)  # 300's Net and Sub-Net
    assert reply[44:108] == b"musicscape: desk control, channels 11-18".ljust(64, b"\x00")
    assert reply[108:172] == b"#0001 [0002] listening on universe 300".ljust(64, b"\x00")
    assert reply[174] == 0x80 and reply[178] == 0 and reply[182] == 0x80  # takes, has data
    assert (reply[186], reply[190]) == (0, 12)  # SwIn none, SwOut the low nibble
    assert reply[207:211] == bytes((10, 0, 0, 5)) and reply[211] == 2  # bound to DMX out's
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as desk:
        desk.bind(("127.0.0.1", 0))
        desk.settimeout(2.0)
        dmx_in = DmxInput(DeskPatch(ARTNET, 300, 11), port=0)
        try:
            desk.sendto(b"Art-Net\x00\x00\x20\x00\x0e\x02\x10", ("127.0.0.1", dmx_in.port))
            deadline = time.monotonic() + 5.0
            while dmx_in.polls_answered == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
                assert dmx_in.read() is None  # a poll is not levels
            answer = desk.recv(1024)
        finally:
            dmx_in.close()
    assert answer == artpollreply_packet("127.0.0.1", 300, 11, 1, True, DESK_CHANNELS)
