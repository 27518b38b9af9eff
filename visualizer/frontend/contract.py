"""The audio front end's contract: every number that turns samples into model input.

Training, export and the app all build their analysis from one `FrontEndContract`;
an exported model carries `to_dict()` in its ONNX metadata so the app analyses audio
exactly as the model was trained.

Representation (channel 0 = power, channel 1 = phase), both per frame and frame-local,
so a rolling window equals an offline analysis of the same samples:

- Frames are causal: frame i covers the n_fft samples that end at sample (i + 1) * hop,
  with zeros before the first sample. A frame exists as soon as its last sample arrived.
- power: 10*log10(|X|^2 / ref), where ref is the peak-bin power of a full-scale sine
  (so a 0 dBFS sine reads 0 dB), floored at `floor_db` and mapped linearly so that
  `floor_db` -> -1 and 0 dB -> +1. A fixed mapping (not per-window max) keeps every frame
  independent of the others; loudness invariance is left to gain augmentation in training.
- phase: instantaneous-frequency deviation. The raw phase of a bin is uniformly random
  frame to frame and carries nothing a CNN can learn; its advance between consecutive
  frames, minus the advance expected at the bin's centre frequency (2*pi*k*hop/n_fft),
  wrapped to [-pi, pi) and divided by pi, measures where inside the bin the energy sits
  and is stable for steady tones (as in GANSynth's IF representation). It is faded to 0
  over the bottom `phase_fade_db` above the floor, so silence and noise-floor bins read 0
  instead of random values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .records import from_dict

FRONTEND_VERSION = 1


@dataclass(frozen=True)
class FrontEndContract:
    sample_rate: int = 22_050
    n_fft: int = 2048
    hop: int = 512
    window: str = "hann"
    n_bins: int = 1024
    window_seconds: float = 16.0
    floor_db: float = -100.0
    phase_fade_db: float = 20.0
    version: int = FRONTEND_VERSION

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop <= 0:
            raise ValueError(f"sample_rate, n_fft and hop must be positive: {self}")
        if self.hop > self.n_fft:
            raise ValueError(f"hop ({self.hop}) must not exceed n_fft ({self.n_fft})")
        if not 1 <= self.n_bins <= self.n_fft // 2 + 1:
            raise ValueError(f"n_bins must be in 1..{self.n_fft // 2 + 1}, got {self.n_bins}")
        if self.window_seconds <= 0 or self.n_frames < 1:
            raise ValueError(f"window_seconds must hold at least one hop: {self.window_seconds}")
        if self.floor_db >= 0 or self.phase_fade_db <= 0:
            raise ValueError("floor_db must be negative and phase_fade_db positive")

    @property
    def window_samples(self) -> int:
        """Samples in one analysis window (16 s at 22,050 Hz = 352,800)."""
        return round(self.window_seconds * self.sample_rate)

    @property
    def n_frames(self) -> int:
        """Frames in one analysis window: every frame whose last sample lies inside it (689)."""
        return self.window_samples // self.hop

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Shape of one model input window: (channels, bins, frames) = (2, 1024, 689)."""
        return (2, self.n_bins, self.n_frames)

    @property
    def frame_seconds(self) -> float:
        return self.hop / self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FrontEndContract:
        """Rebuild a contract, refusing unknown keys and a newer representation version."""
        version = int(values.get("version", FRONTEND_VERSION))
        if version > FRONTEND_VERSION:
            raise ValueError(
                f"front-end contract version {version} is newer than this musicscape "
                f"understands ({FRONTEND_VERSION}); upgrade musicscape"
            )
        return from_dict(cls, values)
