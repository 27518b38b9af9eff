"""The key-blind tonal and rhythm summary of a music window, as a torch module.

One implementation serves the probes' cross-validation (`training.probe`) and the category
probe exported inside music_encoder.onnx (`training.models.category_probe`), so what was
cross-validated is what ships. Built from the front end's contract and its descriptor
analyser (the chroma's bins and the power units), in float32.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from visualizer.frontend import FrontEndContract
from visualizer.frontend.descriptors import KRUMHANSL_MAJOR, KRUMHANSL_MINOR, DescriptorAnalyser

# Edges of the lag bands of the onset autocorrelation: 50 ms to 2.8 s, 16 bands a constant
# ratio apart (a tempo histogram).
RHYTHM_LAG_EDGE_SECONDS = np.geomspace(0.05, 2.8, 17)
RHYTHM_BANDS = 8
TONAL_SIZE = 12 + 6 + 3 + 1
# The softmax temperature over the 24 keys' correlations that picks the key: a key ahead by
# 0.01 takes 99% of the weight (a major triad's key leads its relative minor by about 0.02),
# and keys all but tied share it, so the summary has no jump where two keys swap (which
# float rounding alone would decide, differently in torch and ONNX Runtime).
KEY_TEMPERATURE = 0.002
# The least spread a probe standardises a summary value by: in real music each value varies
# by 0.02 or more over windows (the shipped training windows' smallest: 0.0196); one that
# varies less carries nothing a probe should magnify past float precision, where torch and
# ONNX Runtime differ by up to ~1e-6.
SUMMARY_SCALE_FLOOR = 1e-2


def _key_profiles() -> np.ndarray:
    """[24, 12] the Krumhansl major then minor profiles rotated to each tonic (C = 0),
    centred and scaled to unit length: their dot product with a centred chroma over its
    length is the Pearson correlation."""
    rotations = np.stack(
        [np.roll(profile, k) for profile in (KRUMHANSL_MAJOR, KRUMHANSL_MINOR) for k in range(12)]
    )
    rotations = rotations - rotations.mean(axis=1, keepdims=True)
    return rotations / np.linalg.norm(rotations, axis=1, keepdims=True)


def _spread(values: torch.Tensor) -> torch.Tensor:
    """Standard deviation over the last axis (ddof 0) from the centred values: exported
    ONNX Runtime's std of a constant row can come out as the root of a tiny negative."""
    centred = values - values.mean(dim=-1, keepdim=True)
    return centred.square().mean(dim=-1).sqrt()


class TonalRhythmSummary(nn.Module):
    """[B, 2, n_bins, T] windows -> [B, 22 + lag bands + RHYTHM_BANDS + 2], blind to the key:
    the normalised chroma rotated so that the best-matching key's tonic (Krumhansl major or
    minor profile) is first [12], the chroma's DFT magnitudes (unchanged by transposition)
    [6], the three best key correlations [3], whether that key is minor [1] (the best key
    chosen softly, KEY_TEMPERATURE); then the
    autocorrelation of the onset strength (mean rise of log power), its largest value in
    each band of lags between RHYTHM_LAG_EDGE_SECONDS, the spread over time of log power in
    RHYTHM_BANDS bands, and the spectral flatness's mean and spread over time [2]. Tempo,
    metre, scale and timbre's movement, with no absolute pitch, which says nothing about a
    scene. Reads the power channel only."""

    def __init__(self, contract: FrontEndContract):
        super().__init__()
        analyser = DescriptorAnalyser(contract)
        # The natural log of the linear power per contract unit above 1 (0 dB): linear power
        # = exp(log_gain * (u - 1)), and the floor, u = -1, reads as floor_power (the
        # descriptors read it as 0; the chroma takes it off).
        self.log_gain = analyser.units_to_db * math.log(10.0) / 10.0
        self.magnitude_scale = math.exp(-self.log_gain / 2.0)
        # the linear power the front end's floor (floor_db, 1e-10 at -100 dB) stands for
        self.floor_power = 10.0 ** (contract.floor_db / 10.0)
        self.floor_magnitude_sum = math.sqrt(self.floor_power) * contract.n_frames
        frames_per_second = contract.sample_rate / contract.hop
        edges = np.round(RHYTHM_LAG_EDGE_SECONDS * frames_per_second).astype(np.int64)
        self.lag_edges = np.unique(edges)
        self.max_lag = int(self.lag_edges[-1])
        chroma_weights = analyser.chroma_weights().T  # [n_bins, 12]
        in_chroma = np.flatnonzero(chroma_weights.any(axis=1))
        self.chroma_bins = (int(in_chroma[0]), int(in_chroma[-1]) + 1)
        low, high = self.chroma_bins
        self.register_buffer("chroma_weights", torch.tensor(chroma_weights[low:high]).float())
        bin_mean_row = torch.full((1, contract.n_bins), 1.0 / contract.n_bins)
        self.register_buffer("bin_mean_row", bin_mean_row)
        self.register_buffer("time_sum_column", torch.ones(contract.n_frames, 1))
        time_mean_column = torch.full((contract.n_frames, 1), 1.0 / contract.n_frames)
        self.register_buffer("time_mean_column", time_mean_column)
        self.register_buffer("key_profiles", torch.tensor(_key_profiles().T).float())  # [12, 24]
        harmonics = np.arange(1, 7)[None, :] * np.arange(12)[:, None] * 2 * np.pi / 12
        self.register_buffer("dft_cos", torch.tensor(np.cos(harmonics)).float())  # [12, 6]
        self.register_buffer("dft_sin", torch.tensor(np.sin(harmonics)).float())
        band_means = np.zeros((contract.n_bins, RHYTHM_BANDS))
        for band, bins in enumerate(np.array_split(np.arange(contract.n_bins), RHYTHM_BANDS)):
            band_means[bins, band] = 1.0 / bins.size
        self.register_buffer("band_means", torch.tensor(band_means).float())
        rotations = np.zeros((24, 12, 12))  # [key, out, in]: out i reads in (i + tonic) % 12
        for key in range(24):
            rotations[key, np.arange(12), (np.arange(12) + key % 12) % 12] = 1.0
        self.register_buffer("rotations", torch.tensor(rotations).float())

    @property
    def size(self) -> int:
        return TONAL_SIZE + self.lag_edges.size - 1 + RHYTHM_BANDS + 2

    def tonal(self, growth: torch.Tensor) -> torch.Tensor:
        low, high = self.chroma_bins
        # sum over time of each bin's magnitude above the floor's (which adds nothing, as in
        # the descriptors): magnitude = sqrt(linear) = sqrt(growth) * exp(-log_gain / 2)
        roots = growth[:, low:high].sqrt() @ self.time_sum_column  # [B, chroma bins, 1]
        magnitude = roots.squeeze(2) * self.magnitude_scale - self.floor_magnitude_sum
        chroma = F.relu(magnitude) @ self.chroma_weights  # [B, 12]
        chroma = chroma / chroma.sum(dim=1, keepdim=True).clamp_min(1e-12)
        centred = chroma - chroma.mean(dim=1, keepdim=True)
        length = centred.norm(dim=1, keepdim=True).clamp_min(1e-30)
        keys = (centred @ self.key_profiles) / length  # [B, 24]: C..B major, C..B minor
        key_weights = torch.softmax(keys / KEY_TEMPERATURE, dim=1)  # [B, 24]
        # each key's rotation of the chroma (its tonic first), weighted by the key's share
        tonic_first = torch.einsum("bk,kij,bj->bi", key_weights, self.rotations, chroma)
        harmonics = ((chroma @ self.dft_cos).square() + (chroma @ self.dft_sin).square()).sqrt()
        best_three = torch.topk(keys, 3, dim=1).values  # [B, 3], largest first
        minor = key_weights[:, 12:].sum(dim=1, keepdim=True)  # [B, 1]
        return torch.cat([tonic_first, harmonics, best_three, minor], dim=1)

    def _bin_mean(self, values: torch.Tensor) -> torch.Tensor:
        """[B, n_bins, T] -> [B, T]: the mean over bins, as a product with a row of 1 / n_bins
        (ONNX Runtime reduces a middle axis several times slower)."""
        return (self.bin_mean_row @ values).squeeze(1)

    def rhythm(self, power: torch.Tensor, growth: torch.Tensor) -> torch.Tensor:
        onset = self._bin_mean(F.relu(power[:, :, 1:] - power[:, :, :-1]))  # [B, T - 1]
        onset = onset - onset.mean(dim=1, keepdim=True)
        frames, lags = onset.shape[1], self.max_lag + 1
        # row l of `shifted` is the onset l frames on (zeros past its end): the padded onset
        # repeated and read in rows one longer than it, so each row starts one frame later
        # (a copy, where a gather of every lag took ten times as long in ONNX Runtime)
        padded = F.pad(onset, (0, lags))  # [B, P = T - 1 + max_lag + 1]
        period = padded.shape[1]
        repeated = padded.repeat(1, lags + 1)[:, : lags * (period + 1)]  # [B, lags * (P + 1)]
        shifted = repeated.reshape(-1, lags, period + 1)[:, :, :frames]  # [B, lags, T - 1]
        autocorrelation = (shifted * onset[:, None, :]).sum(dim=2)  # [B, max_lag + 1]
        autocorrelation = autocorrelation / autocorrelation[:, :1].clamp_min(1e-12)
        lagged = torch.stack(
            [
                autocorrelation[:, low:high].amax(dim=1)
                for low, high in zip(self.lag_edges[:-1], self.lag_edges[1:], strict=True)
            ],
            dim=1,
        )  # [B, lag bands]
        # each bin's spread over time, the means as products with a column of 1 / T (which
        # ONNX Runtime runs faster than reductions), from the centred values (a mean square
        # less a squared mean loses the spread of quiet bins to float32 cancellation)
        centred = power - power @ self.time_mean_column  # [B, n_bins, T]
        spread = (centred.square() @ self.time_mean_column).squeeze(2).sqrt()  # [B, n_bins]
        movement = spread @ self.band_means  # [B, RHYTHM_BANDS]
        # flatness: the geometric mean of the linear power over its arithmetic mean, per frame;
        # log linear = log_gain * (power - 1), so the geometric mean needs no logarithm
        geometric = torch.exp(self.log_gain * (self._bin_mean(power) - 1.0))  # [B, T]
        arithmetic = self._bin_mean(growth) * math.exp(-self.log_gain)
        flatness = geometric / arithmetic.clamp_min(self.floor_power)
        flat = torch.stack([flatness.mean(dim=1), _spread(flatness)], dim=1)
        return torch.cat([lagged, movement, flat], dim=1)

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        # [B, n_bins, T] contract units (a slice: exported, `window[:, 0]` is a slower gather)
        power = window.narrow(1, 0, 1).squeeze(1)
        growth = torch.exp(power * self.log_gain)  # linear power * exp(log_gain)
        return torch.cat([self.tonal(growth), self.rhythm(power, growth)], dim=1)
