"""The front-end contract: its derived sizes and its round trip through plain dicts."""

import json

import pytest

from visualizer.frontend import FrontEndContract
from visualizer.frontend.contract import FRONTEND_VERSION


def test_round_trip_through_json():
    contract = FrontEndContract(n_bins=512, window_seconds=8.0)
    restored = FrontEndContract.from_dict(json.loads(json.dumps(contract.to_dict())))
    assert restored == contract
    assert restored.input_shape == (2, 512, 344)


def test_unknown_keys_are_refused():
    values = FrontEndContract().to_dict() | {"mel_bands": 64}
    with pytest.raises(ValueError, match="FrontEndContract: unknown keys mel_bands"):
        FrontEndContract.from_dict(values)


def test_a_newer_representation_is_refused():
    values = FrontEndContract().to_dict() | {"version": FRONTEND_VERSION + 1}
    with pytest.raises(ValueError, match="newer than this musicscape understands"):
        FrontEndContract.from_dict(values)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"hop": 4096}, "must not exceed n_fft"),
        ({"n_bins": 1026}, "n_bins must be in 1..1025"),
        ({"sample_rate": 0}, "must be positive"),
        ({"floor_db": 3.0}, "floor_db must be negative"),
        ({"window_seconds": 0.001}, "at least one hop"),
    ],
)
def test_inconsistent_contracts_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        FrontEndContract(**changes)
