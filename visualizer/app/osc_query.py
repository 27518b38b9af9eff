"""OSCQuery: the OSC address space `--osc-in` takes, described as JSON over HTTP, so show
software (Chataigne, TouchDesigner, Vezér, Open Stage Control, VRChat-style tools) lists
musicscape's controls, their types, ranges, current values and descriptions, with no one
typing them in (Vidvox's OSCQuery proposal).

The HTTP server runs on the TCP port of the OSC listener's number (the proposal's default:
its HOST_INFO names the OSC port all the same) and is announced on the local network by
zeroconf (mDNS) as `_oscjson._tcp`, with the OSC port itself as `_osc._udp` (how TouchOSC
and similar surfaces find OSC hosts). zeroconf is part of the `vj` extra; without it the
JSON is still served and the OSC row says the announcement is missing.

Read only: a GET never changes the show (control goes over OSC). The GUI thread publishes
the controls' values (`OscQueryServer.publish`), replacing one dict that the server's
threads read; they never touch the window. Values are as fresh as the last publish.

LISTEN (the proposal's bi-directional part): a client opens a WebSocket on the same port
and sends `{"COMMAND": "LISTEN", "DATA": "/musicscape/master"}`; from then on each change
of that control's value, whoever made it, comes to it as an OSC message in a binary frame
(IGNORE stops it), and `PATH_CHANGED` says when the categories (hold's and bias's choices)
change with the models. Each connection is served by its own thread, which also writes
what `publish` queued for it: the GUI thread never writes to a socket.

OSC over the WebSocket: a binary frame from the client is an OSC packet (a message or a
bundle), taken as if it had come to the UDP port (`deliver`, the OSC listener's `take`), so
a client that cannot send UDP (a browser page, a surface on a network that drops it) drives
the show on the one TCP connection it already has, and hears the values back on it.
"""

from __future__ import annotations

import json
import select
import socket
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

from .corner_pin import CORNER_NAMES, MAX_NUDGE
from .http_serving import ServedHttp
from .midi_control import CONTINUOUS
from .osc_control import INPUT_ADDRESSES, PREFIX, SWITCHES
from .presets import PRESET_SLOTS
from .websocket_frames import (
    BINARY,
    CLOSE,
    PING,
    PONG,
    TEXT,
    FrameError,
    accept_key,
    encode_frame,
    read_message,
)

APP_NAME = "musicscape"
JSON_SERVICE = "_oscjson._tcp.local."
OSC_SERVICE = "_osc._udp.local."
ACCESS_NONE, ACCESS_WRITE, ACCESS_READ_WRITE = 0, 2, 3
EXTENSIONS = ("ACCESS", "VALUE", "RANGE", "DESCRIPTION", "LISTEN")
ATTRIBUTES = ("FULL_PATH", "CONTENTS", "TYPE", "ACCESS", "VALUE", "RANGE", "DESCRIPTION")
LISTEN_POLL_SECONDS = 0.05  # how often a WebSocket's thread looks for values to send
RECEIVE_SECONDS = 5.0  # a client that starts a frame and stalls this long is let go
WITHDRAW_SECONDS = 1.0  # the longest the app's close waits for the goodbyes
CATEGORY_ACTIONS = ("hold", "bias")
SLOT_ACTIONS = ("preset", "store_preset")
CORNER_ACTION = "corner"
NUDGE_ACTION = "nudge_corner"
PINNING_ACTION = "pinning"
SEEK_ACTION = "seek"  # seconds from the file's start: its length varies with the file
FILE_ACTION = "file"  # a path


class OscQueryUnavailable(RuntimeError):
    """The TCP port cannot be used; the message says why."""


def method_node(action: str, categories: tuple[str, ...], values: dict[str, float]) -> dict:
    """The JSON object that describes `/musicscape/ACTION`: a float with its range for a
    continuous control, an int 0-1 for a switch, a category name for hold and bias, a slot
    number for the presets, a float from 0 for a seek, a string for a file's path, a bare
    trigger ("N") for the rest; VALUE where `values` (the stage's `control_values`) holds
    one."""
    node = {"FULL_PATH": PREFIX + action, "DESCRIPTION": INPUT_ADDRESSES[action]}
    if action in CONTINUOUS:
        low, high = CONTINUOUS[action]
        node |= {"TYPE": "f", "RANGE": [{"MIN": low, "MAX": high}]}
    elif action in SWITCHES:
        node |= {"TYPE": "i", "RANGE": [{"MIN": 0, "MAX": 1}]}
    elif action in CATEGORY_ACTIONS:
        node |= {"TYPE": "s", "RANGE": [{"VALS": list(categories)}]}
    elif action in SLOT_ACTIONS:
        node |= {"TYPE": "i", "RANGE": [{"MIN": 1, "MAX": PRESET_SLOTS}]}
    elif action == CORNER_ACTION:  # which corner (0: all back), then its x and y
        shares = {"MIN": 0.0, "MAX": 1.0}
        node |= {"TYPE": "iff", "RANGE": [{"MIN": 0, "MAX": len(CORNER_NAMES)}, shares, shares]}
    elif action == SEEK_ACTION:
        node |= {"TYPE": "f", "RANGE": [{"MIN": 0.0}]}
    elif action == FILE_ACTION:
        node |= {"TYPE": "s"}
    elif action == PINNING_ACTION:  # the corner picked, 0: done
        node |= {"TYPE": "i", "RANGE": [{"MIN": 0, "MAX": len(CORNER_NAMES)}]}
    elif action == NUDGE_ACTION:  # which corner, then how far right and down
        moves = {"MIN": -MAX_NUDGE, "MAX": MAX_NUDGE}
        node |= {"TYPE": "iff", "RANGE": [{"MIN": 1, "MAX": len(CORNER_NAMES)}, moves, moves]}
    else:
        node |= {"TYPE": "N"}
    if action in values:
        value = values[action]
        node |= {
            "ACCESS": ACCESS_READ_WRITE,
            "VALUE": [int(value) if action in SWITCHES else value],
        }
    else:
        node["ACCESS"] = ACCESS_WRITE
    return node


def namespace(categories: tuple[str, ...], values: dict[str, float]) -> dict:
    """The whole address space: the root container, `/musicscape`, and its methods."""
    container = PREFIX.rstrip("/")
    methods = {action: method_node(action, categories, values) for action in INPUT_ADDRESSES}
    return {
        "FULL_PATH": "/",
        "ACCESS": ACCESS_NONE,
        "DESCRIPTION": APP_NAME,
        "CONTENTS": {
            container.lstrip("/"): {
                "FULL_PATH": container,
                "ACCESS": ACCESS_NONE,
                "DESCRIPTION": "the show's controls: the keys, the panel and the remotes' actions",
                "CONTENTS": methods,
            }
        },
    }


def host_info(osc_port: int) -> dict:  # no WS_PORT: the WebSocket is on the same port
    return {
        "NAME": APP_NAME,
        "EXTENSIONS": dict.fromkeys(EXTENSIONS, True),
        "OSC_PORT": osc_port,
        "OSC_TRANSPORT": "UDP",
    }


def value_message(address: str, type_tag: str, value: float) -> bytes:
    """One OSC message with one value, as LISTEN streams it."""
    from pythonosc.osc_message_builder import OscMessageBuilder

    builder = OscMessageBuilder(address)
    builder.add_arg(int(value) if type_tag == "i" else float(value), type_tag)
    return builder.build().dgram


class ListenClient:
    """One WebSocket client's LISTENed addresses and the messages queued for it."""

    def __init__(self):
        self.addresses: set[str] = set()
        self._outgoing: deque[tuple[int, bytes]] = deque()

    def queue(self, opcode: int, payload: bytes) -> None:
        self._outgoing.append((opcode, payload))  # deque appends are thread-safe

    def take(self) -> list[tuple[int, bytes]]:
        taken = []
        while self._outgoing:
            taken.append(self._outgoing.popleft())
        return taken

    def command(self, text: str, root: dict) -> None:
        """A client's JSON command: LISTEN to or IGNORE a method that exists; anything
        else is passed over."""
        try:
            message = json.loads(text)
            command, address = message["COMMAND"], message["DATA"]
        except (ValueError, TypeError, KeyError):
            return
        node = find_node(root, address) if isinstance(address, str) else None
        if node is None or "CONTENTS" in node:
            return
        if command == "LISTEN":
            self.addresses.add(node["FULL_PATH"])
        elif command == "IGNORE":
            self.addresses.discard(node["FULL_PATH"])


def find_node(root: dict, path: str) -> dict | None:
    """The node at an OSC address path ("/" the root), else None."""
    node = root
    for part in filter(None, path.split("/")):
        node = node.get("CONTENTS", {}).get(part)
        if node is None:
            return None
    return node


def answer(root: dict, osc_port: int, target: str) -> tuple[int, dict | None]:
    """The HTTP status and JSON for a GET of `target` (path and query): HOST_INFO at any
    path; a node whole; one attribute of it ({} when the node has none of it, 204 for the
    VALUE of a write-only method); 404 for no such node, 400 for an attribute this server
    does not know."""
    parts = urlsplit(target)
    query = unquote(parts.query)
    if query == "HOST_INFO":
        return 200, host_info(osc_port)
    node = find_node(root, unquote(parts.path))
    if node is None:
        return 404, None
    if not query:
        return 200, node
    if query not in ATTRIBUTES:
        return 400, None
    if query == "VALUE" and node.get("ACCESS") == ACCESS_WRITE:
        return 204, None
    return 200, {query: node[query]} if query in node else {}


def osc_messages(packet: bytes) -> list[tuple[str, tuple]]:
    """The messages (address, arguments) of an OSC packet, a bundle's in order; none for
    bytes that are not one (python-osc's parser raises UnicodeDecodeError, not its
    ParseError, for an address or string that is not UTF-8)."""
    from pythonosc.osc_packet import OscPacket, ParseError

    if not packet.startswith((b"/", b"#bundle\x00")):
        return []  # not OSC at all: python-osc would log a warning for each
    try:
        return [
            (timed.message.address, tuple(timed.message.params))
            for timed in OscPacket(packet).messages
        ]
    except (ParseError, UnicodeDecodeError):
        return []


class OscQueryServer:
    """Serves `answer` on a TCP port from threads of its own; `publish` (GUI thread) gives
    it the categories and the controls' values; `deliver(address, *args)` is given each OSC
    message a WebSocket client sends (on that connection's thread)."""

    def __init__(
        self,
        port: int,
        osc_port: int,
        host: str = "0.0.0.0",
        deliver: Callable[..., None] | None = None,
    ):
        self.osc_port = osc_port
        self._deliver = deliver
        self._root = namespace((), {})
        self._categories: tuple[str, ...] = ()
        self._values: dict[str, float] = {}
        self._clients: set[ListenClient] = set()
        self._clients_lock = threading.Lock()
        self._closing = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args) -> None:  # noqa: A002 - the base's name
                """Quiet: a show's log is not a web server's."""

            def do_GET(self) -> None:  # noqa: N802 - the base's name
                if self.headers.get("Upgrade", "").lower() == "websocket":
                    self.close_connection = True
                    server._listen(self)
                    return
                status, body = answer(server._root, server.osc_port, self.path)
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                if status != 204:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(payload)

        try:
            self._served = ServedHttp(host, port, Handler, "oscquery")
        except OSError as error:
            raise OscQueryUnavailable(
                f"cannot serve OSCQuery on TCP port {port}: {error}"
            ) from error

    @property
    def port(self) -> int:
        return self._served.port

    def publish(self, categories: tuple[str, ...], values: dict[str, float]) -> None:
        """The address space with these values, for the next requests (one reference
        replaced: a request reads the old space or the new, never half of one); each value
        that changed is queued for the clients LISTENing to it."""
        root = namespace(categories, values)
        changed = {name: value for name, value in values.items() if self._values.get(name) != value}
        methods = root["CONTENTS"]["musicscape"]["CONTENTS"]
        with self._clients_lock:
            for client in self._clients:
                if categories != self._categories:
                    path_changed = {"COMMAND": "PATH_CHANGED", "DATA": PREFIX.rstrip("/")}
                    client.queue(TEXT, json.dumps(path_changed).encode())
                for name, value in changed.items():
                    if PREFIX + name in client.addresses:
                        kind = methods[name]["TYPE"]
                        client.queue(BINARY, value_message(PREFIX + name, kind, value))
        self._root, self._categories, self._values = root, categories, dict(values)

    def listening(self) -> int:
        """How many WebSocket clients are connected."""
        with self._clients_lock:
            return len(self._clients)

    def _listen(self, handler: BaseHTTPRequestHandler) -> None:
        """A WebSocket on this request's connection (its own thread): the handshake, then
        the client's commands read and its queued messages written until either side
        closes."""
        key = handler.headers.get("Sec-WebSocket-Key")
        if not key:
            handler.send_response(400)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        handler.send_response(101)
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        handler.wfile.flush()
        connection = handler.connection
        connection.settimeout(RECEIVE_SECONDS)

        def receive(count: int) -> bytes:  # the socket itself: a client sends its first
            data = b""  # frame only after the 101, so the request's reader holds none of it
            while len(data) < count:
                chunk = connection.recv(count - len(data))
                if not chunk:
                    raise ConnectionError("the client went")
                data += chunk
            return data

        client = ListenClient()
        with self._clients_lock:
            self._clients.add(client)
        try:
            while not self._closing.is_set():
                if select.select([connection], [], [], LISTEN_POLL_SECONDS)[0]:
                    message = read_message(receive)
                    if message.opcode == CLOSE:
                        connection.sendall(encode_frame(CLOSE, message.payload[:2]))
                        return
                    if message.opcode == PING:
                        connection.sendall(encode_frame(PONG, message.payload))
                    elif message.opcode == TEXT:
                        client.command(message.payload.decode("utf-8", "replace"), self._root)
                    elif message.opcode == BINARY and self._deliver is not None:
                        for address, args in osc_messages(message.payload):
                            self._deliver(address, *args)
                for opcode, payload in client.take():
                    connection.sendall(encode_frame(opcode, payload))
        except (OSError, FrameError):
            return  # the client went, stalled or broke the protocol: it is let go
        finally:
            with self._clients_lock:
                self._clients.discard(client)

    def close(self) -> None:
        self._closing.set()
        self._served.close()


class Announcement:
    """The OSCQuery server (`_oscjson._tcp`) and the OSC port (`_osc._udp`) announced on the
    local network by zeroconf, from a thread of its own (registering takes about 2 s of
    probing). `status` says how it went, for the OSC row."""

    def __init__(self, json_port: int, osc_port: int, addresses: set[str]):
        self.status = "announcing on the network…"
        self._zeroconf = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._announce,
            args=(json_port, osc_port, sorted(addresses)),
            name="oscquery-announce",
            daemon=True,
        )
        self._thread.start()

    def _announce(self, json_port: int, osc_port: int, addresses: list[str]) -> None:
        try:
            from zeroconf import ServiceInfo, Zeroconf
        except ImportError:
            self.status = "not announced (zeroconf missing: pip install '.[vj]')"
            return
        host = socket.gethostname()
        packed = [socket.inet_aton(address) for address in addresses or ["127.0.0.1"]]
        try:
            self._zeroconf = Zeroconf()
            for service, port in ((JSON_SERVICE, json_port), (OSC_SERVICE, osc_port)):
                if self._stop.is_set():
                    return
                info = ServiceInfo(
                    service,
                    f"{APP_NAME} on {host}.{service}",
                    port=port,
                    addresses=packed,
                    server=f"{host}.local.",
                )
                # another musicscape on this machine: "musicscape on host (2)"
                self._zeroconf.register_service(info, allow_name_change=True)
        except Exception as error:  # noqa: BLE001 - any failure is said, never raised
            self.status = f"not announced: {error}"
            return
        self.status = f"announced as '{info.name.removesuffix('.' + service)}'"

    def close(self) -> None:
        """Withdraw the announcement: zeroconf sends goodbyes (about 0.3 s here), so other
        machines drop musicscape from their lists at once rather than when the records
        expire. Waited for up to WITHDRAW_SECONDS (the app is closing; an announcement
        still probing had published nothing to withdraw)."""
        self._stop.set()

        def withdraw() -> None:
            self._thread.join()
            if self._zeroconf is not None:
                self._zeroconf.unregister_all_services()
                self._zeroconf.close()

        withdrawing = threading.Thread(target=withdraw, name="oscquery-withdraw", daemon=True)
        withdrawing.start()
        withdrawing.join(timeout=WITHDRAW_SECONDS)
