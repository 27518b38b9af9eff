"""NDI output of the frames the canvas shows (cyndilib, the `ndi` extra).

The scene is sent at its own resolution (receivers scale it) as RGBA, unclocked: the
window's frame rate paces it, and `write_video_async` copies the frame into cyndilib's
buffer and returns while the NDI runtime compresses and sends on its own thread, so the GUI
thread only copies pixels: Qt turns the RGB frame into 4-byte pixels (0.26 ms for 1024 px
here, where numpy's strided copy into an RGBA array had taken 5.9 ms), which cyndilib
copies. The NDI runtime (libndi, bundled in cyndilib's wheel) is Vizrt NDI AB's, under the
NDI SDK licence; see the README.

The runtime does not always make a sender when asked (NDIlib_send_create returns nothing:
for a few seconds at a time here, as senders came and went in a chaos run, and always for
a name it will not take). cyndilib 0.1.3 then tidies up an audio frame it assumes is there
and ends the whole process with a segmentation fault when there is none, so every sender
is given one (no audio is ever sent on it). A refused sender is asked for again with each
frame for `retry_seconds`; only then is NDI said to be unavailable.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from PyQt6.QtGui import QImage

from .qt_resize import converted_rgb8

EXTRA = "ndi"
SOURCE_NAME = "musicscape"
OPEN_RETRY_SECONDS = 5.0  # a sender the runtime refuses is asked for again this long


class NdiUnavailable(RuntimeError):
    """cyndilib is not installed or the NDI runtime cannot start; the message says which."""


def _cyndilib():
    try:
        from cyndilib.audio_frame import AudioSendFrame
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC
    except ImportError as error:
        raise NdiUnavailable(
            f"NDI output needs the '{EXTRA}' extra (cyndilib is missing): "
            f"pip install '.[{EXTRA}]' or ./install.sh --ndi"
        ) from error
    return Sender, VideoSendFrame, AudioSendFrame, FourCC


class NdiOutput:
    """An NDI source named `name` on this machine, fed one RGB frame at a time."""

    def __init__(
        self, fps: float, name: str = SOURCE_NAME, retry_seconds: float = OPEN_RETRY_SECONDS
    ):
        self._classes = _cyndilib()
        self.name = name
        self.fps = Fraction(fps).limit_denominator(1001)
        self.retry_seconds = retry_seconds
        self._sender = None
        self._size: tuple[int, int] | None = None  # (height, width) the sender was opened for
        self._refused_since: float | None = None  # time.monotonic of the first refusal in a row
        self.frames_sent = 0
        self.refusals = 0  # senders the runtime did not make

    @property
    def full_name(self) -> str | None:
        """The name receivers list ('HOST (musicscape)'), once the first frame is out."""
        return self._sender.name if self._sender is not None else None

    @property
    def refused_for(self) -> float | None:
        """Seconds since the runtime first refused the sender now asked for, or None."""
        since = self._refused_since
        return None if since is None else time.monotonic() - since

    def _open(self, height: int, width: int) -> bool:
        """A sender for frames of this size; False when the runtime did not make one (asked
        again with the next frame), NdiUnavailable once it has refused for `retry_seconds`."""
        self.close()
        sender_class, frame_class, audio_frame_class, fourcc = self._classes
        frame = frame_class()
        frame.set_resolution(width, height)
        frame.set_frame_rate(self.fps)
        frame.set_fourcc(fourcc.RGBA)
        sender = sender_class(self.name, clock_video=False, clock_audio=False)
        sender.set_video_frame(frame)
        sender.set_audio_frame(audio_frame_class())  # see the module's docstring
        try:
            sender.open()
        except Exception as error:  # noqa: BLE001 - the runtime's own errors
            self.refusals += 1
            now = time.monotonic()
            if self._refused_since is None:
                self._refused_since = now
            refused_for = now - self._refused_since
            if refused_for < self.retry_seconds:
                return False
            self._refused_since = None
            reason = str(error) or "NDIlib_send_create made none"
            raise NdiUnavailable(
                f"the NDI runtime did not make a sender named '{self.name}' in "
                f"{refused_for:.1f} s of asking ({reason})"
            ) from error
        self._sender = sender
        self._size = (height, width)
        self._refused_since = None
        return True

    def send(self, rgb: np.ndarray) -> bool:
        """uint8 [H, W, 3] RGB: sent as the next NDI video frame. False, and nothing sent,
        while the runtime refuses the sender (`refused_for`)."""
        height, width, _ = rgb.shape
        if self._sender is None or self._size != (height, width):
            if not self._open(height, width):
                return False
        rgbx = converted_rgb8(np.ascontiguousarray(rgb), QImage.Format.Format_RGBX8888)
        bits = rgbx.bits()  # writable, as cyndilib's memoryview asks
        bits.setsize(rgbx.sizeInBytes())  # rows of 4-byte pixels carry no padding
        # R, G, B, 255 per pixel: opaque RGBA; cyndilib copies the bytes before it returns,
        # while `rgbx` still holds them
        self._sender.write_video_async(np.frombuffer(bits, np.uint8))
        self.frames_sent += 1
        return True

    def close(self) -> None:
        sender, self._sender, self._size = self._sender, None, None
        if sender is not None:
            sender.close()
