"""Fuzzing the decoder: every damaged file is decoded or refused by name, within limits.

A seeded corpus (tests/frontend/decoder_fuzz.py) goes through AudioFileReader in a worker
process that decodes each file in a forked child with a CPU-time alarm and an address-space
cap: no file may hang, crash, raise anything but an AudioDecodeError naming it, decode to
non-finite or absurd levels, or take the child past 512 MB RSS.
"""

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.frontend.decoder_fuzz import BASES, CONTAINER_BASES, make_corpus
from visualizer.frontend.decode import MAX_SAMPLE_PEAK

REPO = Path(__file__).resolve().parents[2]
MAX_RSS_MB = 512


def fuzz(folder: Path, seed: int, count: int, containers: bool = False) -> list[dict]:
    paths = make_corpus(folder, seed, count, containers)
    worker = subprocess.run(
        [sys.executable, "-m", "tests.frontend.decoder_fuzz", str(folder)],
        cwd=REPO,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=60 + 2 * count,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    results = [json.loads(line) for line in worker.stdout.splitlines()]
    assert sorted(result["path"] for result in results) == sorted(map(str, paths))
    return results


def problems(results: list[dict]) -> list[dict]:
    """The results that break the rules, for the assertion message."""
    wrong = []
    for result in results:
        outcome = result["outcome"]
        if result["max_rss_mb"] > MAX_RSS_MB:
            wrong.append(result)
        elif outcome == "refused":
            if not result["message"].startswith(result["path"] + ": "):
                wrong.append(result)
        elif outcome == "decoded":
            plausible = result["finite"] and result["peak"] <= MAX_SAMPLE_PEAK
            if not plausible or result["samples"] != result["frames"] or not result["frames"]:
                wrong.append(result)
        else:  # "unexpected" (another exception) or "killed" (a crash or a hang)
            wrong.append(result)
    return wrong


def outcome_counts(results: list[dict]) -> dict[str, int]:
    counts = collections.Counter(
        result["outcome"] + (f" ({result['error']})" if "error" in result else "")
        for result in results
    )
    return dict(sorted(counts.items()))


def test_every_valid_base_file_decodes(tmp_path):
    results = fuzz(tmp_path / "corpus", seed=0, count=0)
    assert [result["outcome"] for result in results] == ["decoded"] * len(BASES), results
    assert not problems(results)


def test_a_few_hundred_damaged_files_are_each_decoded_or_refused_by_name(tmp_path):
    results = fuzz(tmp_path / "corpus", seed=0, count=300)
    assert not problems(results), problems(results)
    # The corpus is seeded and libsndfile comes pinned inside the soundfile wheel. Two of the
    # refused are Ogg Vorbis files cut short (one had decoded as a shorter file, one as empty).
    assert outcome_counts(results) == {
        "decoded": 191,
        "refused (CorruptAudioError)": 102,
        "refused (EmptyAudioError)": 4,
        "refused (UnsupportedAudioError)": 27,
    }


def test_damaged_mp4_webm_and_wma_files_are_each_decoded_or_refused_by_name(tmp_path):
    """The containers FFmpeg decodes through PyAV (AAC and ALAC in M4A, Opus in WebM, WMA):
    the valid ones decode, and no damaged one crashes, hangs or raises anything unnamed."""
    results = fuzz(tmp_path / "corpus", seed=0, count=120, containers=True)
    assert not problems(results), problems(results)
    bases = [result for result in results if Path(result["path"]).name.startswith("base_")]
    assert [result["outcome"] for result in bases] == ["decoded"] * len(CONTAINER_BASES)
    print(f"container fuzz, {len(results)} files: {outcome_counts(results)}")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_thousands_of_damaged_files_are_each_decoded_or_refused_by_name(tmp_path, seed):
    results = fuzz(tmp_path / "corpus", seed=seed, count=1500)
    assert not problems(results), problems(results)
    print(f"decoder fuzz seed {seed}, {len(results)} files: {outcome_counts(results)}")
