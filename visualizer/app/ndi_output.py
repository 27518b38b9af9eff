"""NDI output of the frames the canvas shows (cyndilib, the `ndi` extra).

The scene is sent at its own resolution (receivers scale it) as RGBA, unclocked: the
window's frame rate paces it, and `write_video_async` copies the frame into cyndilib's
buffer and returns while the NDI runtime compresses and sends on its own thread, so the GUI
thread only copies pixels: Qt turns the RGB frame into 4-byte pixels (0.26 ms for 1024 px
here, where numpy's strided copy into an RGBA array had taken 5.9 ms), which cyndilib
copies. The NDI runtime (libndi, bundled in cyndilib's wheel) is Vizrt NDI AB's, under the
NDI SDK licence; see the README.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from PyQt6.QtGui import QImage

from .qt_resize import converted_rgb8

EXTRA = "ndi"
SOURCE_NAME = "musicscape"


class NdiUnavailable(RuntimeError):
    """cyndilib is not installed or the NDI runtime cannot start; the message says which."""


def _cyndilib():
    try:
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC
    except ImportError as error:
        raise NdiUnavailable(
            f"NDI output needs the '{EXTRA}' extra (cyndilib is missing): "
            f"pip install '.[{EXTRA}]' or ./install.sh --ndi"
        ) from error
    return Sender, VideoSendFrame, FourCC


class NdiOutput:
    """An NDI source named `name` on this machine, fed one RGB frame at a time."""

    def __init__(self, fps: float, name: str = SOURCE_NAME):
        self._classes = _cyndilib()
        self.name = name
        self.fps = Fraction(fps).limit_denominator(1001)
        self._sender = None
        self._size: tuple[int, int] | None = None  # (height, width) the sender was opened for
        self.frames_sent = 0

    @property
    def full_name(self) -> str | None:
        """The name receivers list ('HOST (musicscape)'), once the first frame is out."""
        return self._sender.name if self._sender is not None else None

    def _open(self, height: int, width: int) -> None:
        self.close()
        sender_class, frame_class, fourcc = self._classes
        frame = frame_class()
        frame.set_resolution(width, height)
        frame.set_frame_rate(self.fps)
        frame.set_fourcc(fourcc.RGBA)
        sender = sender_class(self.name, clock_video=False, clock_audio=False)
        sender.set_video_frame(frame)
        try:
            sender.open()
        except Exception as error:  # noqa: BLE001 - the runtime's own errors, in words
            raise NdiUnavailable(f"the NDI runtime did not start: {error}") from error
        self._sender = sender
        self._size = (height, width)

    def send(self, rgb: np.ndarray) -> None:
        """uint8 [H, W, 3] RGB: sent as the next NDI video frame."""
        height, width, _ = rgb.shape
        if self._sender is None or self._size != (height, width):
            self._open(height, width)
        rgbx = converted_rgb8(np.ascontiguousarray(rgb), QImage.Format.Format_RGBX8888)
        bits = rgbx.bits()  # writable, as cyndilib's memoryview asks
        bits.setsize(rgbx.sizeInBytes())  # rows of 4-byte pixels carry no padding
        # R, G, B, 255 per pixel: opaque RGBA; cyndilib copies the bytes before it returns,
        # while `rgbx` still holds them
        self._sender.write_video_async(np.frombuffer(bits, np.uint8))
        self.frames_sent += 1

    def close(self) -> None:
        sender, self._sender, self._size = self._sender, None, None
        if sender is not None:
            sender.close()
