"""Checks and look-ups behind the visualizer's command-line options, run before any window.

Every numeric option has one range here; a value outside it (or not finite) is refused in
one line that names the option, the range and the value. `--input` picks an input, and
`--output` the output files play through, by its index in `--list-devices` or by its name
(exact, else the one device whose label or PulseAudio source or sink name contains it).
"""

from __future__ import annotations

import argparse

from visualizer.feel import MAX_FEEL_STRENGTH
from visualizer.options import MAX_FPS, NumericOption, first_problem
from visualizer.scene_memory import MAX_APP_SECONDS

from .audio_sources import InputChoice, OutputChoice
from .dmx_input import DESK_CHANNELS, MAX_DESK_FIRST_CHANNEL, DeskPatch
from .dmx_output import ARTNET, LIGHT_CHANNELS, MAX_FIRST_CHANNEL, SACN, UNIVERSES, DmxTarget

NUMERIC_OPTIONS = (
    NumericOption("--fps", 1, MAX_FPS, "frames per second"),
    NumericOption("--input-rate", 1000, 384_000, "Hz"),
    NumericOption("--scene-memory", 0, MAX_APP_SECONDS, "seconds"),
    NumericOption("--feel", 0, MAX_FEEL_STRENGTH, "(0: off)"),
    NumericOption("--osc-in", 0, 65_535, "(a UDP port; 0: any free one)"),
    NumericOption("--http", 0, 65_535, "(a TCP port; 0: any free one)"),
    NumericOption("--dmx-universe", 0, UNIVERSES[SACN][1], "(Art-Net 0-32767, sACN 1-63999)"),
    NumericOption(
        "--dmx-channel", 1, MAX_FIRST_CHANNEL, f"(the first of {LIGHT_CHANNELS} DMX channels)"
    ),
    NumericOption("--dmx-in-universe", 0, UNIVERSES[SACN][1], "(Art-Net 0-32767, sACN 1-63999)"),
    NumericOption(
        "--dmx-in-channel",
        1,
        MAX_DESK_FIRST_CHANNEL,
        f"(the first of the desk's {DESK_CHANNELS} DMX channels)",
    ),
)


def option_problem(args: argparse.Namespace) -> str | None:
    """The first numeric option out of its range, in words; None when all are fine."""
    problem = first_problem(args, NUMERIC_OPTIONS)
    if problem:
        return problem
    for destination in getattr(args, "osc_out", None) or ():
        try:
            host_and_port(destination)
        except ValueError as error:
            return f"--osc-out {error}"
    try:
        target = dmx_target(args)
    except ValueError as error:
        return str(error)
    if target is not None and target.problem() is not None:
        return f"--{target.protocol}: {target.problem()}"
    try:
        patch = desk_patch(args)
    except ValueError as error:
        return str(error)
    if patch is not None and patch.problem() is not None:
        return f"--dmx-in {patch.protocol}: {patch.problem()}"
    return None


def host_and_port(text: str) -> tuple[str, int]:
    """'HOST:PORT' (or ':PORT' for this machine) -> (host, port), else ValueError."""
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not 1 <= int(port) <= 65_535:
        raise ValueError(f"must be HOST:PORT with a port 1-65535, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def dmx_target(args: argparse.Namespace) -> DmxTarget | None:
    """Where --artnet HOST[:PORT] or --sacn [HOST[:PORT]] (with --dmx-universe and
    --dmx-channel) send the lights; None when neither is given; ValueError in words."""
    artnet, sacn = getattr(args, "artnet", None), getattr(args, "sacn", None)
    universe, channel = getattr(args, "dmx_universe", None), getattr(args, "dmx_channel", None)
    if artnet is None and sacn is None:
        if universe is not None or channel is not None:
            raise ValueError("--dmx-universe and --dmx-channel go with --artnet or --sacn")
        return None
    protocol, text = (ARTNET, artnet) if artnet is not None else (SACN, sacn)
    host, port = text.strip(), None
    if ":" in text:
        try:
            host, port = host_and_port(text)
        except ValueError as error:
            raise ValueError(f"--{protocol} {error}") from error
    elif protocol == ARTNET and not host:
        raise ValueError(f"--artnet must be HOST or HOST:PORT, got {text!r}")
    return DmxTarget.of(protocol, host, port, universe, channel)


def desk_patch(args: argparse.Namespace) -> DeskPatch | None:
    """Where --dmx-in artnet|sacn (with --dmx-in-universe and --dmx-in-channel) listens for
    the desk; None when not given; ValueError in words."""
    protocol = getattr(args, "dmx_in", None)
    universe = getattr(args, "dmx_in_universe", None)
    channel = getattr(args, "dmx_in_channel", None)
    if protocol is None:
        if universe is not None or channel is not None:
            raise ValueError("--dmx-in-universe and --dmx-in-channel go with --dmx-in")
        return None
    return DeskPatch(
        protocol,
        UNIVERSES[protocol][0] if universe is None else universe,
        1 if channel is None else channel,
    )


def describe_devices(inputs: list[InputChoice], outputs: list[OutputChoice]) -> str:
    """What `--list-devices` prints: the inputs, then the outputs, one line each, its index
    first."""
    return f"{_describe(inputs, 'input', 'source')}\n{_describe(outputs, 'output', 'sink')}"


def _describe(choices: list[InputChoice] | list[OutputChoice], noun: str, pulse_kind: str):
    if not choices:
        if noun == "input":
            return "No audio input found (files still play; see `musicscape --help`)."
        return "No audio output found (files play silently in real time)."
    width = len(str(len(choices) - 1))
    lines = [f"Audio {noun}s (pass the index or a name to --{noun}):"]
    for index, choice in enumerate(choices):
        pulse = f"  [PulseAudio {pulse_kind} {choice.pulse_name}]" if choice.pulse_name else ""
        lines.append(f"  {index:>{width}}  {choice.label}{pulse}")
    return "\n".join(lines)


def find_device(spec: str, choices: list, noun: str = "input"):
    """The input (or output: `noun`) that `spec` names among `choices` (see the module
    docstring), else ValueError saying why."""
    if spec.isdigit():
        index = int(spec)
        if index < len(choices):
            return choices[index]
        raise ValueError(
            f"there is no {noun} {index} (this machine has {len(choices)}: "
            f"0-{len(choices) - 1}); `musicscape --list-devices` lists them"
            if choices
            else f"there is no {noun} {index}: this machine has no audio {noun}"
        )
    names = [(choice, (choice.label, choice.pulse_name or "")) for choice in choices]
    exact = [choice for choice, labels in names if spec in labels]
    if exact:
        return exact[0]
    wanted = spec.lower()
    partial = [choice for choice, labels in names if any(wanted in text.lower() for text in labels)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        listed = "; ".join(choice.label for choice in partial)
        raise ValueError(f"'{spec}' matches {len(partial)} {noun}s ({listed}); name one exactly")
    raise ValueError(f"no {noun} matches '{spec}'; `musicscape --list-devices` lists them")
