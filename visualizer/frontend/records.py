"""Dataclasses back from the plain dicts they were saved as (JSON files, checkpoints, model
metadata): the one `from_dict` of musicscape.

It sits in the front end, the bottom of the dependency order, so that the front-end
contract and everything above it (the training and judge configs) share it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def from_dict(cls: type[T], values: dict[str, Any]) -> T:
    """Rebuild dataclass `cls` from `values`: nested dataclasses and tuples rebuilt, an int
    where a float is expected widened, unknown keys refused. Keys listed in the class's
    RETIRED_KEYS (settings older files hold that no longer exist) are dropped."""
    retired = getattr(cls, "RETIRED_KEYS", ())
    values = {name: value for name, value in values.items() if name not in retired}
    known = {field.name: field for field in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        field = known[name]
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        if dataclasses.is_dataclass(default):
            kwargs[name] = from_dict(type(default), value)
        elif isinstance(default, tuple):
            kwargs[name] = tuple(value)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            kwargs[name] = float(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)
