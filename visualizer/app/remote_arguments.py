"""The arguments a remote command carries (OSC's, an HTTP body's, MIDI's, a DMX channel's),
read into what the window's methods take, or refused in words that quote them.

A refusal is shown in the panel's fault line and written to the show's log, so it quotes
at most QUOTED_CHARACTERS characters of what came: a stray 600-byte string from a
misconfigured controller names itself without filling the panel.
"""

from __future__ import annotations

import math
from pathlib import Path

QUOTED_CHARACTERS = 40


def quoted(args: tuple) -> str:
    """`args` as a refusal quotes them: a Python list, cut to QUOTED_CHARACTERS characters
    with '…' where it was cut."""
    text = repr(list(args))
    return text if len(text) <= QUOTED_CHARACTERS else text[: QUOTED_CHARACTERS - 1] + "…"


def finite_number(value: object) -> bool:
    """An int or float (not a bool) that a float holds finitely: an HTTP body's JSON can
    carry an integer of 400 digits, which no float holds."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def switch_value(args: tuple, current: bool) -> bool:
    """An on/off argument: none toggles `current`; a finite number is on when nonzero, a bool
    as it is, "on" / "true" and "off" / "false" as they say (any case)."""
    if not args:
        return not current
    value = args[0]
    if isinstance(value, bool):
        return value
    if finite_number(value):
        return value != 0
    if isinstance(value, str) and value.lower() in ("on", "true", "off", "false"):
        return value.lower() in ("on", "true")
    raise ValueError(f"expected 0 / 1 (or nothing, to toggle), got {quoted(args)}")


def tap_value(args: tuple) -> bool:
    """A tap's argument: none or a nonzero number is a tap (True); 0 forgets the taps."""
    if not args:
        return True
    value = args[0]
    if finite_number(value) or isinstance(value, bool):
        return value != 0
    raise ValueError(f"expected nothing or 1 (a tap), or 0 (forget the taps), got {quoted(args)}")


def path_value(args: tuple) -> Path:
    """One absolute path (`~` is the user's home): a remote's sender does not share the
    app's current folder, so a relative path would name a file it did not mean."""
    if len(args) != 1 or not isinstance(args[0], str) or not args[0].strip():
        raise ValueError(f"expected one path, a string, got {quoted(args)}")
    path = Path(args[0].strip()).expanduser()
    if not path.is_absolute():
        raise ValueError(f"expected an absolute path (from /), got {quoted(args)}")
    return path


def number_value(args: tuple, low: float, high: float) -> float:
    """One number from `low` to `high`."""
    if len(args) != 1 or not finite_number(args[0]):
        raise ValueError(f"expected one number {low:g}-{high:g}, got {quoted(args)}")
    value = float(args[0])
    if not low <= value <= high:
        raise ValueError(f"expected one number {low:g}-{high:g}, got {value:g}")
    return value


def category_value(args: tuple, categories: tuple[str, ...]) -> int:
    """A category by name or by number (1 = first); its index."""
    if len(args) == 1:
        value = args[0]
        if isinstance(value, str) and value in categories:
            return categories.index(value)
        if finite_number(value) and float(value).is_integer():
            if 1 <= int(value) <= len(categories):
                return int(value) - 1
    raise ValueError(
        f"expected a category ({', '.join(categories)}) or its number 1-{len(categories)}, "
        f"got {quoted(args)}"
    )


def corner_and_pair(
    args: tuple, corners: int, expected: str, low: float, high: float
) -> tuple[int, float, float]:
    """A corner's number (1 = top left, clockwise to `corners`) and two numbers `low`-`high`:
    (its index, first, second); else ValueError, "`expected`, got ..."."""
    if len(args) != 3 or not all(finite_number(value) for value in args):
        raise ValueError(f"{expected}, got {quoted(args)}")
    corner, first, second = args
    if not (float(corner).is_integer() and 1 <= corner <= corners):
        raise ValueError(f"{expected}, got corner {quoted((corner,))}")
    if not (low <= first <= high and low <= second <= high):
        raise ValueError(f"{expected}, got {float(first):g}, {float(second):g}")
    return int(corner) - 1, float(first), float(second)


def pinning_value(args: tuple, corners: int) -> int | None:
    """Pinning's corner: 1 (top left) to `corners` picks it and pins (its index), 0 is done
    (None)."""
    if len(args) == 1 and finite_number(args[0]) and float(args[0]).is_integer():
        if 0 <= args[0] <= corners:
            return None if args[0] == 0 else int(args[0]) - 1
    raise ValueError(f"expected a corner 1-{corners} to pick, or 0 (done), got {quoted(args)}")


def corner_value(args: tuple, corners: int) -> tuple[int, float, float] | None:
    """Where a corner of the pin goes: its number and two shares of the screen 0-1 (its
    index, x, y); or 0 alone, every corner back (None)."""
    if len(args) == 1 and finite_number(args[0]) and args[0] == 0:
        return None
    expected = f"expected a corner 1-{corners} and its x and y 0-1, or 0 (all back)"
    return corner_and_pair(args, corners, expected, 0.0, 1.0)


def corner_nudge_value(args: tuple, corners: int, most: float) -> tuple[int, float, float]:
    """How far a corner of the pin moves: its number and two shares of the screen, each
    at most `most` either way (its index, right, down)."""
    expected = f"expected a corner 1-{corners} and how far it moves, x and y -{most:g}-{most:g}"
    return corner_and_pair(args, corners, expected, -most, most)
