"""Music window augmentation on front-end features [B, 2, n_bins, n_frames] (numpy).

Power is in the contract's units (floor_db -> -1, 0 dB -> +1), so a gain of g dB adds
g * 2 / -floor_db. Augmentations: gain, spectral tilt (EQ), a shift along the frequency
axis (pitch-ish), and mixing two windows of the same category (power-domain sum).
Time shift is the random crop itself.
"""

from __future__ import annotations

import numpy as np

from training.config import AugmentConfig


def _db_to_units(db: np.ndarray | float, floor_db: float) -> np.ndarray | float:
    return db * (-2.0 / floor_db)


def mix_power(a: np.ndarray, b: np.ndarray, floor_db: float) -> np.ndarray:
    """Power-domain sum of two log-power maps in contract units."""
    scale = -floor_db / 2.0  # units -> dB above (floor_db / 2)
    db_a = (a - 1.0) * scale
    db_b = (b - 1.0) * scale
    top = np.maximum(db_a, db_b)
    total = top + 10.0 * np.log10(10.0 ** ((db_a - top) / 10.0) + 10.0 ** ((db_b - top) / 10.0))
    return np.clip(total / scale + 1.0, -1.0, None).astype(a.dtype)


def augment_windows(
    windows: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    config: AugmentConfig,
    floor_db: float,
) -> np.ndarray:
    """A new array of augmented windows; `labels` say which windows may be mixed."""
    if not config.enabled:
        return windows
    out = windows.copy()
    batch, _, n_bins, _ = out.shape
    for index in range(batch):
        if config.mix_probability > 0 and rng.random() < config.mix_probability:
            partners = np.flatnonzero((labels == labels[index]) & (np.arange(batch) != index))
            if partners.size:
                partner = windows[rng.choice(partners)]
                louder = partner[0] > out[index, 0]
                out[index, 1] = np.where(louder, partner[1], out[index, 1])
                out[index, 0] = mix_power(out[index, 0], partner[0], floor_db)
        shift = int(rng.integers(-config.max_bin_shift, config.max_bin_shift + 1))
        if shift:
            out[index] = np.roll(out[index], shift, axis=1)
            if shift > 0:
                out[index, 0, :shift] = -1.0
                out[index, 1, :shift] = 0.0
            else:
                out[index, 0, shift:] = -1.0
                out[index, 1, shift:] = 0.0
        gain = _db_to_units(rng.uniform(-config.gain_db, config.gain_db), floor_db)
        tilt = _db_to_units(rng.uniform(-config.tilt_db, config.tilt_db), floor_db)
        ramp = np.linspace(-0.5, 0.5, n_bins, dtype=np.float32)[:, None]
        power = out[index, 0]
        floor = power <= -1.0
        power += np.float32(gain) + np.float32(tilt) * ramp
        np.clip(power, -1.0, None, out=power)
        power[floor] = -1.0  # silence stays silence
    return out
