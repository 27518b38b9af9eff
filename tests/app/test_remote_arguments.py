import math

import pytest

from visualizer.app.presets import PresetError, slot_number
from visualizer.app.remote_arguments import (
    QUOTED_CHARACTERS,
    category_value,
    number_value,
    quoted,
    switch_value,
    tap_value,
)


def test_switches_toggle_or_take_what_they_are_told():
    assert switch_value((), False) is True and switch_value((), True) is False
    assert switch_value((1,), False) is True and switch_value((0.0,), True) is False
    assert switch_value((7,), False) is True and switch_value((-0.5,), False) is True
    assert switch_value((True,), False) is True and switch_value((False,), True) is False
    assert switch_value(("ON",), False) is True and switch_value(("false",), True) is False


@pytest.mark.parametrize(
    "args, shown",
    [
        ((math.nan,), "[nan]"),
        ((math.inf,), "[inf]"),
        ((b"\x00\xff",), "[b'\\x00\\xff']"),  # an OSC blob is not a switch
        (("sky",), "['sky']"),
        (("",), "['']"),
    ],
)
def test_switches_refuse_what_is_not_on_or_off(args, shown):
    with pytest.raises(ValueError) as refused:
        switch_value(args, False)
    assert str(refused.value) == f"expected 0 / 1 (or nothing, to toggle), got {shown}"


def test_a_tap_is_nothing_or_nonzero_and_zero_forgets():
    assert (
        tap_value(()) is True
        and tap_value(
            (1,),
        )
        is True
        and tap_value((0.0,)) is False
    )
    with pytest.raises(ValueError) as refused:
        tap_value(("moon",))
    assert str(refused.value) == (
        "expected nothing or 1 (a tap), or 0 (forget the taps), got ['moon']"
    )


def test_numbers_in_range_only():
    assert number_value((2,), 0, 3) == 2.0 and number_value((0.25,), 0, 1) == 0.25
    for bad, shown in (((), "[]"), (("1",), "['1']"), ((True,), "[True]"), ((1, 2), "[1, 2]")):
        with pytest.raises(ValueError) as refused:
            number_value(bad, 0, 3)
        assert str(refused.value) == f"expected one number 0-3, got {shown}"
    for bad, shown in (((3.5,), "3.5"), ((-1,), "-1")):
        with pytest.raises(ValueError) as refused:
            number_value(bad, 0, 3)
        assert str(refused.value) == f"expected one number 0-3, got {shown}"
    with pytest.raises(ValueError) as refused:
        number_value((math.nan,), 0, 1)
    assert str(refused.value) == "expected one number 0-1, got [nan]"
    huge = 10**400  # an HTTP body's JSON integer no float holds
    for read in (lambda: number_value((huge,), 0, 3), lambda: switch_value((huge,), False)):
        with pytest.raises(ValueError):
            read()
    with pytest.raises(ValueError):
        category_value((huge,), ("sky", "desert"))
    with pytest.raises(PresetError):
        slot_number((huge,))


def test_categories_by_name_or_number():
    categories = ("sky", "desert")
    assert category_value(("desert",), categories) == 1
    assert category_value((1,), categories) == 0 and category_value((2.0,), categories) == 1
    for bad in ((), ("x",), (4,), (1.5,), (math.inf,), (True,), ("sky", "desert")):
        with pytest.raises(ValueError) as refused:
            category_value(bad, categories)
        assert str(refused.value) == (
            f"expected a category (sky, desert) or its number 1-2, got {quoted(bad)}"
        )


def test_a_long_argument_is_quoted_cut_short():
    long_text = "é" * 300
    assert quoted((long_text,)) == "['" + "é" * (QUOTED_CHARACTERS - 3) + "…"
    assert len(quoted((long_text,))) == QUOTED_CHARACTERS
    assert quoted(("sky", 2)) == "['sky', 2]"  # short ones whole
    with pytest.raises(ValueError) as refused:
        switch_value((long_text,), False)
    assert str(refused.value).endswith("é…") and len(str(refused.value)) < 100
    with pytest.raises(PresetError) as refused:
        slot_number((long_text,))
    assert str(refused.value) == f"expected a preset number 1-8, got {quoted((long_text,))}"
