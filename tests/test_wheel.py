"""The wheel: built from this tree, installed into a fresh virtual environment, it runs the
headless app on its bundled models and demo music from another directory.

Nothing is downloaded: the wheel is built with this environment's setuptools and installed
without dependencies; the fresh environment reaches this one's packages (numpy, Qt, ONNX
Runtime) through a .pth line, after its own site-packages, so musicscape itself comes from
the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("visualizer", "training", "export", "assets", "pyproject.toml", "README.md", "LICENSE")


def _run(*command, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of this tree (the build writes egg-info and build/ beside it)."""
    source = tmp_path / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        dist,
        source,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("musicscape-*.whl")
    return wheel


@pytest.mark.slow
def test_the_installed_wheel_runs_the_app_on_its_bundled_models_from_anywhere(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (ROOT / "assets").rglob("*"):
        if shipped.is_file() and "__pycache__" not in shipped.parts:
            assert shipped.relative_to(ROOT).as_posix() in names

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=tmp_path,
    )
    site_packages = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).stdout.strip()
    )
    (site_packages / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path / "home"))
    where = _run(
        python,
        "-c",
        "import visualizer; from visualizer.bundled import assets_dir; "
        "print(visualizer.__file__); print(assets_dir())",
        cwd=elsewhere,
        env=env,
    ).stdout.split()
    assert where == [
        str(site_packages / "visualizer" / "__init__.py"),
        str(site_packages / "assets"),
    ]

    out = tmp_path / "bench.json"
    demo = site_packages / "assets" / "demo" / "docks_excerpt.ogg"
    _run(
        venv / "bin" / "musicscape",
        "bench",
        "--runs",
        "5",
        "--app",
        "--seconds",
        "2",
        "--file",
        demo,
        "--json",
        out,
        cwd=elsewhere,
        env=env,
    )
    report = json.loads(out.read_text())
    assert "models_error" not in report  # the bundled models were found and loaded
    assert report["stages"]["encoder"]["runs"] >= 5 and report["stages"]["generator"]["runs"] >= 5
    app = report["app"]
    # A machine without a sound card may say so (files then play on a silent real-time
    # clock); models and the demo file raised nothing.
    assert set(app["faults"].splitlines()) <= {
        "No audio input device found; files still play.",
        "No output device: files play silently in real time and move to the output device "
        "once one appears.",
    }
    assert app["frames_produced"] > 0 and app["encoder_runs"] > 0
