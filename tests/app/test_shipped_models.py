"""The bundled default models, loaded as the app loads them, on the bundled demo music."""

from __future__ import annotations

import numpy as np

from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.frontend import analyse_window, decode_file
from visualizer.picture_attributes import ATTRIBUTE_NAMES, category_request, measure_attributes

DEMO = default_model_dir().parents[1] / "assets" / "demo" / "docks_excerpt.ogg"


def test_shipped_models_score_the_demo_against_their_own_prototypes():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    metadata = runtime.metadata
    assert metadata.categories == ("desert", "mountain", "sky", "water")
    assert set(metadata.eval_figures) == {"train", "validation", "music_all"}
    assert metadata.music_level_db == -17.34  # its training tracks' level (the model card)
    contract = metadata.frontend
    signal = decode_file(DEMO, contract.sample_rate)
    feature, scores = runtime.encode(analyse_window(signal, contract))
    prototypes = np.asarray(metadata.category_prototypes, np.float32)
    assert prototypes.shape == (4, metadata.feature_dim)
    np.testing.assert_allclose(scores, prototypes @ feature, atol=1e-4)
    noise = np.random.default_rng(0).standard_normal(metadata.noise_dim).astype(np.float32)
    image = runtime.generate(noise, feature)
    assert image.shape == (3, runtime.image_size, runtime.image_size)
    assert np.isfinite(image).all() and -1.0 <= image.min() < image.max() <= 1.0


def test_shipped_generator_draws_the_light_and_colour_it_is_asked_for():
    """Each attribute asked at -1.5 and +1.5 z (the others at the category's mean), 32 draws
    from each category's prototype: the drawn mean moves the asked way by over 1.5 z."""
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    stats = runtime.attribute_stats
    assert stats is not None and stats.names == ATTRIBUTE_NAMES
    assert set(runtime.generator.metadata.eval_figures) == {"train", "validation", "music_all"}
    prototypes = np.asarray(runtime.metadata.category_prototypes, np.float32)
    draws = 32
    features = np.repeat(prototypes, draws, axis=0)
    noise = (
        np.random.default_rng(2)
        .standard_normal((len(features), runtime.metadata.noise_dim))
        .astype(np.float32)
    )
    typical = np.repeat(category_request(np.eye(len(prototypes)), stats), draws, axis=0)
    for index, name in enumerate(ATTRIBUTE_NAMES):
        drawn = []
        for asked_z in (-1.5, 1.5):
            asked = typical.copy()
            asked[:, index] = asked_z
            feeds = {"noise": noise, "feature": features, "attributes": asked.astype(np.float32)}
            (images,) = runtime.generator.run(["image"], feeds)
            measured = stats.to_z(measure_attributes((images.transpose(0, 2, 3, 1) + 1) / 2))
            drawn.append(float(measured[:, index].mean()))
        assert drawn[1] - drawn[0] > 1.5, (name, drawn)
