"""The one [-1, 1] <-> uint8 conversion."""

import numpy as np

from visualizer.pixels import to_uint8, to_unit


def test_every_level_survives_the_round_trip():
    levels = np.arange(256, dtype=np.uint8)
    unit = to_unit(levels)
    assert unit.dtype == np.float32 and unit[0] == -1.0 and unit[-1] == 1.0
    np.testing.assert_array_equal(to_uint8(unit), levels)


def test_values_round_to_the_nearest_level_and_clip():
    values = np.array([-2.0, -1.0, -1.0 + 0.6 * 2 / 255, -1.0 + 0.4 * 2 / 255, 0.0, 1.0, 3.0])
    np.testing.assert_array_equal(to_uint8(values), [0, 0, 1, 0, 128, 255, 255])


def test_into_a_preallocated_array():
    out = np.zeros((2, 2), dtype=np.uint8)
    result = to_uint8(np.array([[1.0, -1.0], [0.999, -0.999]], np.float32), out)
    assert result is out
    np.testing.assert_array_equal(out, [[255, 0], [255, 0]])
