"""Picture attributes: known answers, their stats and the model-file key that carries them."""

import json

import numpy as np
import pytest

from tests.eval import tiny_models
from visualizer.model_files import METADATA_PREFIX, ModelFileError, ModelMetadata
from visualizer.picture_attributes import (
    ATTRIBUTE_NAMES,
    AttributeStats,
    category_request,
    lab_to_srgb,
    measure_attributes,
    srgb_to_lab,
)

MID_GREY_LIGHTNESS = 53.3890  # L* of sRGB (0.5, 0.5, 0.5)


def stats(categories: int = 2) -> AttributeStats:
    return AttributeStats(
        names=ATTRIBUTE_NAMES,
        mean=(50.0, 16.0, 0.0, 20.0),
        spread=(10.0, 8.0, 12.0, 5.0),
        category_mean=tuple(
            (50.0 + 10 * c, 16.0 - 8 * c, 12.0 * c, 20.0) for c in range(categories)
        ),
    )


def test_uniform_grey_has_no_chroma_no_contrast_and_its_known_lightness():
    grey = np.full((2, 8, 8, 3), 0.5)
    lightness, chroma, yellowness, contrast = measure_attributes(grey)[0]
    assert lightness == pytest.approx(MID_GREY_LIGHTNESS, abs=1e-3)
    assert chroma == pytest.approx(0.0, abs=1e-4)
    assert yellowness == pytest.approx(0.0, abs=1e-4)
    assert contrast == pytest.approx(0.0, abs=1e-9)


def test_half_black_half_white_has_contrast_fifty():
    image = np.zeros((1, 8, 8, 3))
    image[:, :, 4:] = 1.0
    lightness, chroma, _, contrast = measure_attributes(image)[0]
    assert lightness == pytest.approx(50.0, abs=1e-3)  # L* 0 and 100
    assert contrast == pytest.approx(50.0, abs=1e-3)
    assert chroma == pytest.approx(0.0, abs=1e-3)


def test_a_yellow_picture_is_yellow_and_saturated():
    yellow = np.zeros((1, 4, 4, 3))
    yellow[..., :2] = 1.0
    _, chroma, yellowness, _ = measure_attributes(yellow)[0]
    lab = srgb_to_lab(np.array([1.0, 1.0, 0.0]))
    assert yellowness == pytest.approx(lab[2], abs=1e-6) and yellowness > 90
    assert chroma == pytest.approx(np.hypot(lab[1], lab[2]), abs=1e-6)


def test_lab_round_trip_lives_here_and_feel_uses_the_same_conversion():
    from visualizer import feel

    rgb = np.random.default_rng(0).uniform(0, 1, (50, 3))
    assert np.abs(lab_to_srgb(srgb_to_lab(rgb)) - rgb).max() < 1e-9
    assert feel.srgb_to_lab is srgb_to_lab and feel.lab_to_srgb is lab_to_srgb


def test_measure_refuses_other_shapes():
    with pytest.raises(ValueError, match="N, H, W, 3"):
        measure_attributes(np.zeros((4, 4, 3)))


def test_stats_from_measurements_and_z_units():
    raw = np.array([[40.0, 10, -5, 15], [60.0, 30, 5, 25], [50.0, 20, 0, 20], [50.0, 20, 0, 20]])
    made = AttributeStats.from_measurements(raw, np.array([0, 0, 1, 1]), 2)
    assert made.mean == pytest.approx((50, 20, 0, 20))
    assert made.spread == pytest.approx(tuple(raw.std(axis=0)))
    assert made.category_mean[1] == pytest.approx((50, 20, 0, 20))
    assert made.to_z(raw[1]) == pytest.approx([1.4142136, 1.4142136, 1.4142136, 1.4142136])
    assert made.to_raw(made.to_z(raw)) == pytest.approx(raw)


def test_stats_round_trip_through_json():
    made = stats(3)
    assert AttributeStats.from_dict(json.loads(json.dumps(made.to_dict()))) == made


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"names": ["a", "b", "c", "d"]}, "names"),
        ({"mean": [50, 16, 0]}, "mean"),
        ({"mean": [150, 16, 0, 20]}, "mean of lightness"),
        ({"spread": [10, 0, 12, 5]}, "spread"),
        ({"spread": [10, float("nan"), 12, 5]}, "spread"),
        ({"category_mean": [[50, 16, 0, 20]]}, "category_mean"),
        ({"category_mean": [[50, 16, 0, 20], [50, -1, 0, 20]]}, "category_mean of chroma"),
        ({"category_mean": "none"}, "category_mean"),
    ],
)
def test_stats_out_of_range_are_refused_naming_the_key(change, message):
    values = stats().to_dict() | change
    with pytest.raises(ValueError, match=message):
        AttributeStats.from_dict(values)


def test_missing_keys_are_named():
    values = stats().to_dict()
    del values["spread"]
    with pytest.raises(ValueError, match="lacks spread"):
        AttributeStats.from_dict(values)


def test_category_request_is_the_weighted_typical_light_of_the_categories():
    made = stats(2)
    first, second = made.to_z(np.asarray(made.category_mean))
    assert category_request(np.array([1.0, 0.0]), made) == pytest.approx(first)
    assert category_request(np.array([0.25, 0.75]), made) == pytest.approx(
        0.25 * first + 0.75 * second
    )
    batch = category_request(np.array([[1.0, 0.0], [0.0, 1.0]]), made)
    assert batch.shape == (2, 4) and batch[1] == pytest.approx(second)
    with pytest.raises(ValueError, match="3 entries"):
        category_request(np.ones(3) / 3, made)


def _props(**change) -> dict[str, str]:
    meta = tiny_models.metadata()
    props = meta.to_props()
    for key, value in change.items():
        props[METADATA_PREFIX + key] = json.dumps(value)
    return props


def test_model_metadata_carries_picture_attributes_and_old_files_have_none():
    assert ModelMetadata.from_props(_props(), "generator.onnx").attribute_stats() is None
    made = stats(len(tiny_models.CATEGORIES))
    parsed = ModelMetadata.from_props(_props(picture_attributes=made.to_dict()), "generator.onnx")
    assert parsed.attribute_stats() == made
    assert ModelMetadata.from_props(parsed.to_props(), "generator.onnx") == parsed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "picture_attributes must be a JSON object"),
        (stats(len(tiny_models.CATEGORIES)).to_dict() | {"spread": [1, 1, 1, -1]}, "spread"),
        (stats(2).to_dict(), "one row per category"),
    ],
)
def test_model_metadata_refuses_bad_picture_attributes_naming_file_and_key(value, message):
    with pytest.raises(ModelFileError, match=message) as error:
        ModelMetadata.from_props(_props(picture_attributes=value), "generator.onnx")
    assert str(error.value).startswith("generator.onnx: musicscape.picture_attributes")
