"""`musicscape bench --app`: the real app headless on a file, figures from what was painted."""

from __future__ import annotations

import json

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
            "--file",
            str(beats_file),
            "--json",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    for stage in ("stft_push_512", "encoder", "generator"):
        assert report["stages"][stage]["runs"] >= 10
        assert 0 < report["stages"][stage]["median_ms"] <= report["stages"][stage]["p95_ms"]
    app = report["app"]
    assert set(app) >= {
        "fps",
        "frame_ms_p50",
        "frame_ms_p95",
        "latency_ms_p50",
        "latency_ms_p95",
        "cpu_percent",
        "rss_mb",
        "input_overflows",
        "output_device",
    }
    assert 30 <= app["fps"] <= 65  # paced at 60; a loaded 2-core machine may lag
    assert app["input_overflows"] == 0
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
