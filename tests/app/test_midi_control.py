"""MIDI learn: the binding logic with real mido messages, bindings persisting in a real
QSettings file, the running window driven through the stage's MIDI slot and its state fed
back to the bound controls, and real ports where ALSA has a sequencer (a clear message where
it has none, as in containers and CI)."""

from __future__ import annotations

import os
import time

import mido
import pytest

from visualizer.app.app_settings import settings_from_file
from visualizer.app.midi_control import (
    ALSA_SEQUENCER,
    RESCAN_MS,
    FeedbackLedger,
    MidiBindings,
    MidiControl,
    MidiInput,
    MidiUnavailable,
    feedback_message,
    feedback_outputs,
    targets,
)
from visualizer.app.scene_director import AUTO, BIAS, HOLD, SceneMode

HAS_SEQUENCER = os.path.exists(ALSA_SEQUENCER)
TIMEOUT_MS = 10_000


def cc(control, value, channel=0):
    return mido.Message("control_change", channel=channel, control=control, value=value)


def note(number, velocity=100, channel=9):
    kind = "note_on" if velocity else "note_off"
    return mido.Message(kind, channel=channel, note=number, velocity=velocity)


@pytest.fixture
def store(tmp_path):
    return settings_from_file(str(tmp_path / "midi.ini"))


def test_a_learnt_knob_drives_its_continuous_control_over_its_whole_range(store):
    bindings = MidiBindings(store)
    assert bindings.handle(cc(7, 10)) is None  # nothing bound yet
    bindings.learn("reactivity")
    assert bindings.handle(cc(7, 90)) is None and bindings.learning is None  # bound by it
    assert bindings.control_of("reactivity") == MidiControl("cc", 0, 7)
    assert bindings.handle(cc(7, 0)) == ("reactivity", (0.0,))
    assert bindings.handle(cc(7, 127)) == ("reactivity", (3.0,))
    assert bindings.handle(cc(7, 127, channel=1)) is None  # another channel: another control
    bindings.learn("scene_memory")
    bindings.handle(cc(8, 0))
    assert bindings.handle(cc(8, 127)) == ("scene_memory", (120.0,))


def test_a_fader_drives_the_master_and_a_knob_the_blackout_fade(store):
    bindings = MidiBindings(store)
    bindings.learn("master")
    bindings.handle(cc(1, 64))
    bindings.learn("blackout_fade")
    bindings.handle(cc(2, 64))
    assert [bindings.handle(cc(1, value)) for value in (0, 127)] == [
        ("master", (0.0,)),
        ("master", (1.0,)),
    ]
    assert bindings.handle(cc(2, 127)) == ("blackout_fade", (10.0,))


def test_pads_and_buttons_fire_once_per_press(store):
    bindings = MidiBindings(store)
    bindings.learn("hold 2")
    bindings.handle(note(36))
    assert bindings.handle(note(36, 0)) is None  # the release of the learnt pad
    assert bindings.handle(note(36, 100)) == ("hold", (2,))
    assert bindings.handle(note(36, 0)) is None
    bindings.learn("blackout")
    bindings.handle(cc(64, 127))  # a sustain pedal
    assert bindings.handle(cc(64, 0)) is None
    assert bindings.handle(cc(64, 127)) == ("blackout", ())
    assert bindings.handle(cc(64, 120)) is None  # still down: no second press
    assert [bindings.handle(cc(64, v)) for v in (40, 70, 100)] == [None, ("blackout", ()), None]


def test_a_control_learnt_again_moves_and_bindings_persist(store, tmp_path):
    bindings = MidiBindings(store)
    bindings.learn("next")
    bindings.handle(note(40))
    bindings.learn("next")  # learnt again on another pad: the old one is freed
    bindings.handle(note(41))
    bindings.learn("bias 9")
    bindings.handle(cc(20, 127))
    again = MidiBindings(settings_from_file(str(tmp_path / "midi.ini")))
    assert again.bindings == {
        MidiControl("note", 9, 41): "next",
        MidiControl("cc", 0, 20): "bias 9",
    }
    assert again.handle(note(40)) is None and again.handle(note(41)) == ("next", ())
    store.setValue("midi/bindings", "cc/0/1=reactivity;garbage;cc/x/2=next;note/0/5=fly")
    assert MidiBindings(store).bindings == {MidiControl("cc", 0, 1): "reactivity"}


def test_every_continuous_control_and_category_key_can_be_bound():
    names = targets()
    assert {"reactivity", "scene_memory", "auto", "blackout", "next", "record"} <= set(names)
    assert {"on_beat", "titles", "link", "ndi", "picture"} <= set(names)
    assert {f"hold {n}" for n in range(1, 10)} | {f"bias {n}" for n in range(1, 10)} <= set(names)
    with pytest.raises(ValueError, match="no control 'volume'"):
        MidiBindings(settings_from_file(os.devnull)).learn("volume")


def test_the_window_learns_and_follows_midi(qtbot, make_window, model_dir, settings):
    window = make_window(model_dir)
    stage = window.stage
    stage.learn_midi("hold 3")
    assert not stage.learn_button.isEnabled()
    stage.on_midi_message(note(38), time.perf_counter())
    assert stage.learn_button.isEnabled()
    assert stage.midi_label.text().startswith("hold 3 ← note 38 (channel 10)")
    stage.on_midi_message(note(38), time.perf_counter())
    assert window.settings.scene_mode == HOLD and window.settings.scene_category == "mountain"
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=TIMEOUT_MS
    )
    stage.learn_midi("reactivity")
    stage.on_midi_message(cc(1, 0), time.perf_counter())
    stage.on_midi_message(cc(1, 127), time.perf_counter())
    assert window.settings.reactivity == 3.0 and window.panel.reactivity.value() == 300
    stage.learn_midi("hold 9")  # these models have 4 categories
    stage.on_midi_message(note(50), time.perf_counter())
    stage.on_midi_message(note(50), time.perf_counter())
    assert window.faults["remote"].startswith("MIDI hold: expected a category")
    later = make_window(model_dir)  # the bindings outlive the window
    assert later.stage.midi_bindings.control_of("hold 3") == MidiControl("note", 9, 38)


def learnt(store, *pairs):
    """Bindings learnt as a user learns them: each target, then its control's message."""
    bindings = MidiBindings(store)
    for target, message in pairs:
        bindings.learn(target)
        bindings.handle(message)
    return bindings


def test_feedback_shows_each_bound_control_what_the_show_does(store):
    bindings = learnt(
        store,
        ("master", cc(7, 0)),
        ("crossfade", cc(8, 0)),
        ("feel", note(40)),  # a pad on a continuous control: no value to show on it
        ("blackout", note(36)),
        ("record", cc(20, 127)),
        ("auto", note(37)),
        ("hold 2", note(38)),
        ("bias 2", note(39)),
        ("preset 3", note(41)),
        ("tap", note(42)),  # lit on a beat
        ("next", note(43)),  # next and picture have no state
    )
    values = {"master": 0.5, "crossfade": 20.0, "feel": 1.0, "blackout": 1.0, "record": 0.0}
    shown = bindings.feedback(values, (HOLD, 2), {3})
    assert shown == {
        MidiControl("cc", 0, 7): 64,  # 63.5 rounds to the even 64
        MidiControl("cc", 0, 8): 127,
        MidiControl("note", 9, 36): 127,
        MidiControl("cc", 0, 20): 0,
        MidiControl("note", 9, 37): 0,
        MidiControl("note", 9, 38): 127,
        MidiControl("note", 9, 39): 0,
        MidiControl("note", 9, 41): 127,
        MidiControl("note", 9, 42): 0,
    }
    assert (
        bindings.feedback(values, (HOLD, 2), {3}, on_beat=True)[MidiControl("note", 9, 42)] == 127
    )
    values |= {"master": 0.0, "crossfade": 0.3, "blackout": 0.0, "record": 1.0}
    assert bindings.feedback(values, (AUTO, 0), set()) == {
        MidiControl("cc", 0, 7): 0,
        MidiControl("cc", 0, 8): 0,
        MidiControl("note", 9, 36): 0,
        MidiControl("cc", 0, 20): 127,
        MidiControl("note", 9, 37): 127,
        MidiControl("note", 9, 38): 0,
        MidiControl("note", 9, 39): 0,
        MidiControl("note", 9, 41): 0,
        MidiControl("note", 9, 42): 0,
    }
    assert bindings.feedback(values, (BIAS, 2), set())[MidiControl("note", 9, 39)] == 127


def test_feedback_is_a_note_on_or_a_control_change_as_the_control_was_learnt():
    assert feedback_message(MidiControl("note", 9, 36), 127) == mido.Message(
        "note_on", channel=9, note=36, velocity=127
    )
    assert feedback_message(MidiControl("note", 9, 36), 0) == mido.Message(
        "note_on", channel=9, note=36, velocity=0
    )  # how a pad's light goes out on the common controllers
    assert feedback_message(MidiControl("cc", 2, 7), 64) == mido.Message(
        "control_change", channel=2, control=7, value=64
    )


def test_feedback_goes_to_a_controller_s_other_half_never_to_a_through_port():
    inputs = ["Midi Through:Midi Through Port-0 14:0", "APC40 mkII:APC40 mkII MIDI 1 20:0", "pads"]
    outputs = [
        "Midi Through:Midi Through Port-0 14:0",
        "APC40 mkII:APC40 mkII MIDI 1 20:0",
        "synth:synth MIDI 1 24:0",
    ]
    assert feedback_outputs(inputs, outputs) == ["APC40 mkII:APC40 mkII MIDI 1 20:0"]


def test_only_changes_go_out_and_a_hand_s_own_move_is_not_sent_back():
    pad, fader = MidiControl("note", 9, 36), MidiControl("cc", 0, 7)
    ledger = FeedbackLedger()
    ledger.opened("apc")
    assert ledger.changes("apc", {pad: 127, fader: 64}) == [(pad, 127), (fader, 64)]
    assert ledger.changes("apc", {pad: 127, fader: 64}) == []
    assert ledger.changes("apc", {pad: 0, fader: 64}) == [(pad, 0)]
    ledger.heard(fader, 20)  # the fader moved by hand, the show follows it
    assert ledger.changes("apc", {pad: 0, fader: 20}) == []
    assert ledger.changes("apc", {pad: 0, fader: 21}) == [(fader, 21)]  # moved from elsewhere
    ledger.closed("apc")  # unplugged, then plugged in again: it gets everything
    ledger.opened("apc")
    assert ledger.changes("apc", {pad: 0, fader: 21}) == [(pad, 0), (fader, 21)]


def test_the_window_s_state_is_what_its_bound_controls_are_shown(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    stage = window.stage
    for target, message in (("blackout", note(36)), ("hold 3", note(38)), ("master", cc(7, 0))):
        stage.learn_midi(target)
        stage.on_midi_message(message, time.perf_counter())
    pad, hold, fader = (
        MidiControl("note", 9, 36),
        MidiControl("note", 9, 38),
        MidiControl("cc", 0, 7),
    )
    assert stage.midi_feedback() == {pad: 0, hold: 0, fader: 127}
    stage.perform("blackout", (1,))  # from anywhere: a key, OSC, the desk
    stage.perform("master", (0.25,))
    window.set_scene(HOLD, 2)
    qtbot.waitUntil(
        lambda: window.worker.settings.scene_mode == SceneMode(HOLD, 2), timeout=TIMEOUT_MS
    )
    assert stage.midi_feedback() == {pad: 127, hold: 127, fader: 32}
    stage.learn_midi("tap")
    stage.on_midi_message(note(42), time.perf_counter())
    tap = MidiControl("note", 9, 42)
    assert stage.midi_feedback()[tap] == 0
    before = time.perf_counter()
    stage.beat(12.5)  # the worker found a beat: the tap pad flashes for a tenth of a second
    shown = stage.midi_feedback()[tap]
    if time.perf_counter() - before < 0.1:  # (a machine that stalled this long: not lit)
        assert shown == 127
    qtbot.waitUntil(lambda: stage.midi_feedback()[tap] == 0, timeout=TIMEOUT_MS)
    assert time.perf_counter() - before >= 0.1


@pytest.mark.skipif(HAS_SEQUENCER, reason="this machine has an ALSA sequencer")
def test_without_a_sequencer_midi_says_so_plainly(make_window, model_dir):
    with pytest.raises(MidiUnavailable) as error:
        MidiInput()
    assert str(error.value) == (
        "MIDI is off: this machine has no ALSA sequencer (/dev/snd/seq is missing; load the "
        "snd-seq kernel module, or run where the sound devices are visible)"
    )
    window = make_window(model_dir)
    assert not window.stage.open_midi()
    assert window.stage.midi_label.text().endswith(str(error.value))
    assert "remote" not in window.faults  # the app runs on without MIDI
    window.stage.beats.set_midi_clock(True)  # followed (and remembered), but nothing can send it
    assert window.stage.beats.midi_clock_label.text() == (
        "no MIDI inputs (MIDI above says why): beats from the music"
    )


@pytest.mark.skipif(not HAS_SEQUENCER, reason=f"no ALSA sequencer ({ALSA_SEQUENCER} missing)")
def test_a_real_virtual_port_reaches_the_window(qtbot, make_window, model_dir):
    mido.set_backend("mido.backends.rtmidi")
    with mido.open_output("musicscape-test-controller", virtual=True) as controller:
        time.sleep(0.2)
        window = make_window(model_dir)
        assert window.stage.open_midi()
        assert "musicscape-test-controller" in window.stage.midi_label.text()
        window.stage.learn_midi("reactivity")
        controller.send(cc(11, 0))
        qtbot.waitUntil(lambda: window.stage.learn_button.isEnabled(), timeout=TIMEOUT_MS)
        controller.send(cc(11, 127))
        qtbot.waitUntil(lambda: window.settings.reactivity == 3.0, timeout=TIMEOUT_MS)


@pytest.mark.skipif(not HAS_SEQUENCER, reason=f"no ALSA sequencer ({ALSA_SEQUENCER} missing)")
def test_a_port_plugged_in_mid_show_is_found_and_one_unplugged_let_go(
    qtbot, make_window, model_dir
):
    mido.set_backend("mido.backends.rtmidi")
    window = make_window(model_dir)
    assert window.stage.open_midi()
    assert "musicscape-late-controller" not in window.stage.midi_label.text()
    with mido.open_output("musicscape-late-controller", virtual=True) as controller:
        qtbot.waitUntil(
            lambda: "musicscape-late-controller" in window.stage.midi_label.text(),
            timeout=3 * RESCAN_MS,
        )
        window.stage.learn_midi("feel")
        controller.send(cc(12, 0))
        qtbot.waitUntil(lambda: window.stage.learn_button.isEnabled(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: "musicscape-late-controller" not in window.stage.midi_label.text(),
        timeout=3 * RESCAN_MS,
    )
