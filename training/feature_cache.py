"""On-disk cache of front-end features per track, keyed by file content and contract.

A track's features [2, n_bins, F] (analyse_signal over the whole track) are stored as
float16 .npy named by sha256(file bytes + contract.to_dict()), so a later epoch, run or
process reuses them and a changed file or contract recomputes. Writes are atomic
(temp file + rename), so processes sharing a cache cannot read half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from visualizer.frontend import FrontEndContract, analyse_signal, decode_file

CACHE_FORMAT_VERSION = 1


def cache_key(path: Path, contract: FrontEndContract) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    settings = {"contract": contract.to_dict(), "cache_format": CACHE_FORMAT_VERSION}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


class FeatureCache:
    def __init__(self, folder: Path, contract: FrontEndContract):
        self.folder = Path(folder)
        self.contract = contract
        self.hits = 0
        self.misses = 0

    def features(self, path: Path) -> np.ndarray:
        """float16 [2, n_bins, F] for the track at `path` (memory-mapped).

        Raises AudioDecodeError (or ValueError for a track shorter than one hop) when
        the file cannot be analysed; nothing is cached then.
        """
        target = self.folder / f"{cache_key(path, self.contract)}.npy"
        if target.exists():
            self.hits += 1
            return np.load(target, mmap_mode="r")
        self.misses += 1
        signal = decode_file(path, self.contract.sample_rate)
        features, _ = analyse_signal(signal, self.contract)
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                np.save(stream, features.astype(np.float16))
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return np.load(target, mmap_mode="r")
