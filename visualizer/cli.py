"""The `musicscape` command: bare, it starts the app; subcommands train, export, eval, bench.

Each subcommand lives in a module that defines `add_arguments(parser)` and `run(args) -> int`
and imports its heavy dependencies (torch, onnxruntime) only inside `run`, so `--help`
works in any install and a missing extra is reported in one line before anything runs.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from dataclasses import dataclass

from visualizer.bundled import package_version

EXIT_USAGE = 2


@dataclass(frozen=True)
class Subcommand:
    module: str
    summary: str
    extra: str | None  # the pip extra that provides `requires`
    requires: tuple[str, ...] = ()


SUBCOMMANDS: dict[str, Subcommand] = {
    "train": Subcommand(
        "training.cli",
        "train the music/image embedding and the conditional GAN",
        "train",
        ("torch", "onnx"),
    ),
    "export": Subcommand(
        "export.cli",
        "export a training run's models to ONNX",
        "train",
        ("torch", "onnx"),
    ),
    "eval": Subcommand(
        "visualizer.eval.cli",
        "measure exported models on folders of music",
        "cpu",
        ("onnxruntime",),
    ),
    "bench": Subcommand("visualizer.bench", "time the audio front end, models and app", None),
    "render": Subcommand(
        "visualizer.render",
        "render a music file to a video (H.264 + AAC) with the app's picture",
        "cpu",
        ("onnxruntime", "av"),
    ),
}


def _missing_modules(names: tuple[str, ...]) -> list[str]:
    missing = []
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _missing_extra_message(argv: list[str]) -> str | None:
    """One line naming the extra to install, if the chosen subcommand's is missing.

    Checked before argument parsing, so the message wins over complaints about arguments;
    `--help` is always answered.
    """
    if "-h" in argv or "--help" in argv:
        return None
    command = next((token for token in argv if not token.startswith("-")), None)
    spec = SUBCOMMANDS.get(command)
    if spec is None:
        return None
    return missing_extra(f"musicscape {command}", spec.extra, spec.requires)


def missing_extra(who: str, extra: str, modules: tuple[str, ...]) -> str | None:
    """One line saying which extra provides the `modules` that do not import, and a command
    that installs it from a clone; None when they all import."""
    missing = _missing_modules(modules)
    if not missing:
        return None
    alternative = " (or 'gpu')" if extra == "cpu" else ""
    return (
        f"{who}: needs the '{extra}' extra{alternative} (missing {', '.join(missing)}); "
        f"from a clone of musicscape: pip install '.[{extra}]'"
    )


def _load(name: str):
    """The subcommand's module, or None when this install does not have it yet."""
    try:
        return importlib.import_module(SUBCOMMANDS[name].module)
    except ModuleNotFoundError as error:
        if error.name and SUBCOMMANDS[name].module.startswith(error.name):
            return None
        raise


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="musicscape",
        description="Listens to music and paints natural scenes that fit it, live. "
        "With no subcommand, starts the visualizer.",
    )
    parser.add_argument("--version", action="version", version=f"musicscape {package_version()}")
    app_module = importlib.util.find_spec("visualizer.app")
    if app_module is not None:
        importlib.import_module("visualizer.app").add_arguments(parser)
    modules: dict[str, object] = {}
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, spec in SUBCOMMANDS.items():
        sub = commands.add_parser(name, help=spec.summary, description=spec.summary)
        module = _load(name)
        modules[name] = module
        if module is not None:
            module.add_arguments(sub)
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    message = _missing_extra_message(argv)
    if message:
        print(message, file=sys.stderr)
        return EXIT_USAGE
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        if importlib.util.find_spec("visualizer.app") is None:
            print(
                "musicscape: the live visualizer is not built yet; see `musicscape --help` "
                "for the commands that are.",
                file=sys.stderr,
            )
            return EXIT_USAGE
        message = missing_extra("musicscape", "cpu", ("onnxruntime",))
        if message:
            print(message, file=sys.stderr)
            return EXIT_USAGE
        return int(importlib.import_module("visualizer.app").run(args))
    module = modules[args.command]
    if module is None:
        print(f"musicscape {args.command}: not built yet in this version.", file=sys.stderr)
        return EXIT_USAGE
    return int(module.run(args))


if __name__ == "__main__":
    sys.exit(main())
