"""Numeric command-line options and their ranges: one way to refuse a value in one line.

Each command lists its `NumericOption`s; `first_problem` names the first value that is out
of its range or not finite (the option, the range and the value), before anything runs.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_FPS = 240  # the highest display rate the app and bench accept


@dataclass(frozen=True)
class NumericOption:
    flag: str
    low: float
    high: float
    unit: str = ""

    @property
    def attribute(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def problem(self, value: float | None) -> str | None:
        if value is None or (math.isfinite(value) and self.low <= value <= self.high):
            return None
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.flag} must be {_number(self.low)}-{_number(self.high)}{unit}, got {value}"


def _number(bound: float) -> str:
    """A range bound as written: whole numbers in full (4294967295, not 4.29497e+09)."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def first_problem(args: argparse.Namespace, options: Iterable[NumericOption]) -> str | None:
    """The first of `options` whose value in `args` is out of range, in words; None if none."""
    for option in options:
        problem = option.problem(getattr(args, option.attribute, None))
        if problem:
            return problem
    return None
