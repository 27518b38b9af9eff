"""Music for eval: the tracks of a subset, decoded and analysed in streamed blocks, and
their windows' encoder features and category scores."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from visualizer.eval.config import STREAM_BLOCK_SAMPLES, SUBSETS, EvalConfig, EvaluationError
from visualizer.eval.model_set import ModelSet
from visualizer.folders import AUDIO_EXTENSIONS, category_file_key, find_category_files
from visualizer.frontend import (
    AudioDecodeError,
    AudioFileReader,
    FrontEndContract,
    analyse_blocks,
    analyse_window,
)
from visualizer.frontend.descriptors import DescriptorAnalyser
from visualizer.model_files import PROBE_KEY, ModelMetadata
from visualizer.scene_memory import remembered_sequence

log = logging.getLogger(__name__)


@dataclass
class TrackResult:
    path: Path
    category: int  # music category index (encoder order)
    features: np.ndarray  # [W, feature_dim] through the scene memory
    retrieved: np.ndarray  # [W] category index per window, through the scene memory
    window_retrieved: np.ndarray  # [W] category index of each window alone
    arousal: np.ndarray  # [W] the music's feel per window (frontend/descriptors.py)
    valence: np.ndarray  # [W]


@dataclass
class MusicEvaluation:
    tracks: list[TrackResult] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    # tracks with NaN/inf samples (read as silence): {"path", "samples"}
    nonfinite: list[dict[str, str | int]] = field(default_factory=list)


def track_windows(reader: AudioFileReader, contract: FrontEndContract, hop_frames: int):
    """Yield the [2, n_bins, n_frames] windows of the track `reader` reads, one every
    `hop_frames` frames, decoding and analysing it in streamed blocks (memory stays that of
    a window and a block, whatever the track's length).

    A track shorter than one window gives one window preceded by silence (as the app's
    rolling buffer shows it); longer tracks give every whole window from the start.
    """
    head = reader.read(contract.window_samples)
    if len(head) < contract.window_samples:
        yield analyse_window(head, contract)
        return
    n_frames = contract.n_frames
    kept = np.zeros((0, 2, contract.n_bins), dtype=np.float32)  # frames from `first` on
    first = next_start = 0
    blocks = itertools.chain([head], reader.blocks(STREAM_BLOCK_SAMPLES))
    for columns, _ in analyse_blocks(blocks, contract):
        kept = np.concatenate([kept, columns])
        while next_start + n_frames <= first + len(kept):
            offset = next_start - first
            yield kept[offset : offset + n_frames].transpose(1, 2, 0)
            next_start += hop_frames
        dropped = min(next_start - first, len(kept))
        kept, first = kept[dropped:], first + dropped


def select_tracks(
    music_dir: Path, models: ModelSet, subset: str
) -> tuple[list[tuple[Path, int]], list[dict[str, str]]]:
    """(track, category index) under `music_dir` for `subset`, and the files skipped."""
    if subset not in SUBSETS:
        raise EvaluationError(f"subset must be one of {', '.join(SUBSETS)}, got {subset!r}")
    found = find_category_files(music_dir, AUDIO_EXTENSIONS)
    unknown = [name for name in found.categories if name not in models.categories]
    if unknown:
        raise EvaluationError(
            f"{music_dir}: music categories {unknown} are not among the model's categories "
            f"{list(models.categories)}"
        )
    wanted: set[str] | None = None
    if subset != "all":
        key = f"{subset}_tracks"
        listed = models.encoder.metadata.training_data.get(key)
        if not isinstance(listed, list):
            raise EvaluationError(
                f"{models.encoder.name}: metadata training_data has no '{key}' list, so "
                f"--subset {subset} cannot be selected; use --subset all"
            )
        wanted = {category_file_key(entry) for entry in listed}
    tracks = []
    for name in found.categories:
        index = models.categories.index(name)
        for path in found.files[name]:
            if wanted is None or category_file_key(path) in wanted:
                tracks.append((path, index))
    skipped = [
        {"path": str(path), "reason": reason}
        for path, reason in found.skipped
        if path.relative_to(music_dir).parts[0] in found.categories
    ]
    return tracks, skipped


def heard_by_probe(tracks: list[tuple[Path, int]], encoder: ModelMetadata) -> list[str]:
    """Of `tracks`, those (as "category/file") that the category probe inside the encoder of
    metadata `encoder` was fitted on although the encoder held them out (a probe fitted on
    every labelled track): on them the figures are not those of unheard music."""
    probe = encoder.training_data.get(PROBE_KEY) or {}
    heard = {category_file_key(entry) for entry in probe.get("heard_validation_tracks", [])}
    named = (category_file_key(path) for path, _ in tracks)
    return sorted(name for name in named if name in heard)


def encode_tracks(
    tracks: list[tuple[Path, int]], models: ModelSet, config: EvalConfig, memory_seconds: float
) -> MusicEvaluation:
    """Decode, analyse and encode every window of every track (streamed: memory does not grow
    with a track's length), each track's features read through a scene memory of
    `memory_seconds`; a track that cannot be decoded, at its start or anywhere later, is
    skipped and listed with the reason."""
    contract = models.contract
    hop_frames = max(1, round(contract.n_frames * config.window_hop_fraction))
    hop_seconds = hop_frames * contract.frame_seconds
    result = MusicEvaluation()
    describer = DescriptorAnalyser(contract)
    for number, (path, category) in enumerate(tracks, start=1):
        features, scores, feels = [], [], []
        pending: list[np.ndarray] = []
        try:
            with AudioFileReader(path, contract.sample_rate) as reader:
                windows = track_windows(reader, contract, hop_frames)
                for window in itertools.chain(windows, [None]):
                    if window is not None:
                        pending.append(window)
                        described = describer.describe(window[0])
                        feels.append((described.arousal, described.valence))
                    if pending and (window is None or len(pending) == config.batch):
                        feature, score = models.encoder.run(
                            ["feature", "category_scores"], {"window": np.stack(pending)}
                        )
                        features.append(feature)
                        scores.append(score)
                        pending = []
                if reader.nonfinite_samples:
                    result.nonfinite.append(
                        {"path": str(path), "samples": reader.nonfinite_samples}
                    )
        except AudioDecodeError as error:
            log.warning("skipping track: %s", error)
            result.skipped.append({"path": str(path), "reason": str(error)})
            continue
        window_scores = np.concatenate(scores)
        remembered_features, remembered_scores = remembered_sequence(
            np.concatenate(features), window_scores, memory_seconds, hop_seconds
        )
        result.tracks.append(
            TrackResult(
                path,
                category,
                remembered_features,
                remembered_scores.argmax(axis=1),
                window_scores.argmax(axis=1),
                np.asarray([a for a, _ in feels]),
                np.asarray([v for _, v in feels]),
            )
        )
        log.info("eval: track %d/%d %s: %d windows", number, len(tracks), path, len(window_scores))
    return result
