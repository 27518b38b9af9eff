"""The training music's level (visualizer/frontend/level.py) written into an encoder file.

`run_metadata` measures it for every new export; `musicscape export --music-level-only
--encoder FILE --out DIR` adds it to a file exported before the metadata held it, measured
on the training tracks that file's own metadata lists, under `--data` (default: the data
root the metadata names). The weights are copied unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError

from visualizer.frontend import FrontEndContract
from visualizer.frontend.level import file_level_db, music_level_db
from visualizer.model_files import METADATA_PREFIX, ModelFileError, ModelMetadata

MUSIC_LEVEL_KEY = METADATA_PREFIX + "music_level_db"
LEVEL_DECIMALS = 2


def tracks_level_db(paths: Iterable[Path], contract: FrontEndContract) -> float:
    """The music level of the audio files at `paths` (ValueError when all are silent)."""
    return round(music_level_db(file_level_db(path, contract) for path in paths), LEVEL_DECIMALS)


def write_music_level(encoder_path: Path, out_path: Path, data_root: Path | None) -> float:
    """Copy `encoder_path` to `out_path` with its training tracks' level in its metadata;
    return the level."""
    encoder_path = Path(encoder_path)
    try:
        model = onnx.load(str(encoder_path))
    except (OSError, DecodeError) as error:
        raise ModelFileError(f"{encoder_path}: not a readable ONNX file ({error})") from error
    props = {entry.key: entry.value for entry in model.metadata_props}
    metadata = ModelMetadata.from_props(props, str(encoder_path))
    tracks = metadata.training_data.get("train_tracks")
    if not isinstance(tracks, list) or not tracks:
        raise ModelFileError(
            f"{encoder_path}: its metadata lists no training tracks "
            f"({METADATA_PREFIX}training_data.train_tracks) to measure the level of"
        )
    root = Path(data_root or metadata.training_data.get("data_root", "."))
    paths = [root / str(track) for track in tracks]
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of the encoder's {len(paths)} training tracks are not under "
            f"{root} (first: {missing[0]}); pass the data root with --data"
        )
    try:
        level = tracks_level_db(paths, metadata.frontend)
    except ValueError as error:
        raise ModelFileError(f"{encoder_path}: its training tracks: {error}") from error
    entries = {entry.key: entry for entry in model.metadata_props}
    entry = entries.get(MUSIC_LEVEL_KEY) or model.metadata_props.add()
    entry.key, entry.value = MUSIC_LEVEL_KEY, json.dumps(level)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    part = out_path.with_name(out_path.name + ".part")
    onnx.save_model(model, str(part), save_as_external_data=False)
    part.replace(out_path)
    return level
