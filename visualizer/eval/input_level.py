"""`musicscape eval --input-levels DB ...`: how the level a live input comes at moves the
scene, with and without the app's automatic gain (visualizer/frontend/level.py).

Each track is read as a microphone would hear it: scaled by each gain, then (a) analysed as
it is, and (b) run from its start through the app's `LevelFollower` toward the encoder's
`music_level_db`, in pieces of one 60-fps frame's samples as the app's worker hands them
over. Every window (up to `max_windows` a track, one window length apart, each alone) is
scored by the encoder; a window counts as the same scene when the encoder's category is
the one it gives the window at the file's own level with no gain. Also each way's mean
arousal (the feel, frontend/descriptors.py) and, with the gain, the gain each track ended
on. The figures measure how far the level moves the choice, not whether the choice fits.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from visualizer.eval.config import EvaluationError
from visualizer.eval.model_set import ModelSet
from visualizer.frontend import AudioDecodeError, AudioFileReader, analyse_window
from visualizer.frontend.descriptors import DescriptorAnalyser
from visualizer.frontend.level import LevelFollower

log = logging.getLogger(__name__)

APP_FRAME_RATE = 60  # the worker hands samples over one display frame at a time
DEFAULT_MAX_WINDOWS = 12
MIN_GAIN_DB = -100.0
MAX_GAIN_DB = 40.0


def _choices_and_arousal(
    signal: np.ndarray, starts: list[int], models: ModelSet, describer: DescriptorAnalyser
) -> tuple[np.ndarray, np.ndarray]:
    contract = models.contract
    windows = np.stack(
        [analyse_window(signal[s : s + contract.window_samples], contract) for s in starts]
    )
    (scores,) = models.encoder.run(["category_scores"], {"window": windows})
    arousal = np.array([describer.describe(window[0]).arousal for window in windows])
    return scores.argmax(axis=1), arousal


def input_level_figures(
    tracks: list[tuple[Path, int]],
    models: ModelSet,
    gains_db: list[float],
    max_windows: int = DEFAULT_MAX_WINDOWS,
) -> dict:
    """The figures of the module's docstring for `gains_db`, over `tracks`."""
    reference = models.encoder.metadata.music_level_db
    if reference is None:
        raise EvaluationError(
            f"{models.encoder.name}: its metadata names no music level (music_level_db), so "
            "there is no automatic gain to measure; add it with `musicscape export "
            "--music-level-only`"
        )
    bad = [gain for gain in gains_db if not MIN_GAIN_DB <= gain <= MAX_GAIN_DB]
    if bad:
        raise EvaluationError(
            f"--input-levels must be gains of {MIN_GAIN_DB:g} to {MAX_GAIN_DB:g} dB, got {bad}"
        )
    contract = models.contract
    describer = DescriptorAnalyser(contract)
    piece = round(contract.sample_rate / APP_FRAME_RATE)
    length = contract.window_samples
    same = {way: np.zeros(len(gains_db)) for way in ("without", "with")}
    arousal = {way: np.zeros(len(gains_db)) for way in ("without", "with")}
    end_gains: list[list[float]] = [[] for _ in gains_db]
    file_arousal, windows, measured = 0.0, 0, 0
    for path, _ in tracks:
        try:
            with AudioFileReader(path, contract.sample_rate) as reader:
                signal = reader.read(length * max_windows)
        except AudioDecodeError as error:
            log.warning("input levels: skipping %s", error)
            continue
        starts = list(range(0, max(1, len(signal) - length + 1), length))[:max_windows]
        base, base_arousal = _choices_and_arousal(signal, starts, models, describer)
        file_arousal += base_arousal.sum()
        windows += len(starts)
        measured += 1
        for index, gain in enumerate(gains_db):
            scaled = signal * np.float32(10.0 ** (gain / 20.0))
            follower = LevelFollower(contract.hop, contract.sample_rate)
            for way, heard in (
                ("without", scaled),
                ("with", follower.process_in_pieces(scaled, reference, piece)),
            ):
                choices, felt = _choices_and_arousal(heard, starts, models, describer)
                same[way][index] += np.sum(choices == base)
                arousal[way][index] += felt.sum()
            end_gains[index].append(follower.gain_db)
        log.info("input levels: %s: %d windows", path, len(starts))
    if windows == 0:
        raise EvaluationError("--input-levels: no track could be read")
    return {
        "gains_db": list(gains_db),
        "music_level_db": reference,
        "tracks": measured,
        "windows": windows,
        "file_level_arousal": float(file_arousal / windows),
        **{
            f"{way}_auto_level": {
                "same_scene": [float(x / windows) for x in same[way]],
                "mean_arousal": [float(x / windows) for x in arousal[way]],
            }
            for way in ("without", "with")
        },
        "mean_end_gain_db": [float(np.mean(gains)) for gains in end_gains],
    }


def format_input_levels(figures: dict) -> str:
    """The summary lines of `input_level_figures`."""
    gains = " / ".join(f"{gain:+g}" for gain in figures["gains_db"])

    def row(values: list[float], digits: int = 3, sign: str = "") -> str:
        return " / ".join(f"{value:{sign}.{digits}f}" for value in values)

    without, with_gain = figures["without_auto_level"], figures["with_auto_level"]
    return "\n".join(
        [
            f"input level {gains} dB ({figures['windows']} windows of {figures['tracks']} "
            f"tracks; the encoder's music level {figures['music_level_db']:g} dB)",
            "  same scene as at the file's level, without auto level: "
            + row(without["same_scene"]),
            "  same scene as at the file's level, with auto level:    "
            + row(with_gain["same_scene"]),
            f"  mean arousal without / with (file's level {figures['file_level_arousal']:+.2f}): "
            f"{row(without['mean_arousal'], 2, '+')}; {row(with_gain['mean_arousal'], 2, '+')}",
            f"  auto level's gain at each track's end, mean dB: "
            f"{row(figures['mean_end_gain_db'], 1, '+')}",
        ]
    )
