"""The one photo reader refuses a photo whose header claims gigapixels, naming it."""

import pytest

from tests.bad_files import write_png_claiming
from visualizer.photos import PhotoReadError, read_photo


def test_a_png_claiming_20000_by_20000_pixels_is_refused_by_name(tmp_path):
    path = write_png_claiming(tmp_path / "huge.png", 20_000, 20_000)
    with pytest.raises(
        PhotoReadError,
        match=rf"^{path}: refused, too large to decode safely \(Image size \(400000000 pixels\)",
    ):
        read_photo(path, 16)


def test_a_png_of_ordinary_size_with_the_same_construction_reads(tmp_path):
    path = write_png_claiming(tmp_path / "small.png", 4, 4)
    assert read_photo(path, 2).shape == (2, 2, 3)
