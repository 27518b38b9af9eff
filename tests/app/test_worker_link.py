"""The worker link without a window: the settings the first worker starts with, commands kept
for the next worker, and the analysis ring rebuilt only for another rate."""

from __future__ import annotations

from PyQt6.QtCore import QObject

from visualizer.app.frame_worker import SetReactivity, SetSceneMemory, WorkerSettings
from visualizer.app.worker_link import RING_SECONDS, WorkerLink, first_worker_settings


def test_the_command_line_wins_over_the_remembered_controls_where_it_gave_one(settings):
    settings.reactivity = 2.0
    settings.feel_strength = 0.4
    settings.scene_memory_seconds = 12.0
    remembered = first_worker_settings(settings, None, None)
    assert remembered.reactivity == 2.0 and remembered.feel_strength == 0.4
    assert remembered.scene_memory_seconds == 12.0
    given = WorkerSettings(fps=30.0, scene_memory_seconds=3.0)
    chosen = first_worker_settings(settings, given, 0.9)
    assert chosen.fps == 30.0 and chosen.scene_memory_seconds == 3.0
    assert chosen.feel_strength == 0.9 and chosen.reactivity == 2.0


def test_commands_without_a_worker_are_kept_for_the_next(qtbot, tmp_path):
    link = WorkerLink(QObject(), tmp_path, WorkerSettings())
    link.send(SetReactivity(2.5))
    link.send(SetSceneMemory(4.0))
    assert link.worker is None
    assert link.worker_settings.reactivity == 2.5
    assert link.worker_settings.scene_memory_seconds == 4.0


def test_the_ring_is_rebuilt_only_for_another_rate(qtbot, tmp_path):
    link = WorkerLink(QObject(), tmp_path, WorkerSettings())
    ring = link.ring
    assert link.ensure_ring() is ring and ring.sample_rate == link.contract.sample_rate
    other = link.ensure_ring(48_000)
    assert other is not ring and other.sample_rate == 48_000
    assert link.ensure_ring(48_000) is other
    assert link.ensure_ring().sample_rate == link.contract.sample_rate
    assert other.capacity == int(RING_SECONDS * 48_000)
