"""Tiny synthetic training data: categories told apart by tone pitch and image colour."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

from training.config import TrainConfig, tiny_config

RATE = 22_050
TONES = (220.0, 880.0, 3520.0, 7040.0)
COLOURS = ((40, 90, 220), (230, 200, 120), (40, 160, 60), (200, 60, 60))


def make_dataset(
    root: Path,
    n_categories: int = 2,
    tracks: int = 3,
    seconds: float = 3.0,
    images: int = 4,
    image_size: int = 20,
    seed: int = 0,
) -> Path:
    """`root/scenes/<cat>/*.png` and `root/music/<cat>/*.wav`; returns root."""
    rng = np.random.default_rng(seed)
    names = [f"cat{index}" for index in range(n_categories)]
    for index, name in enumerate(names):
        (root / "music" / name).mkdir(parents=True, exist_ok=True)
        (root / "scenes" / name).mkdir(parents=True, exist_ok=True)
        for track in range(tracks):
            time = np.arange(int(seconds * RATE)) / RATE
            tone = TONES[index] * (1.0 + 0.02 * track)
            signal = 0.3 * np.sin(2 * np.pi * tone * time) + 0.01 * rng.standard_normal(time.size)
            sf.write(root / "music" / name / f"track{track}.wav", signal.astype(np.float32), RATE)
        for image in range(images):
            base = np.asarray(COLOURS[index], dtype=np.float32)
            noise = rng.normal(0, 20, (image_size, image_size, 3))
            pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / "scenes" / name / f"img{image}.png")
    return root


def click_track(period: float, seconds: float = 8.0) -> np.ndarray:
    """Hann-shaped clicks 64 samples long every `period` seconds, from the start."""
    signal = np.zeros(int(seconds * RATE), dtype=np.float32)
    for start in range(0, signal.size - 64, int(period * RATE)):
        signal[start : start + 64] = 0.5 * np.hanning(64)
    return signal


def write_config(path: Path, config: TrainConfig | None = None) -> Path:
    """A JSON TrainConfig (tiny models by default) for `--config`."""
    path.write_text(json.dumps((config or tiny_config(16)).to_dict()))
    return path
