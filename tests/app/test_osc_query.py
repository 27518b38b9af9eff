"""OSCQuery: the address space as JSON with known answers (types, ranges, values, the HTTP
statuses of the proposal), then against the running window: a real HTTP client on the TCP
port of `--osc-in`'s number reads values that a real OSC message changed, a real WebSocket
client LISTENs to values and IGNOREs them and drives the show with OSC on the same
connection, zeroconf finds the announcement, and a TCP port in use leaves OSC working and
says so."""

from __future__ import annotations

import base64
import json
import os
import select
import socket
import struct
import sys
import time
import urllib.error
import urllib.request

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from visualizer.app.osc_control import INPUT_ADDRESSES, SWITCHES
from visualizer.app.osc_query import (
    ACCESS_READ_WRITE,
    ACCESS_WRITE,
    JSON_SERVICE,
    Announcement,
    OscQueryServer,
    answer,
    namespace,
    osc_messages,
)
from visualizer.app.presets import PRESET_SLOTS
from visualizer.app.websocket_frames import BINARY, TEXT, accept_key

from .test_websocket_frames import masked

CATEGORIES = ("desert", "mountain", "sky", "water")
VALUES = {"master": 0.5, "reactivity": 1.25, "blackout": 1.0, "titles": 0.0}


def get(port: int, target: str) -> tuple[int, dict | None]:
    """A real HTTP GET on loopback: the status and the JSON (None for no body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{target}", timeout=5) as reply:
            body = reply.read()
            return reply.status, json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        return error.code, None


def test_each_address_is_described_by_its_kind():
    methods = namespace(CATEGORIES, VALUES)["CONTENTS"]["musicscape"]["CONTENTS"]
    assert set(methods) == set(INPUT_ADDRESSES)
    assert methods["master"] == {
        "FULL_PATH": "/musicscape/master",
        "DESCRIPTION": INPUT_ADDRESSES["master"],
        "TYPE": "f",
        "RANGE": [{"MIN": 0.0, "MAX": 1.0}],
        "ACCESS": ACCESS_READ_WRITE,
        "VALUE": [0.5],
    }
    assert methods["reactivity"]["RANGE"] == [{"MIN": 0.0, "MAX": 3.0}]
    assert (methods["blackout"]["TYPE"], methods["blackout"]["VALUE"]) == ("i", [1])
    assert methods["titles"]["VALUE"] == [0] and methods["titles"]["RANGE"] == [
        {"MIN": 0, "MAX": 1}
    ]
    assert methods["hold"]["RANGE"] == [{"VALS": list(CATEGORIES)}]
    assert methods["hold"]["TYPE"] == "s" and methods["hold"]["ACCESS"] == ACCESS_WRITE
    assert methods["preset"]["RANGE"] == [{"MIN": 1, "MAX": PRESET_SLOTS}]
    assert methods["seek"]["TYPE"] == "f" and methods["seek"]["RANGE"] == [{"MIN": 0.0}]
    assert methods["file"]["TYPE"] == "s" and "RANGE" not in methods["file"]
    for trigger in ("auto", "next", "previous", "picture", "tap"):
        assert methods[trigger]["TYPE"] == "N" and methods[trigger]["ACCESS"] == ACCESS_WRITE
    assert methods["on_bar"]["ACCESS"] == ACCESS_WRITE  # no value given: not readable


def test_the_proposal_s_queries_and_statuses():
    root = namespace(CATEGORIES, VALUES)
    host = {
        "NAME": "musicscape",
        "EXTENSIONS": {
            "ACCESS": True,
            "VALUE": True,
            "RANGE": True,
            "DESCRIPTION": True,
            "LISTEN": True,
        },
        "OSC_PORT": 9000,
        "OSC_TRANSPORT": "UDP",
    }
    assert answer(root, 9000, "/?HOST_INFO") == (200, host)
    assert answer(root, 9000, "/musicscape/master?HOST_INFO") == (200, host)  # any path
    assert answer(root, 9000, "/") == (200, root)
    assert answer(root, 9000, "/musicscape/") == (200, root["CONTENTS"]["musicscape"])
    assert answer(root, 9000, "/musicscape/master?VALUE") == (200, {"VALUE": [0.5]})
    assert answer(root, 9000, "/musicscape/master?RANGE#fragment") == (
        200,
        {"RANGE": [{"MIN": 0.0, "MAX": 1.0}]},
    )
    assert answer(root, 9000, "/musicscape/auto?RANGE") == (200, {})  # a trigger has none
    assert answer(root, 9000, "/musicscape/auto?VALUE") == (204, None)  # write-only
    assert answer(root, 9000, "/musicscape/nothing") == (404, None)
    assert answer(root, 9000, "/musicscape/master?GABBAGABBAHEY") == (400, None)


def test_the_window_serves_its_controls_and_their_values(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    stage = window.stage
    assert stage.listen_osc(0)
    port = stage.osc_in.port
    assert stage.osc_query.port == port  # TCP, the same number as OSC's UDP
    assert get(port, "/?HOST_INFO")[1]["OSC_PORT"] == port
    status, tree = get(port, "/musicscape")
    assert status == 200
    assert tree["CONTENTS"]["hold"]["RANGE"] == [{"VALS": list(window.runtime.metadata.categories)}]
    assert tree["CONTENTS"]["master"]["VALUE"] == [1.0]
    assert set(stage.control_values()) >= set(SWITCHES)  # every switch has a value to read
    SimpleUDPClient("127.0.0.1", port).send_message("/musicscape/master", [0.25])
    qtbot.waitUntil(lambda: get(port, "/musicscape/master?VALUE")[1] == {"VALUE": [0.25]})
    window.set_mirrored(True)
    qtbot.waitUntil(lambda: get(port, "/musicscape/mirror?VALUE")[1] == {"VALUE": [1]})
    assert f"OSCQuery on TCP port {port}" in stage.osc_label.text()
    stage.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def test_the_announcement_is_found_on_the_network(qtbot, make_window, model_dir):
    zeroconf = pytest.importorskip("zeroconf")
    window = make_window(model_dir)
    assert window.stage.listen_osc(0)
    port = window.stage.osc_query.port
    qtbot.waitUntil(
        lambda: "announced as 'musicscape on" in window.stage.osc_label.text(), timeout=10_000
    )
    found = {}

    class Listener(zeroconf.ServiceListener):
        def add_service(self, browser_zeroconf, kind, name):
            info = browser_zeroconf.get_service_info(kind, name, timeout=3000)
            if info is not None:
                found[name] = info.port

        def update_service(self, *args):
            """Not needed: the service is only looked for."""

        def remove_service(self, *args):
            """Not needed: the service is only looked for."""

    browser_zeroconf = zeroconf.Zeroconf()
    try:
        zeroconf.ServiceBrowser(browser_zeroconf, JSON_SERVICE, Listener())
        deadline = time.monotonic() + 10
        while port not in found.values() and time.monotonic() < deadline:
            qtbot.wait(100)
    finally:
        browser_zeroconf.close()
    assert port in found.values(), found


def test_a_tcp_port_in_use_leaves_osc_working_and_says_so(qtbot, make_window, model_dir):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        window = make_window(model_dir)
        assert window.stage.listen_osc(port)  # UDP of that number is free
        assert window.stage.osc_query is None
        assert f"no OSCQuery: cannot serve OSCQuery on TCP port {port}: " in (
            window.stage.osc_label.text()
        )
        SimpleUDPClient("127.0.0.1", port).send_message("/musicscape/master", [0.5])
        qtbot.waitUntil(lambda: window.stage.level.master == 0.5)


def test_without_zeroconf_the_announcement_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "zeroconf", None)  # as if it were not installed
    announcement = Announcement(9000, 9000, {"127.0.0.1"})
    announcement._thread.join(timeout=5)
    assert announcement.status == "not announced (zeroconf missing: pip install '.[vj]')"
    announcement.close()


def test_closing_withdraws_the_announcement(qtbot, make_window, model_dir):
    zeroconf = pytest.importorskip("zeroconf")
    window = make_window(model_dir)
    assert window.stage.listen_osc(0)
    qtbot.waitUntil(lambda: "announced as" in window.stage.osc_label.text(), timeout=10_000)
    name = window.stage.osc_announcement.status.split("'")[1] + "." + JSON_SERVICE
    looker = zeroconf.Zeroconf()
    try:
        assert looker.get_service_info(JSON_SERVICE, name, timeout=3000) is not None
        window.stage.close()  # the goodbyes go before close returns
        qtbot.wait(500)
        assert looker.get_service_info(JSON_SERVICE, name, timeout=1000) is None
    finally:
        looker.close()


class WebSocketClient:
    """A WebSocket client written out here (the handshake, masked frames out, frames in),
    on a real TCP connection to the window's OSCQuery port."""

    def __init__(self, port: int):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.socket.sendall(
            (
                f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self.socket.recv(1)
        lines = head.decode().split("\r\n")
        assert lines[0] == "HTTP/1.1 101 Switching Protocols"
        assert f"Sec-WebSocket-Accept: {accept_key(key)}" in lines
        self.received: list[tuple[int, bytes]] = []

    def command(self, command: str, address: str) -> None:
        self.socket.sendall(
            masked(0x80 | TEXT, json.dumps({"COMMAND": command, "DATA": address}).encode())
        )

    def poll(self) -> list[tuple[int, bytes]]:
        """Every frame that has come, without waiting (the GUI thread must run meanwhile)."""
        while select.select([self.socket], [], [], 0)[0]:
            first, length = self._exactly(2)
            if length == 126:
                (length,) = struct.unpack("!H", self._exactly(2))
            self.received.append((first & 0x0F, self._exactly(length)))
        return self.received

    def values(self) -> list[tuple[str, list]]:
        return [
            (message.address, message.params)
            for message in (OscMessage(payload) for kind, payload in self.poll() if kind == BINARY)
        ]

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            data += self.socket.recv(count - len(data))
        return data


def test_a_listening_client_gets_each_change_it_asked_for(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    stage = window.stage
    assert stage.listen_osc(0)
    port = stage.osc_in.port
    assert get(port, "/?HOST_INFO")[1]["EXTENSIONS"]["LISTEN"] is True
    client = WebSocketClient(port)
    qtbot.waitUntil(lambda: stage.osc_query.listening() == 1)
    client.command("LISTEN", "/musicscape/master")
    client.command("LISTEN", "/musicscape/mirror")
    client.command("LISTEN", "/musicscape/nothing")  # not a method: passed over
    qtbot.wait(300)  # the commands are read before the changes are made
    SimpleUDPClient("127.0.0.1", port).send_message("/musicscape/master", [0.25])
    qtbot.waitUntil(lambda: ("/musicscape/master", [0.25]) in client.values())
    window.set_mirrored(True)
    qtbot.waitUntil(lambda: ("/musicscape/mirror", [1]) in client.values())
    client.command("IGNORE", "/musicscape/master")
    qtbot.wait(300)
    heard = len(client.values())
    stage.set_master(0.5)
    window.set_mirrored(False)
    qtbot.waitUntil(lambda: ("/musicscape/mirror", [0]) in client.values())
    assert client.values()[heard:] == [("/musicscape/mirror", [0])]  # not the master
    client.socket.sendall(masked(0x88, b"\x03\xe8"))  # close, 1000
    qtbot.waitUntil(lambda: stage.osc_query.listening() == 0)
    client.socket.close()


def osc_message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def osc_bundle(*messages: bytes) -> bytes:
    builder = OscBundleBuilder(IMMEDIATELY)
    for message in messages:
        builder.add_content(OscMessage(message))
    return builder.build().dgram


def test_an_osc_packet_s_messages_are_read_a_bundle_s_in_order():
    assert osc_messages(osc_message("/musicscape/master", 0.25)) == [
        ("/musicscape/master", (0.25,))
    ]
    bundle = osc_bundle(osc_message("/musicscape/blackout", 1), osc_message("/musicscape/next"))
    assert osc_messages(bundle) == [("/musicscape/blackout", (1,)), ("/musicscape/next", ())]
    assert osc_messages(b"not OSC at all") == []
    assert osc_messages(b"") == []
    assert osc_messages(osc_message("/musicscape/master", 0.25)[:10]) == []  # cut short
    not_utf8 = osc_message("/musicscape/master", 0.25).replace(b"master", b"m\xf4ster")
    assert osc_messages(not_utf8) == []  # python-osc raises UnicodeDecodeError for it
    in_a_bundle = b"#bundle\x00" + struct.pack(">QI", 1, len(not_utf8)) + not_utf8
    assert osc_messages(in_a_bundle) == []


def test_a_websocket_client_drives_the_show_with_osc_and_hears_it_back(
    qtbot, make_window, model_dir
):
    """A client that cannot send UDP (a browser page): its binary frames are OSC, taken as the
    UDP port takes them, and what it LISTENs to comes back on the same connection."""
    window = make_window(model_dir)
    stage = window.stage
    assert stage.listen_osc(0)
    client = WebSocketClient(stage.osc_in.port)
    qtbot.waitUntil(lambda: stage.osc_query.listening() == 1)
    client.command("LISTEN", "/musicscape/master")
    client.socket.sendall(masked(0x80 | BINARY, osc_message("/musicscape/master", 0.25)))
    qtbot.waitUntil(lambda: stage.level.master == 0.25, timeout=5000)
    qtbot.waitUntil(lambda: ("/musicscape/master", [0.25]) in client.values(), timeout=5000)
    client.socket.sendall(masked(0x80 | BINARY, b"garbage"))  # passed over; the link stays
    bundle = osc_bundle(
        osc_message("/musicscape/blackout", 1), osc_message("/musicscape/mirror", 1)
    )
    client.socket.sendall(masked(0x80 | BINARY, bundle))
    qtbot.waitUntil(lambda: stage.blackout and window.canvas.orientation.mirrored, timeout=5000)
    client.socket.sendall(masked(0x80 | BINARY, osc_message("/musicscape/nothing", 1)))
    qtbot.waitUntil(lambda: "remote" in window.faults, timeout=5000)
    assert window.faults["remote"] == "unknown OSC address /musicscape/nothing"
    assert stage.osc_query.listening() == 1
    client.socket.close()


def test_new_categories_are_told_as_a_changed_path():
    server = OscQueryServer(0, 9000, host="127.0.0.1")
    try:
        server.publish(("desert", "sky"), {"master": 1.0})
        client = WebSocketClient(server.port)
        deadline = time.monotonic() + 5
        while server.listening() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.publish(("desert", "sky"), {"master": 1.0})  # nothing new: nothing told
        server.publish(("desert", "sky", "water"), {"master": 1.0})  # models reloaded
        changed = {"COMMAND": "PATH_CHANGED", "DATA": "/musicscape"}
        while (TEXT, json.dumps(changed).encode()) not in client.poll():
            assert time.monotonic() < deadline, client.received
            time.sleep(0.01)
        assert client.received == [(TEXT, json.dumps(changed).encode())]
        assert get(server.port, "/musicscape/hold?RANGE")[1] == {
            "RANGE": [{"VALS": ["desert", "sky", "water"]}]
        }
        client.socket.close()
    finally:
        server.close()
