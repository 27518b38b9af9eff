"""`musicscape bench`: times each stage of the pipeline and prints median and p95.

Writes {"stages": {name: {"median_ms", "p95_ms", "runs"}}, "machine": {...}} to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable

import numpy as np

from visualizer.frontend import FrontEndContract, RollingSTFT, analyse_window


def time_calls(call: Callable[[], object], runs: int, warmup: int = 5) -> dict[str, float]:
    """Run `call` warmup + runs times; return median and 95th percentile of the timed runs."""
    for _ in range(warmup):
        call()
    durations = np.empty(runs)
    for index in range(runs):
        start = time.perf_counter()
        call()
        durations[index] = time.perf_counter() - start
    return {
        "median_ms": float(np.median(durations) * 1e3),
        "p95_ms": float(np.percentile(durations, 95) * 1e3),
        "runs": runs,
    }


def frontend_stages(contract: FrontEndContract, runs: int) -> dict[str, dict[str, float]]:
    """The audio front end: one 512-sample push, one window read, one offline 16-s analysis."""
    rng = np.random.default_rng(0)
    signal = (0.1 * rng.standard_normal(contract.window_samples)).astype(np.float32)
    rolling = RollingSTFT(contract)
    rolling.push(signal)
    block = signal[:512].copy()
    window = np.empty(contract.input_shape, dtype=np.float32)
    return {
        "stft_push_512": time_calls(lambda: rolling.push(block), runs * 10),
        "stft_window_read": time_calls(lambda: rolling.window(window), runs * 2),
        "stft_offline_16s": time_calls(
            lambda: analyse_window(signal, contract), max(runs // 5, 10)
        ),
    }


def machine_summary() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="OUT", help="write the figures to this JSON file")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per stage (default 200)")


def run(args: argparse.Namespace) -> int:
    contract = FrontEndContract()
    stages = frontend_stages(contract, args.runs)
    report = {"stages": stages, "machine": machine_summary()}
    width = max(len(name) for name in stages)
    for name, figures in stages.items():
        print(
            f"{name:<{width}}  median {figures['median_ms']:8.3f} ms   "
            f"p95 {figures['p95_ms']:8.3f} ms   runs {figures['runs']}"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
