"""STFT analysis: offline over a whole signal, and rolling over a live stream.

Both paths run the same `FrameAnalyser` on the same causal frames (see contract.py),
so a rolling window equals the offline analysis of the same samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import scipy.fft
import scipy.signal

from .contract import FrontEndContract


class FrameAnalyser:
    """Turns frames of samples into (log power, phase) columns and an onset value each.

    It is stateful only in the previous frame's phase and log power, which the
    instantaneous frequency and the spectral flux need.
    """

    def __init__(self, contract: FrontEndContract):
        self.contract = contract
        n_fft, n_bins = contract.n_fft, contract.n_bins
        self.window = scipy.signal.get_window(contract.window, n_fft).astype(np.float32)
        peak_amplitude = float(self.window.sum()) / 2.0  # |X| at the peak bin of a 0 dBFS sine
        self._inverse_reference = np.float32(1.0 / peak_amplitude**2)
        self._power_floor = np.float32(10.0 ** (contract.floor_db / 10.0))
        # log10(power) -> units: floor -> -1, 0 dB -> +1. One float32 rounding of the float64
        # product, so the floor lands exactly on -1 (10 * float32(0.02) rounds below 0.2).
        self._log10_to_unit = np.float32(10.0 * -2.0 / contract.floor_db)
        bins = np.arange(n_bins, dtype=np.float64)
        expected = 2.0 * np.pi * bins * contract.hop / n_fft
        self._expected_advance = np.mod(expected + np.pi, 2.0 * np.pi).astype(np.float32) - np.pi
        self.reset()

    def reset(self) -> None:
        """Forget the previous frame: the next frame follows silence."""
        n_bins = self.contract.n_bins
        self._previous_phase = np.zeros(n_bins, dtype=np.float32)
        self._previous_power = np.full(n_bins, -1.0, dtype=np.float32)

    def silent_column(self) -> np.ndarray:
        """The [2, n_bins] column a frame of digital silence produces (after silence)."""
        column = np.zeros((2, self.contract.n_bins), dtype=np.float32)
        column[0] = -1.0
        return column

    def analyse(self, frames: np.ndarray, out: np.ndarray, onset_out: np.ndarray) -> None:
        """Analyse `frames` [F, n_fft] into `out` [F, 2, n_bins] and `onset_out` [F]."""
        contract = self.contract
        spectrum = scipy.fft.rfft(frames * self.window, axis=-1)[:, : contract.n_bins]
        power = np.square(spectrum.real) + np.square(spectrum.imag)
        power *= self._inverse_reference
        np.maximum(power, self._power_floor, out=power)
        log_power = out[:, 0, :]
        np.log10(power, out=log_power)
        log_power *= self._log10_to_unit
        log_power += np.float32(1.0)
        # numpy's SIMD float32 log10 may land an ulp below the floor's exact log (on CPUs
        # with AVX-512, log10(float32(1e-10)) is -10.000001): power >= floor, so clamp.
        np.maximum(log_power, np.float32(-1.0), out=log_power)

        phase = np.angle(spectrum)
        advance = out[:, 1, :]
        advance[0] = phase[0] - self._previous_phase
        np.subtract(phase[1:], phase[:-1], out=advance[1:])
        advance -= self._expected_advance
        advance += np.float32(np.pi)
        np.mod(advance, np.float32(2.0 * np.pi), out=advance)
        advance -= np.float32(np.pi)
        advance *= np.float32(1.0 / np.pi)
        # Fade the phase out over the bottom phase_fade_db above the floor (noise and silence).
        fade_scale = np.float32(-contract.floor_db / contract.phase_fade_db / 2.0)
        fade = (log_power + np.float32(1.0)) * fade_scale  # (dB above the floor) / fade_db
        np.clip(fade, 0.0, 1.0, out=fade)
        advance *= fade

        # Spectral flux: mean positive rise of log power against the previous frame.
        rise = np.empty_like(log_power)
        rise[0] = log_power[0] - self._previous_power
        np.subtract(log_power[1:], log_power[:-1], out=rise[1:])
        np.maximum(rise, 0.0, out=rise)
        np.mean(rise, axis=1, out=onset_out)

        self._previous_phase = phase[-1].copy()
        self._previous_power = log_power[-1].copy()


def sanitize(signal: np.ndarray) -> tuple[np.ndarray, int]:
    """Return a float32 copy-or-view of `signal` with NaN/inf replaced by 0, and their count."""
    samples = np.asarray(signal, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"expected a mono signal (1-D), got shape {samples.shape}")
    finite = np.isfinite(samples)
    bad = int(samples.size - np.count_nonzero(finite))
    if bad:
        samples = np.where(finite, samples, np.float32(0.0))
    return samples, bad


def analyse_blocks(
    blocks: Iterable[np.ndarray], contract: FrontEndContract
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Offline analysis of a mono signal that arrives in blocks (a long file as it decodes).

    Yields (columns [k, 2, n_bins], onset [k]) for the causal frames each block completes
    (none for a block that completes none); joined, they are `analyse_signal` of the whole
    signal, time first. Memory stays that of one block. Non-finite samples are treated as 0.
    """
    analyser = FrameAnalyser(contract)
    hop, n_fft, n_bins = contract.hop, contract.n_fft, contract.n_bins
    context = n_fft - hop  # samples the next frame shares with the last (zeros at the start)
    tail = np.zeros(context, dtype=np.float32)
    for block in blocks:
        samples, _ = sanitize(block)
        stream = np.concatenate([tail, samples])
        count = (len(stream) - context) // hop
        if count:
            frames = np.lib.stride_tricks.sliding_window_view(stream, n_fft)[::hop][:count]
            columns = np.empty((count, 2, n_bins), dtype=np.float32)
            onset = np.empty(count, dtype=np.float32)
            analyser.analyse(frames, columns, onset)
            yield columns, onset
        tail = stream[count * hop :]


def analyse_signal(signal: np.ndarray, contract: FrontEndContract) -> tuple[np.ndarray, np.ndarray]:
    """Offline analysis of a whole mono signal at the contract's rate.

    Returns (features [2, n_bins, F], onset [F]) for every complete causal frame,
    F = len(signal) // hop. Non-finite samples are treated as 0.
    """
    samples, _ = sanitize(signal)
    if samples.size < contract.hop:
        raise ValueError(
            f"signal of {samples.size} samples is shorter than one hop ({contract.hop}); "
            "nothing to analyse"
        )
    columns, onset = next(analyse_blocks([samples], contract))
    return np.ascontiguousarray(columns.transpose(1, 2, 0)), onset


def analyse_window(signal: np.ndarray, contract: FrontEndContract) -> np.ndarray:
    """The model input [2, n_bins, n_frames] for the newest window of `signal`.

    A signal shorter than the window is preceded by whole frames of silence, as the rolling
    buffer is (the frame grid stays aligned to the signal's first sample).
    """
    samples, _ = sanitize(signal)
    missing_frames = contract.n_frames - len(samples) // contract.hop
    if missing_frames > 0:
        silence = np.zeros(missing_frames * contract.hop, np.float32)
        samples = np.concatenate([silence, samples])
    features, _ = analyse_signal(samples, contract)
    return np.ascontiguousarray(features[:, :, -contract.n_frames :])


class RollingSTFT:
    """Keeps the newest window of analysed frames of a live stream.

    `push` accepts blocks of any size, analyses only the frames they complete and writes
    each column twice into a ring of 2 * n_frames columns (friture's ring buffer), so the
    newest n_frames are always one slice. Before a whole window has arrived the older
    part holds the columns of silence; `filled_frames` says how many columns are real.
    """

    def __init__(self, contract: FrontEndContract):
        self.contract = contract
        self._analyser = FrameAnalyser(contract)
        n_frames, n_bins, n_fft = contract.n_frames, contract.n_bins, contract.n_fft
        # Time on the last axis, so a window read is a fast row-wise copy into the model's
        # [2, n_bins, n_frames] layout.
        self._ring = np.empty((2, n_bins, 2 * n_frames), dtype=np.float32)
        self._onset_ring = np.zeros(2 * n_frames, dtype=np.float32)
        self._context = n_fft - contract.hop  # samples the next frame shares with the last
        self._tail = np.zeros(n_fft, dtype=np.float32)  # context + not-yet-framed samples
        self._single_frame = np.empty((1, 2, n_bins), dtype=np.float32)
        self._single_onset = np.empty(1, dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the window returns to silence."""
        self._analyser.reset()
        self._ring[:] = self._analyser.silent_column()[:, :, None]
        self._onset_ring[:] = 0.0
        self._tail[:] = 0.0
        self._tail_fill = self._context
        self._write = 0  # next ring slot (0..n_frames-1)
        self.total_frames = 0
        self.total_samples = 0
        self.nonfinite_samples = 0

    @property
    def filled_frames(self) -> int:
        """How many of the window's columns come from real audio (the rest are silence)."""
        return min(self.total_frames, self.contract.n_frames)

    def push(self, block: np.ndarray) -> int:
        """Append mono samples; return how many new frames they completed."""
        samples, bad = sanitize(block)
        self.nonfinite_samples += bad
        count = samples.size
        if count == 0:
            return 0
        self.total_samples += count
        hop, n_fft = self.contract.hop, self.contract.n_fft
        needed = n_fft - self._tail_fill
        if count < needed:
            self._tail[self._tail_fill : self._tail_fill + count] = samples
            self._tail_fill += count
            return 0
        if count == needed:  # exactly one frame completes: analyse it in place
            self._tail[self._tail_fill :] = samples
            self._analyser.analyse(self._tail[None, :], self._single_frame, self._single_onset)
            self._store(self._single_frame, self._single_onset)
            self._tail[: self._context] = self._tail[hop:]
            self._tail_fill = self._context
            return 1
        stream = np.concatenate([self._tail[: self._tail_fill], samples])
        new_frames = (len(stream) - self._context) // hop
        windows = np.lib.stride_tricks.sliding_window_view(stream, n_fft)[::hop][:new_frames]
        columns = np.empty((new_frames, 2, self.contract.n_bins), dtype=np.float32)
        onset = np.empty(new_frames, dtype=np.float32)
        self._analyser.analyse(windows, columns, onset)
        self._store(columns, onset)
        rest = stream[new_frames * hop :]
        self._tail[: len(rest)] = rest
        self._tail_fill = len(rest)
        return new_frames

    def _store(self, columns: np.ndarray, onset: np.ndarray) -> None:
        n_frames = self.contract.n_frames
        self.total_frames += len(columns)
        keep = min(len(columns), n_frames)
        columns, onset = columns[-keep:], onset[-keep:]
        first = self._write
        split = min(keep, n_frames - first)
        self._write_span(first, columns[:split], onset[:split])
        if split < keep:
            self._write_span(0, columns[split:], onset[split:])
        self._write = (first + keep) % n_frames

    def _write_span(self, slot: int, columns: np.ndarray, onset: np.ndarray) -> None:
        n_frames, span = self.contract.n_frames, len(columns)
        as_time_last = columns.transpose(1, 2, 0)
        self._ring[:, :, slot : slot + span] = as_time_last
        self._ring[:, :, slot + n_frames : slot + n_frames + span] = as_time_last
        self._onset_ring[slot : slot + span] = onset
        self._onset_ring[slot + n_frames : slot + n_frames + span] = onset

    def window_view(self) -> np.ndarray:
        """The newest n_frames columns, oldest first: a zero-copy [2, n_bins, n_frames] view."""
        return self._ring[:, :, self._write : self._write + self.contract.n_frames]

    def window(self, out: np.ndarray | None = None) -> np.ndarray:
        """The model input: a C-contiguous float32 [2, n_bins, n_frames] copy of the window."""
        if out is None:
            out = np.empty(self.contract.input_shape, dtype=np.float32)
        np.copyto(out, self.window_view())
        return out

    def onset(self) -> np.ndarray:
        """Spectral flux of the newest n_frames frames, oldest first (a zero-copy view)."""
        return self._onset_ring[self._write : self._write + self.contract.n_frames]

    def latest_columns(self, count: int) -> np.ndarray:
        """The newest `count` columns as a [2, n_bins, count] view, oldest first."""
        count = min(count, self.contract.n_frames)
        stop = self._write + self.contract.n_frames
        return self._ring[:, :, stop - count : stop]
