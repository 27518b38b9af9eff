"""`musicscape bench --app`: the real app headless on a file, figures from what was painted."""

from __future__ import annotations

import json

import pytest

from visualizer.cli import main


def test_bench_app_writes_stage_and_app_figures(model_dir, beats_file, tmp_path, qapp):
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "--runs",
            "10",
            "--models",
            str(model_dir),
            "--app",
            "--seconds",
            "2",
            "--fps",
            "30",
            "--file",
            str(beats_file),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    for stage in ("stft_push_512", "encoder", "generator", "descriptors", "feel_grade"):
        assert report["stages"][stage]["runs"] >= 10
        assert 0 < report["stages"][stage]["median_ms"] <= report["stages"][stage]["p95_ms"]
    app = report["app"]
    assert set(app) >= {
        "fps",
        "frame_ms_p50",
        "frame_ms_p95",
        "latency_ms_p50",
        "latency_ms_p95",
        "event_loop_gap_ms_p50",
        "event_loop_gap_ms_max",
        "cpu_percent",
        "rss_mb",
        "input_overflows",
        "output_device",
        "output_size",
        "output_size_changes",
    }
    assert 0 < app["fps"] <= 33  # paced at 30; how close it gets is the bench's figure
    assert app["frame_interval_target_ms"] == pytest.approx(1000 / 30)
    assert app["input_overflows"] == 0
    # Counted over the measured seconds only, like the frame figures (not since start): the
    # worker is paced at 30 fps (catching up at most 4 hops) and encodes 4 times a second.
    assert 0 <= app["frames_dropped_before_display"] < app["frames_produced"]
    assert app["frames_produced"] <= 30 * app["seconds"] + 4
    assert 1 <= app["encoder_runs"] <= 4 * app["seconds"] + 1
    assert app["beats_measured"] >= 2 and app["latency_ms_p50"] > 0
    assert app["output_device"] in ("pulse", "default", "none (silent real-time clock)")
    assert app["provider"] == "CPUExecutionProvider"


def test_bench_reports_a_missing_model_directory(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        main(["bench", "--runs", "10", "--models", str(tmp_path / "none"), "--json", str(out)]) == 0
    )
    report = json.loads(out.read_text())
    assert "model directory not found" in report["models_error"]
    assert "encoder" not in report["stages"]


def test_rss_growth_is_the_least_squares_slope_per_hour():
    from visualizer.app.app_bench import rss_growth_mb_per_hour

    assert rss_growth_mb_per_hour([1.0, 2.0, 3.0], [100.0, 100.5, 101.0]) == pytest.approx(30.0)
    assert rss_growth_mb_per_hour([1.0, 2.0, 3.0, 4.0], [50.0, 51.0, 50.0, 51.0]) == (
        pytest.approx(12.0)
    )


def test_soak_samples_rss_cpu_and_fps_at_each_interval(model_dir, beats_file, tmp_path, qapp):
    from visualizer.app.app_bench import run_soak

    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "beats.ogg").symlink_to(beats_file)
    soak = run_soak(model_dir, demo, minutes=3 / 60, interval_seconds=1.0)
    samples = soak["samples"]
    assert len(samples) == 3
    assert [round(sample["minute"] * 60) for sample in samples] == [1, 2, 3]
    for sample in samples:
        assert sample["rss_mb"] > 50 and sample["cpu_percent"] >= 0 and sample["fps"] > 0
        assert sample["faults"] == "" or "No audio input" in sample["faults"]
    assert isinstance(soak["rss_growth_mb_per_hour"], float)
