"""How the canvas turns its picture for the screen it is on: a quarter-turn rotation (a
projector on its side, an LED wall or a monitor mounted portrait whose desktop is not
turned) and a left-right mirror (rear projection: the audience sees the screen from behind,
so an unmirrored picture, and its titles, would read backwards). Only the canvas turns:
recordings, saved pictures, NDI and the HTTP picture carry the picture as it is made.
"""

from __future__ import annotations

from dataclasses import dataclass

ROTATIONS = (0, 90, 180, 270)  # degrees clockwise, as a viewer facing the screen sees it


@dataclass(frozen=True)
class CanvasOrientation:
    rotation: int = 0  # one of ROTATIONS
    mirrored: bool = False  # left and right swapped, after the rotation

    def __post_init__(self):
        if self.rotation not in ROTATIONS:
            raise ValueError(
                f"rotation {self.rotation!r} is not one of {', '.join(map(str, ROTATIONS))}"
            )

    @property
    def turned(self) -> bool:
        """A quarter turn: the picture's width lies along the screen's height."""
        return self.rotation in (90, 270)

    def picture_size(self, width: float, height: float) -> tuple[float, float]:
        """The size of the area the picture is laid out in on a `width` x `height` screen:
        the screen's own, or its height by its width when turned a quarter."""
        return (height, width) if self.turned else (width, height)

    def describe(self) -> str:
        """In words, for the test card: "not turned or mirrored", "turned 90°, mirrored"."""
        parts = [f"turned {self.rotation}°"] if self.rotation else []
        if self.mirrored:
            parts.append("mirrored")
        return ", ".join(parts) or "not turned or mirrored"
