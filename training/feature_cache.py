"""On-disk cache of front-end features per track, keyed by file content and contract.

A track's features (analyse_signal over the whole track) are stored as float16 .npy,
time first [F, 2, n_bins], named by sha256(file bytes + contract.to_dict()), so a later
epoch, run or process reuses them and a changed file or contract recomputes. The track is
decoded and analysed in streamed blocks written as they come, so memory stays bounded for
any length (a 3-hour track's features are 1.9 GB on disk, memory-mapped when read). Writes
are atomic (temp file + rename), so processes sharing a cache cannot read half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from visualizer.frontend import AudioFileReader, FrontEndContract, analyse_blocks

CACHE_FORMAT_VERSION = 2  # 1: [2, n_bins, F]
STREAM_BLOCK_SAMPLES = 1 << 18  # samples decoded and analysed at a time (12 s)


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
        """float16 [2, n_bins, F] for the track at `path` (a view of the memory-mapped file).

        Raises AudioDecodeError (or ValueError for a track shorter than one hop) when
        the file cannot be analysed; nothing is cached then.
        """
        target = self.folder / f"{cache_key(path, self.contract)}.npy"
        if target.exists():
            self.hits += 1
            return self._load(target)
        self.misses += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with (
                os.fdopen(handle, "wb") as stream,
                AudioFileReader(path, self.contract.sample_rate) as reader,
            ):
                frames = reader.frames // self.contract.hop
                if frames == 0:
                    raise ValueError(
                        f"{path}: {reader.frames} samples, shorter than one hop "
                        f"({self.contract.hop}); nothing to analyse"
                    )
                header = {
                    "descr": np.lib.format.dtype_to_descr(np.dtype("<f2")),
                    "fortran_order": False,
                    "shape": (frames, 2, self.contract.n_bins),
                }
                np.lib.format.write_array_header_1_0(stream, header)
                blocks = reader.blocks(STREAM_BLOCK_SAMPLES)
                for columns, _ in analyse_blocks(blocks, self.contract):
                    stream.write(columns.astype("<f2").tobytes())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
        return self._load(target)

    @staticmethod
    def _load(target: Path) -> np.ndarray:
        return np.load(target, mmap_mode="r").transpose(1, 2, 0)
