"""Checks and look-ups behind the visualizer's command-line options, run before any window.

Every numeric option has one range here; a value outside it (or not finite) is refused in
one line that names the option, the range and the value. `--input` picks an input by its
index in `--list-devices` or by its name (exact, else the one input whose label or
PulseAudio source name contains it).
"""

from __future__ import annotations

import argparse

from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.options import MAX_FPS, NumericOption, first_problem
from visualizer.scene_memory import MAX_APP_SECONDS

from .audio_sources import InputChoice

NUMERIC_OPTIONS = (
    NumericOption("--fps", 1, MAX_FPS, "frames per second"),
    NumericOption("--input-rate", 1000, 384_000, "Hz"),
    NumericOption("--scene-memory", 0, MAX_APP_SECONDS, "seconds"),
    NumericOption("--feel", 0, MAX_FEEL_STRENGTH, "(0: off)"),
    NumericOption("--osc-in", 0, 65_535, "(a UDP port; 0: any free one)"),
)


def option_problem(args: argparse.Namespace) -> str | None:
    """The first numeric option out of its range, in words; None when all are fine."""
    problem = first_problem(args, NUMERIC_OPTIONS)
    if problem:
        return problem
    if getattr(args, "osc_out", None) is not None:
        try:
            host_and_port(args.osc_out)
        except ValueError as error:
            return f"--osc-out {error}"
    return None


def host_and_port(text: str) -> tuple[str, int]:
    """'HOST:PORT' (or ':PORT' for this machine) -> (host, port), else ValueError."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not 1 <= int(port) <= 65_535:
        raise ValueError(f"must be HOST:PORT with a port 1-65535, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def describe_inputs(choices: list[InputChoice]) -> str:
    """What `--list-devices` prints: one line per input, its index first."""
    if not choices:
        return "No audio input found (files still play; see `musicscape --help`)."
    width = len(str(len(choices) - 1))
    lines = ["Audio inputs (pass the index or a name to --input):"]
    for index, choice in enumerate(choices):
        source = f"  [PulseAudio source {choice.pulse_source}]" if choice.pulse_source else ""
        lines.append(f"  {index:>{width}}  {choice.label}{source}")
    return "\n".join(lines)


def find_input(spec: str, choices: list[InputChoice]) -> InputChoice:
    """The input `spec` names (see the module docstring), else ValueError saying why."""
    if spec.isdigit():
        index = int(spec)
        if index < len(choices):
            return choices[index]
        raise ValueError(
            f"there is no input {index} (this machine has {len(choices)}: 0-{len(choices) - 1}); "
            "`musicscape --list-devices` lists them"
            if choices
            else f"there is no input {index}: this machine has no audio input"
        )
    names = [(choice, (choice.label, choice.pulse_source or "")) for choice in choices]
    exact = [choice for choice, labels in names if spec in labels]
    if exact:
        return exact[0]
    wanted = spec.lower()
    partial = [choice for choice, labels in names if any(wanted in text.lower() for text in labels)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        listed = "; ".join(choice.label for choice in partial)
        raise ValueError(f"'{spec}' matches {len(partial)} inputs ({listed}); name one exactly")
    raise ValueError(f"no input matches '{spec}'; `musicscape --list-devices` lists them")
