"""Where the canvas's four corners land on its screen: a corner pin (keystone). A projector
that is not square on to its surface (above the stage, off to one side) throws a
trapezoid; pulling the picture's corners in to the surface's corners makes it a rectangle
again there. The pin is of the screen, after the canvas turns and mirrors its picture
(`CanvasOrientation`): it corrects the projector, not the picture. Only the canvas is
pinned: recordings, saved pictures, NDI and the HTTP picture carry the picture as it is made.

Each corner is a fraction of the screen's width and height, (0, 0) its top left and (1, 1)
its bottom right, in the order of CORNER_NAMES (clockwise from the top left). A pin keeps
its corners on the screen (a projector cannot throw beyond its own picture), in clockwise
order around a convex shape (else the picture would fold over itself), and covering at
least MIN_AREA_SHARE of the screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

CORNER_NAMES = ("top left", "top right", "bottom right", "bottom left")
SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))  # the corners not pinned
MIN_AREA_SHARE = 0.1
MAX_NUDGE = 0.1  # the most a remote's nudge moves a corner, a share of the screen either way


def quad_area(corners) -> float:
    """The signed area of the quadrilateral through `corners` (the shoelace formula), as a
    share of the screen: positive when they run clockwise on a screen whose y points down."""
    following = corners[1:] + corners[:1]
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(corners, following, strict=True)) / 2


def is_convex_clockwise(corners) -> bool:
    """Every turn from one side to the next is clockwise (on a screen whose y points down):
    a convex shape, its corners in order, none folded or on a straight line."""
    count = len(corners)
    for index in range(count):
        (x0, y0), (x1, y1), (x2, y2) = (corners[(index + step) % count] for step in range(3))
        if (x1 - x0) * (y2 - y1) - (y1 - y0) * (x2 - x1) <= 0.0:
            return False
    return True


def share_text(share: float) -> str:
    """A share as short as reads back exactly: "1", "0.05", "0.9962962962962962"."""
    return str(int(share)) if share.is_integer() else repr(share)


@dataclass(frozen=True)
class CornerPin:
    corners: tuple[tuple[float, float], ...] = SQUARE

    def __post_init__(self):
        corners = tuple((float(x), float(y)) for x, y in self.corners)
        if len(corners) != len(CORNER_NAMES):
            raise ValueError(f"a corner pin has {len(CORNER_NAMES)} corners, not {len(corners)}")
        for name, (x, y) in zip(CORNER_NAMES, corners, strict=True):
            if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= 1 and 0 <= y <= 1):
                raise ValueError(
                    f"the {name} corner ({x:g}, {y:g}) is off the screen: each of its x and y "
                    "is a share of the screen's width and height, 0-1"
                )
        if not is_convex_clockwise(corners):
            raise ValueError(
                "those corners fold the picture over itself: they go clockwise from the top "
                f"left ({', '.join(CORNER_NAMES)}) around a shape with no inward corner"
            )
        if quad_area(corners) < MIN_AREA_SHARE:
            raise ValueError(
                f"those corners leave the picture {quad_area(corners):.0%} of the screen; "
                f"a pin keeps at least {MIN_AREA_SHARE:.0%}"
            )
        object.__setattr__(self, "corners", corners)

    @property
    def pinned(self) -> bool:
        """Some corner is not the screen's own: the picture is drawn pinned."""
        return self.corners != SQUARE

    def moved(self, index: int, x: float, y: float) -> CornerPin:
        """The pin with corner `index` at (x, y), kept on the screen; ValueError (in words)
        when that would fold the picture or leave it too small."""
        corners = list(self.corners)
        corners[index] = (min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0))
        return CornerPin(tuple(corners))

    def nudged(self, index: int, dx: float, dy: float) -> CornerPin:
        """The pin with corner `index` moved by (dx, dy) as far as it can go: stopped at the
        screen's edge, and not moved at all where the move would fold the picture."""
        x, y = self.corners[index]
        try:
            return self.moved(index, x + dx, y + dy)
        except ValueError:
            return self

    def reset(self, index: int) -> CornerPin:
        """The pin with corner `index` back at the screen's corner (unchanged where that
        would fold the picture)."""
        (x, y), (square_x, square_y) = self.corners[index], SQUARE[index]
        return self.nudged(index, square_x - x, square_y - y)

    def text(self) -> str:
        """ "x,y x,y x,y x,y" (the order of CORNER_NAMES), as `parse` reads it and the
        settings keep it; "none" when not pinned."""
        if not self.pinned:
            return "none"
        return " ".join(f"{share_text(x)},{share_text(y)}" for x, y in self.corners)

    @classmethod
    def parse(cls, text: str) -> CornerPin:
        """A pin from `text()`'s form ("none": not pinned); ValueError in words."""
        text = text.strip()
        if text.lower() in ("", "none"):
            return cls()
        pairs = text.replace(";", " ").split()
        corners = []
        for pair in pairs:
            parts = pair.split(",")
            try:
                if len(parts) != 2:
                    raise ValueError
                corners.append((float(parts[0]), float(parts[1])))
            except ValueError:
                raise ValueError(
                    f"'{pair[:40]}' is not a corner: corners are four x,y pairs separated by "
                    "spaces, shares of the screen's width and height, clockwise from the top "
                    "left (as in '0.05,0 0.95,0 1,1 0,1'), or 'none'"
                ) from None
        return cls(tuple(corners))

    def describe(self) -> str:
        """In words, for the panel: "corners not pinned", or each pinned
        corner's move from the screen's corner in percent of its width and height."""
        moves = [
            f"{name} {(x - x0) * 100:+.1f}%, {(y - y0) * 100:+.1f}%"
            for name, (x, y), (x0, y0) in zip(CORNER_NAMES, self.corners, SQUARE, strict=True)
            if (x, y) != (x0, y0)
        ]
        return "corners pinned: " + "; ".join(moves) if moves else "corners not pinned"
