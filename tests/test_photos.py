"""The one photo reader: refuses a photo whose header claims gigapixels, naming it, and
reads a real photo to the same pixels as before resizing had its own home."""

import hashlib
from pathlib import Path

import numpy as np
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


# sha256 of read_photo's pixels for a real photo, computed once with the reader as it was
# before resizing moved to visualizer/resize.py (Pillow's Lanczos on the cropped photo).
REAL_PHOTO = "mountain/mp_mountain_train_00000001.jpg"
REAL_PHOTO_DIGESTS = {
    16: "e6b5edcfee7d6b4dde16c08201746731e2863e27478adebc61eab6946e518435",
    64: "f684019188824491991ae7706c4f0d86c7b6107d4587df4c37ce013034b59e79",
    128: "eb87c3002c9ff4f1eb50a8dd2bf0d3355f0f783874d9190ad17be89c37403a5d",
    200: "fe46b8225e344163af58767aff681fcd88039762fd995a1e01b6478430125c1e",
}


@pytest.mark.parametrize("size", sorted(REAL_PHOTO_DIGESTS))
def test_a_real_photo_reads_to_the_same_pixels_as_before(size):
    path = Path(__file__).resolve().parents[2] / "shared/data/scenes" / REAL_PHOTO
    if not path.is_file():
        pytest.skip(f"the scene photos are not next to this checkout ({path})")
    pixels = read_photo(path, size)
    assert pixels.shape == (size, size, 3) and pixels.dtype == np.uint8
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == REAL_PHOTO_DIGESTS[size]
