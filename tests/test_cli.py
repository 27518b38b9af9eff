"""The `musicscape` command: help for every subcommand, one-line refusal of a missing extra."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from visualizer.cli import EXIT_USAGE, SUBCOMMANDS, build_parser, main


def run_cli(*args: str, block: str | None = None) -> subprocess.CompletedProcess:
    """Run the real command in a fresh interpreter, optionally with one package unimportable."""
    prelude = f"import sys; sys.modules[{block!r}] = None; " if block else "import sys; "
    code = prelude + f"from visualizer.cli import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_top_level_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out


def test_version_is_the_installed_packages(capsys):
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    version = re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE)[1]
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"musicscape {version}\n"


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert f"musicscape {name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command, block, extra",
    [("train", "torch", "train"), ("export", "torch", "train"), ("eval", "onnxruntime", "cpu")],
)
def test_missing_extra_is_named_in_one_line(command, block, extra):
    result = run_cli(command, "--some-option", "value", block=block)
    assert result.returncode == EXIT_USAGE
    lines = result.stderr.strip().splitlines()
    either = " (or 'gpu')" if extra == "cpu" else ""
    assert lines == [
        f"musicscape {command}: needs the '{extra}' extra{either} (missing {block}); "
        f"from a clone of musicscape: pip install '.[{extra}]'"
    ]


NO_RUNTIME = (
    "needs the 'cpu' extra (or 'gpu') (missing onnxruntime); "
    "from a clone of musicscape: pip install '.[cpu]'"
)


def test_the_app_without_onnxruntime_names_the_extra_in_one_line():
    result = run_cli(block="onnxruntime")
    assert result.returncode == EXIT_USAGE
    assert result.stderr.strip().splitlines() == [f"musicscape: {NO_RUNTIME}"]


def test_bench_without_onnxruntime_times_the_front_end_and_names_the_extra(tmp_path):
    out = tmp_path / "bench.json"
    result = run_cli("bench", "--runs", "3", "--json", str(out), block="onnxruntime")
    assert result.returncode == 0
    assert result.stderr.strip().splitlines() == [
        f"musicscape bench: {NO_RUNTIME} "
        "(timing the front end, the dimming, the lights and the canvas only)",
        f"wrote {out}",
    ]
    report = json.loads(out.read_text())
    assert set(report["stages"]) == {
        "auto_level_frame",
        "band_meter_frame",
        "stft_push_512",
        "stft_window_read",
        "stft_offline_16s",
        "dim_512",
        "dim_1024",
        "dmx_lights_1024",
        "dmx_desk_read_64",
        "canvas_frame_in",
        "canvas_as_made",
        "canvas_turned_90",
        "canvas_mirrored",
        "canvas_pinned",
        "canvas_pinned_256",
    }
    app = run_cli("bench", "--app", block="onnxruntime")
    assert app.returncode == EXIT_USAGE
    assert app.stderr.strip().splitlines() == [f"musicscape bench: {NO_RUNTIME}"]


def test_an_impossible_input_rate_is_refused_before_any_window(capsys):
    assert main(["--input-rate", "5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape: --input-rate must be 1000-384000 Hz, got 5"
    )


def test_a_negative_scene_memory_is_refused_before_any_window(capsys):
    assert main(["--scene-memory", "-1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "musicscape: --scene-memory must be 0-120 seconds, got -1.0"
    )


def test_a_settings_file_that_cannot_be_kept_is_refused_before_any_window(tmp_path, capsys):
    folder = tmp_path / "settings"
    folder.mkdir()
    assert main(["--settings", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape: --settings: cannot keep settings in {folder}: {folder} is a folder"
    )


def test_a_log_that_cannot_be_written_is_refused_before_any_window(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    assert main(["--log", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape: --log: cannot write the log {folder}: {folder} is a folder"
    )


def test_shuffle_and_loop_are_options_of_the_visualizer():
    parser, _ = build_parser()
    args = parser.parse_args(["--file", "a.ogg", "b.ogg", "--loop", "--shuffle"])
    assert (args.file, args.loop, args.shuffle) == (["a.ogg", "b.ogg"], True, True)
    assert parser.parse_args([]).shuffle is False
