"""The scene remembered for each track: a listener's correction that sticks.

On music the models never heard the category is right for about 4 windows in 10 (the model
card's cross-validation), so a listener who holds or biases a scene while one of their
tracks plays (a file, or a named track another desktop player plays into an input,
now_playing.py) has told the app what that track is. That choice is kept for the track, and
the next time it plays it starts in that scene; going back to auto while it plays forgets it.

A track is known by its tags (title, artist, album) when it has a title, so it keeps its
scene when the library moves or is copied, and whether it is streamed or played from a
file; a file without a title by its name and size in bytes. The scenes are kept in the
user's settings as JSON (never pickle), the category by name, the most recently chosen
last; past MAX_REMEMBERED_TRACKS the oldest choice is dropped. A stored value that is not
such a list (edited by hand, or from a later version) reads as nothing remembered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from visualizer.frontend.decode import TrackTags

from .scene_director import BIAS, HOLD

MAX_REMEMBERED_TRACKS = 1000


def tags_key(tags: TrackTags) -> str | None:
    """What a track is known by when its tags have a title (a file's, or what a desktop
    player says it plays: the same track either way); None without a title."""
    if not tags.title:
        return None
    # a tag is one line of printable text: a tab cannot be in one
    return "tags:" + "\t".join((tags.title, tags.artist, tags.album))


def track_key(path: Path, tags: TrackTags) -> str:
    """What a file is known by: its tags when it has a title, else its name and size (its
    name alone when it cannot be read, as when it went while it played)."""
    if tags.title:
        return tags_key(tags)
    try:
        return f"file:{path.name}:{path.stat().st_size}"
    except OSError:
        return f"file:{path.name}"


@dataclass(frozen=True)
class TrackScene:
    mode: str  # HOLD or BIAS
    category: str  # by name, so a retrained model with the same categories keeps it


class TrackScenes:
    """The remembered scenes, read from and written to their JSON text."""

    def __init__(self, text: str = ""):
        self._scenes: dict[str, TrackScene] = _parse(text)

    def __len__(self) -> int:
        return len(self._scenes)

    def scene(self, key: str) -> TrackScene | None:
        return self._scenes.get(key)

    def remember(self, key: str, scene: TrackScene) -> None:
        self._scenes.pop(key, None)  # a choice made again is the newest
        self._scenes[key] = scene
        while len(self._scenes) > MAX_REMEMBERED_TRACKS:
            del self._scenes[next(iter(self._scenes))]

    def forget(self, key: str) -> bool:
        return self._scenes.pop(key, None) is not None

    def to_json(self) -> str:
        return json.dumps(
            [[key, scene.mode, scene.category] for key, scene in self._scenes.items()],
            ensure_ascii=False,
        )


def _parse(text: str) -> dict[str, TrackScene]:
    try:
        rows = json.loads(text) if text else []
    except json.JSONDecodeError:
        return {}
    if not isinstance(rows, list):
        return {}
    scenes: dict[str, TrackScene] = {}
    for row in rows:
        if (
            isinstance(row, list)
            and len(row) == 3
            and all(isinstance(value, str) for value in row)
            and row[1] in (HOLD, BIAS)
            and row[2]
        ):
            scenes.pop(row[0], None)
            scenes[row[0]] = TrackScene(row[1], row[2])
    return dict(list(scenes.items())[-MAX_REMEMBERED_TRACKS:])
