"""Runs `musicscape train` and sends the process a real SIGINT just before a given step.

Usage: python -m tests.training.sigint_at_step STEP TRAIN_ARGS...

The training loop checks its stop flag before every step; the signal is sent at check STEP
(counted from 1 across epochs), so the handler has set the flag by check STEP + 1 and the
stage saves after exactly STEP steps. Waiting for a file and signalling from outside raced
with the epoch boundary; this lands mid-epoch every time.
"""

from __future__ import annotations

import os
import signal
import sys

from training import stage_loop
from training.cli import main


def signal_at_check(step: int):
    any_rank = stage_loop.any_rank
    checks = 0

    def counting_any_rank(info, flag):
        nonlocal checks
        checks += 1
        if checks == step:
            os.kill(os.getpid(), signal.SIGINT)
        return any_rank(info, flag)

    return counting_any_rank


if __name__ == "__main__":
    stage_loop.any_rank = signal_at_check(int(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
