"""Numeric command-line options: the first value out of range is named in one line."""

import argparse
import math

from visualizer.options import NumericOption, first_problem

OPTIONS = (NumericOption("--rate", 1, 10, "Hz"), NumericOption("--count-max", 0, 5))


def test_values_in_range_and_absent_ones_pass():
    assert first_problem(argparse.Namespace(rate=1.0, count_max=5), OPTIONS) is None
    assert first_problem(argparse.Namespace(rate=None), OPTIONS) is None


def test_the_first_value_out_of_range_or_not_finite_is_named():
    args = argparse.Namespace(rate=math.nan, count_max=9)
    assert first_problem(args, OPTIONS) == "--rate must be 1-10 Hz, got nan"
    args = argparse.Namespace(rate=2.0, count_max=9)
    assert first_problem(args, OPTIONS) == "--count-max must be 0-5, got 9"
    args = argparse.Namespace(rate=math.inf, count_max=0)
    assert first_problem(args, OPTIONS) == "--rate must be 1-10 Hz, got inf"
