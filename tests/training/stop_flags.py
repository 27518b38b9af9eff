"""A stop flag for training-loop tests: asks to stop after a given number of checks."""

from __future__ import annotations

from training.context import StopFlag


class StopAfterChecks(StopFlag):
    """A stop flag that asks to stop once it has been checked `checks` times (the loop checks
    it before every step)."""

    def __init__(self, checks: int):
        self.checks = checks

    @property
    def requested(self) -> bool:
        self.checks -= 1
        return self.checks < 0
