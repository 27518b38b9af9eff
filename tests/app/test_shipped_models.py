"""The bundled default models, loaded as the app loads them, on the bundled demo music."""

from __future__ import annotations

import numpy as np

from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.frontend import analyse_window, decode_file

DEMO = default_model_dir().parents[1] / "assets" / "demo" / "docks_excerpt.ogg"


def test_shipped_models_score_the_demo_against_their_own_prototypes():
    runtime = ModelRuntime(default_model_dir(), intra_op_threads=1)
    metadata = runtime.metadata
    assert metadata.categories == ("desert", "mountain", "sky", "water")
    assert set(metadata.eval_figures) == {"train", "validation", "music_all"}
    contract = metadata.frontend
    signal = decode_file(DEMO, contract.sample_rate)
    feature, scores = runtime.encode(analyse_window(signal, contract))
    prototypes = np.asarray(metadata.category_prototypes, np.float32)
    assert prototypes.shape == (4, metadata.feature_dim)
    np.testing.assert_allclose(scores, prototypes @ feature, atol=1e-4)
    noise = np.random.default_rng(0).standard_normal(metadata.noise_dim).astype(np.float32)
    image = runtime.generate(noise, feature)
    assert image.shape == (3, metadata.image_size, metadata.image_size)
    assert np.isfinite(image).all() and -1.0 <= image.min() < image.max() <= 1.0
