"""The one from_dict: dataclasses back from the dicts they were saved as."""

import dataclasses
import json
from typing import ClassVar

import pytest

from training.config import TrainConfig, tiny_config
from visualizer.frontend.records import from_dict


@dataclasses.dataclass(frozen=True)
class Inner:
    rate: float = 1.5
    sizes: tuple[int, ...] = (1, 2)


@dataclasses.dataclass(frozen=True)
class Outer:
    RETIRED_KEYS: ClassVar[tuple[str, ...]] = ("old",)

    inner: Inner = dataclasses.field(default_factory=Inner)
    name: str | None = None


def test_nested_tuples_and_widened_numbers_come_back():
    restored = from_dict(Outer, {"inner": {"rate": 2, "sizes": [3, 4, 5]}, "name": "x"})
    assert restored == Outer(Inner(2.0, (3, 4, 5)), "x")
    assert isinstance(restored.inner.rate, float)


def test_unknown_keys_are_refused_and_retired_ones_dropped():
    with pytest.raises(ValueError, match="Inner: unknown keys colour, size$"):
        from_dict(Inner, {"colour": 1, "size": 2})
    assert from_dict(Outer, {"old": 0.1}) == Outer()


def test_a_training_config_survives_json():
    config = tiny_config()
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
