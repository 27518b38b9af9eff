"""Presets: looks a performer stores and recalls in one move.

A look is the scene controls: the scene mode with its category, the reactivity, the feel
strength, the scene memory and the cross-fade time. The master, the blackout and the
source are the show's, not a look's, and no preset changes them. PRESET_SLOTS slots:
F1 ... F8 recall, Shift+F1 ... Shift+F8 store what runs now; OSC `/musicscape/preset N`
and `/musicscape/store_preset N`; MIDI "preset N" recalls. Recalling is as smooth as the
controls themselves: a new scene cross-fades as a held category does.

Each slot is kept in the user's settings as JSON (never pickle) with the category by name,
so a preset outlives a restart and a model with other weights but the same categories. A
stored value that is not a valid look (edited by hand, or from a later version) reads as an
empty slot rather than reaching the worker.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.scene_memory import MAX_APP_SECONDS

from .remote_arguments import finite_number, quoted
from .scene_director import (
    AUTO,
    BIAS,
    HOLD,
    MAX_CROSSFADE_SECONDS,
    MAX_REACTIVITY,
    MIN_CROSSFADE_SECONDS,
)

PRESET_SLOTS = 8


class PresetError(ValueError):
    """A preset cannot be recalled or stored; the message says why, in words."""


@dataclass(frozen=True)
class Look:
    mode: str  # AUTO, HOLD or BIAS
    category: str  # the held or biased category's name; "" in auto
    reactivity: float
    feel_strength: float
    scene_memory_seconds: float
    crossfade_seconds: float

    def __post_init__(self) -> None:
        if self.mode not in (AUTO, HOLD, BIAS):
            raise ValueError(f"mode must be {AUTO}, {HOLD} or {BIAS}, got {self.mode!r}")
        if (self.mode == AUTO) != (self.category == ""):
            raise ValueError(f"a {self.mode} look has a category exactly when it holds or biases")
        for name, high in (
            ("reactivity", MAX_REACTIVITY),
            ("feel_strength", MAX_FEEL_STRENGTH),
            ("scene_memory_seconds", float(MAX_APP_SECONDS)),
        ):
            _check_number(name, getattr(self, name), 0.0, high)
        _check_number(
            "crossfade_seconds",
            self.crossfade_seconds,
            MIN_CROSSFADE_SECONDS,
            MAX_CROSSFADE_SECONDS,
        )

    def describe(self) -> str:
        """In words, as the panel shows it: "hold sky, reactivity 1.5, feel 0.5, memory 16 s,
        cross-fade 1.5 s"."""
        scene = "auto" if self.mode == AUTO else f"{self.mode} {self.category}"
        return (
            f"{scene}, reactivity {self.reactivity:g}, feel {self.feel_strength:g}, "
            f"memory {self.scene_memory_seconds:g} s, cross-fade {self.crossfade_seconds:g} s"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Look | None:
        """The look `text` holds; None when it holds none (empty, not JSON, not a look)."""
        if not text:
            return None
        try:
            values = json.loads(text)
            return cls(**values) if isinstance(values, dict) else None
        except (ValueError, TypeError):
            return None


def _check_number(name: str, value: object, low: float, high: float) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be a number {low:g}-{high:g}, got {value!r}")


def slot_number(args: tuple) -> int:
    """The preset slot 1 ... PRESET_SLOTS that OSC or MIDI arguments name; PresetError if
    they name none."""
    value = args[0] if len(args) == 1 else None
    if finite_number(value) and float(value).is_integer() and 1 <= value <= PRESET_SLOTS:
        return int(value)
    raise PresetError(f"expected a preset number 1-{PRESET_SLOTS}, got {quoted(args)}")
