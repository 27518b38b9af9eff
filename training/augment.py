"""Music window augmentation on front-end features [B, 2, n_bins, n_frames] (numpy).

Power is in the contract's units (floor_db -> -1, 0 dB -> +1), so a gain of g dB adds
g * 2 / -floor_db. Augmentations: gain, spectral tilt (EQ), a pitch shift (the frequency
axis stretched by 2^(s/12), so harmonics move together as in a transposition; a constant
bin offset would move a bass note by octaves), and mixing two windows of the same category
(power-domain sum).
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


def pitch_shift(window: np.ndarray, semitones: float) -> np.ndarray:
    """[2, n_bins, T] with bin k taking the value at bin k / 2^(semitones/12) (linear
    interpolation); bins whose source lies above the top read as silence."""
    n_bins = window.shape[1]
    source = np.arange(n_bins, dtype=np.float32) / np.float32(2.0 ** (semitones / 12.0))
    lower = np.minimum(source.astype(np.int64), n_bins - 1)
    upper = np.minimum(lower + 1, n_bins - 1)
    weight = (source - lower)[None, :, None].astype(np.float32)
    shifted = window[:, lower]  # [2, n_bins, T], new arrays from here on
    step = window[:, upper]
    step -= shifted
    step *= weight
    shifted += step  # lower + weight * (upper - lower), without further temporaries
    beyond = source > n_bins - 1
    shifted[0, beyond] = -1.0
    shifted[1, beyond] = 0.0
    return shifted.astype(window.dtype, copy=False)


def gain_and_tilt(power: np.ndarray, gain_db: float, tilt_db: float, floor_db: float) -> None:
    """In place on log power [n_bins, T] (contract units): add `gain_db` and a spectral tilt
    of `tilt_db` from the lowest bin to the highest (-tilt/2 .. +tilt/2); silence stays
    silence and nothing falls below the floor."""
    ramp = np.linspace(-0.5, 0.5, power.shape[0], dtype=np.float32)[:, None]
    floor = power <= -1.0
    power += np.float32(_db_to_units(gain_db, floor_db))
    power += np.float32(_db_to_units(tilt_db, floor_db)) * ramp
    np.clip(power, -1.0, None, out=power)
    power[floor] = -1.0


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
    batch = out.shape[0]
    for index in range(batch):
        if config.mix_probability > 0 and rng.random() < config.mix_probability:
            partners = np.flatnonzero((labels == labels[index]) & (np.arange(batch) != index))
            if partners.size:
                partner = windows[rng.choice(partners)]
                louder = partner[0] > out[index, 0]
                out[index, 1] = np.where(louder, partner[1], out[index, 1])
                out[index, 0] = mix_power(out[index, 0], partner[0], floor_db)
        if config.max_semitones > 0:
            out[index] = pitch_shift(
                out[index], rng.uniform(-config.max_semitones, config.max_semitones)
            )
        gain = rng.uniform(-config.gain_db, config.gain_db)
        tilt = rng.uniform(-config.tilt_db, config.tilt_db)
        gain_and_tilt(out[index, 0], gain, tilt, floor_db)
    return out
