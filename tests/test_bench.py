"""`musicscape bench` (visualizer/bench.py): the stage figures, their printed lines and the
refusal of options out of range. The app, OSC and recording benches are in tests/app."""

import json

import pytest

from visualizer.bench import print_figures
from visualizer.cli import main


def test_bench_writes_stage_figures(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "--runs", "20", "--json", str(out)]) == 0
    stages = json.loads(out.read_text())["stages"]
    front_end = ("stft_push_512", "stft_window_read", "stft_offline_16s", "auto_level_frame")
    for name in (*front_end, "band_meter_frame"):
        figures = stages[name]
        assert set(figures) == {"median_ms", "p95_ms", "runs"}
        assert 0 < figures["median_ms"] <= figures["p95_ms"]
    # the sub-millisecond front-end calls are timed more often; every other stage, the
    # encoder whose median the 15-ms budget is judged by included, exactly --runs times
    runs = {name: figures["runs"] for name, figures in stages.items()}
    named = {"encoder", "generator", "descriptors", "feel_grade", "dim_1024", "dmx_lights_1024"}
    named |= {"dmx_desk_read_64", "canvas_as_made", "canvas_turned_90", "canvas_mirrored"}
    named |= {"canvas_frame_in", "canvas_pinned", "canvas_pinned_256"}
    assert named <= set(runs)
    assert runs == {name: 20 for name in runs} | {
        "stft_push_512": 200,
        "stft_window_read": 40,
        "auto_level_frame": 200,
        "band_meter_frame": 200,
    }


def test_figures_print_one_line_each_floats_to_two_decimals(capsys):
    print_figures("app", {"fps": 59.8765, "frames": 120, "provider": "CPU"})
    assert capsys.readouterr().out.splitlines() == [
        "app.fps: 59.88",
        "app.frames: 120",
        "app.provider: CPU",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--runs", "0"], "musicscape bench: --runs must be 1-100000, got 0"),
        (["--seconds", "nan", "--app"], "musicscape bench: --seconds must be 0.5-86400, got nan"),
        (["--soak", "-5"], "musicscape bench: --soak must be 1-10080 minutes, got -5.0"),
        (["--size", "0", "--motion"], "musicscape bench: --size must be 16-4096 pixels, got 0"),
        (
            ["--fps", "0", "--app"],
            "musicscape bench: --fps must be 1-240 frames per second, got 0.0",
        ),
    ],
)
def test_bench_refuses_numeric_options_out_of_range(argv, message, capsys):
    assert main(["bench", *argv]) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_json_path_that_cannot_be_written_is_refused_before_timing(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    out = taken / "bench.json"
    assert main(["bench", "--json", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"musicscape bench: --json: cannot write {out}: {taken} is not a folder"
    )


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ("5:1", "'5:1' is outside 1:4 ... 4:1"),
        ("nan", "'nan' is outside 1:4 ... 4:1"),
        ("16:0", "not a shape: '16:0' (try 16:9)"),
        ("wide", "not a shape: 'wide' (try 16:9)"),
    ],
)
def test_a_record_shape_that_is_none_or_too_long_is_refused(shape, message, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["bench", "--recording", "--record-aspect", shape])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"musicscape bench: error: argument --record-aspect: {message}"
    )
