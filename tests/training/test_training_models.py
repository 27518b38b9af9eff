import math

import pytest
import torch
import torch.nn.functional as F

from training.config import (
    DiscriminatorConfig,
    GeneratorConfig,
    ImageEncoderConfig,
    MusicEncoderConfig,
)
from training.losses import joint_embedding_loss
from training.models import (
    CategoryPulledGenerator,
    Discriminator,
    Generator,
    ImageEncoder,
    MusicEncoder,
)
from training.models.music_encoder import PatchStem


def test_dssje_loss_matches_hand_computed_value():
    music = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    images = torch.tensor([[2.0, 0.0], [0.0, 0.5]])
    labels = torch.tensor([0, 1])
    loss, figures = joint_embedding_loss(music, labels, images, labels, 2, margin=1.0)
    # music->image: scores [[2,0],[0,0.5]] -> hinge max(0,1+0-2)=0, max(0,1+0-0.5)=0.5; mean 0.25
    # image->music: scores [[2,0],[0,0.5]] (prototypes = music) -> same, 0.25
    assert figures["loss_music_to_image"] == pytest.approx(0.25)
    assert figures["loss_image_to_music"] == pytest.approx(0.25)
    assert float(loss) == pytest.approx(0.5)
    assert figures["music_accuracy"] == 1.0


def test_loss_refuses_a_batch_missing_a_category():
    x = torch.randn(2, 3)
    with pytest.raises(ValueError, match="lacks categories \\[2\\]"):
        joint_embedding_loss(x, torch.tensor([0, 1]), x, torch.tensor([0, 1]), 3)


@pytest.mark.parametrize("kind", ["dssje", "infonce"])
def test_loss_decreases_on_a_separable_toy(kind):
    generator = torch.Generator().manual_seed(0)
    centres = torch.randn(3, 8, generator=generator) * 3
    labels = torch.arange(3).repeat_interleave(4)
    music_net = torch.nn.Linear(8, 4)
    image_net = torch.nn.Linear(8, 4)
    optimiser = torch.optim.Adam([*music_net.parameters(), *image_net.parameters()], lr=0.05)
    losses = []
    for _ in range(60):
        music = centres[labels] + torch.randn(12, 8, generator=generator)
        images = -centres[labels] + torch.randn(12, 8, generator=generator)
        loss, figures = joint_embedding_loss(
            music_net(music), labels, image_net(images), labels, 3, kind=kind
        )
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert sum(losses[-10:]) / 10 < 0.25 * sum(losses[:5]) / 5
    assert figures["music_accuracy"] == 1.0 and figures["image_accuracy"] == 1.0


def test_music_encoder_shapes_and_gain_invariance():
    config = MusicEncoderConfig(
        channels=(4, 8), time_strides=(2,), fused_dim=8, lstm_hidden=8, feature_dim=16
    )
    encoder = MusicEncoder(config).eval()
    window = torch.rand(2, 2, 1024, 689) * 2 - 1
    louder = window.clone()
    louder[:, 0] += 0.2  # +10 dB on the power channel
    with torch.no_grad():
        assert encoder(window).shape == (2, 16)
        torch.testing.assert_close(encoder(louder), encoder(window), atol=1e-4, rtol=1e-4)


def test_the_patch_stem_trains_as_the_convolution_it_exports_as():
    torch.manual_seed(0)
    stem = PatchStem(2, 5, (4, 3))
    x = torch.randn(3, 2, 17, 23)  # neither side a multiple of the kernel: remainders dropped
    stem.eval()
    convolved = stem(x)
    expected = F.conv2d(x, stem.weight, stem.bias, stride=(4, 3))
    torch.testing.assert_close(convolved, expected, rtol=0, atol=0)
    assert convolved.shape == (3, 5, 4, 7)
    target = torch.randn(3, 5, 4, 7)
    F.conv2d(x, stem.weight, stem.bias, stride=(4, 3)).mul(target).sum().backward()
    conv_gradients = [stem.weight.grad.clone(), stem.bias.grad.clone()]
    stem.zero_grad()
    stem.train()
    multiplied = stem(x)
    torch.testing.assert_close(multiplied, expected, rtol=1e-5, atol=1e-5)
    multiplied.mul(target).sum().backward()
    torch.testing.assert_close(stem.weight.grad, conv_gradients[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(stem.bias.grad, conv_gradients[1], rtol=1e-5, atol=1e-5)
    assert list(stem.state_dict()) == ["weight", "bias"]  # a Conv2d's, so checkpoints load


def test_image_encoder_shape():
    encoder = ImageEncoder(ImageEncoderConfig(image_size=32, channels=(4,) * 5, hidden_dim=8))
    assert encoder(torch.rand(3, 3, 32, 32)).shape == (3, 1024)


@pytest.mark.parametrize("size", [64, 128])
def test_gan_builds_and_trains_a_step_at(size):
    g = Generator(GeneratorConfig(image_size=size, noise_dim=8, feature_dim=16, base_channels=4))
    d = Discriminator(
        DiscriminatorConfig(image_size=size, feature_dim=16, base_channels=4), n_classes=3
    )
    feature = torch.randn(2, 16)
    image = g(torch.randn(2, 8), feature)
    assert image.shape == (2, 3, size, size)
    assert float(image.abs().max()) <= 1.0
    match, category = d(image, feature)
    assert match.shape == (2,)
    assert category.shape == (2, 3)
    loss = F.binary_cross_entropy_with_logits(match, torch.ones(2))
    (loss + F.cross_entropy(category, torch.tensor([0, 2]))).backward()
    assert all(p.grad is not None for p in g.parameters())


def test_gan_refuses_a_size_that_is_not_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        Generator(GeneratorConfig(image_size=96))


def test_category_pull_moves_the_feature_toward_its_best_scoring_prototype():
    torch.manual_seed(0)
    generator = Generator(
        GeneratorConfig(image_size=16, noise_dim=8, feature_dim=3, base_channels=4)
    ).eval()
    prototypes = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    feature = torch.tensor([[0.2, 0.6, 0.3], [0.9, -0.1, 0.0]])  # best: category 1, then 0
    noise = torch.randn(2, 8)
    pulled = CategoryPulledGenerator(generator, prototypes, 0.25).eval()
    expected_feature = torch.tensor([[0.15, 0.7, 0.225], [0.925, -0.075, 0.0]])
    with torch.no_grad():
        torch.testing.assert_close(pulled(noise, feature), generator(noise, expected_feature))
        off = CategoryPulledGenerator(generator, prototypes, 0.0)
        torch.testing.assert_close(off(noise, feature), generator(noise, feature))
        full = CategoryPulledGenerator(generator, prototypes, 1.0)
        torch.testing.assert_close(full(noise, feature), generator(noise, prototypes[[1, 0]]))
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"category pull must be in \\[0, 1\\], got {bad}"):
            CategoryPulledGenerator(generator, prototypes, bad)
    with pytest.raises(ValueError, match="temperature must be > 0, got 0.0"):
        CategoryPulledGenerator(generator, prototypes, 0.5, temperature=0.0)


def test_the_category_pull_is_soft_between_categories():
    torch.manual_seed(0)
    generator = Generator(
        GeneratorConfig(image_size=16, noise_dim=8, feature_dim=3, base_channels=4)
    ).eval()
    prototypes = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    # Scores 0.5 and 0.49: weights softmax([25, 24.5]) = [0.6225, 0.3775] at 0.02.
    feature = torch.tensor([[0.5, 0.49, 0.2]])
    noise = torch.randn(1, 8)
    weight = 1.0 / (1.0 + math.exp(-0.5))
    target = torch.tensor([[weight, 1.0 - weight, 0.0]], dtype=torch.float32)
    pulled = CategoryPulledGenerator(generator, prototypes, 0.5).eval()
    with torch.no_grad():
        torch.testing.assert_close(
            pulled(noise, feature), generator(noise, feature + 0.5 * (target - feature))
        )


def test_pair_inconsistency_is_one_minus_the_pairs_cosine():
    from training.losses import pair_inconsistency

    features = torch.tensor(
        [[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]
    )
    # pairs: orthogonal (1), identical direction (0), opposite (2) -> mean 1
    assert pair_inconsistency(features).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="even number of rows"):
        pair_inconsistency(features[:5])


def test_centroid_figures_count_flips_between_consecutive_windows():
    import numpy as np

    from training.embedding import centroid_figures

    centroids = torch.eye(2)
    # track 0: categories 0 0 1 0 (2 flips in 3 pairs); track 1: 1 1 (0 flips in 1 pair)
    features = torch.tensor([[1.0, 0], [1, 0], [0, 1], [1, 0], [0, 1], [0, 1]])
    figures = centroid_figures(features, np.array([0, 0, 0, 0, 1, 1]),
                               np.array([0, 0, 0, 0, 1, 1]), centroids)  # fmt: skip
    assert figures["stability"] == pytest.approx(2 / 4)
    assert figures["window_accuracy"] == pytest.approx(5 / 6)
    assert figures["track_accuracy"] == 1.0 and figures["min_category_share"] == pytest.approx(0.5)


def test_spectral_discriminator_has_no_batchnorm_and_unit_spectral_norm_weights():
    torch.manual_seed(0)
    d = Discriminator(
        DiscriminatorConfig(
            image_size=16, feature_dim=8, base_channels=4, normalization="spectral"
        ),
        n_classes=3,
    )
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    for _ in range(50):  # each training-mode forward runs one power iteration per layer
        d(torch.randn(2, 3, 16, 16), torch.randn(2, 8))
    weighted = [m for m in d.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    # 2 strided convs, the music projection, 2 joint convs, the category classifier
    assert len(weighted) == 6
    for layer in weighted:
        matrix = layer.weight.detach().reshape(layer.weight.shape[0], -1)
        assert float(torch.linalg.matrix_norm(matrix, ord=2)) == pytest.approx(1.0, abs=0.02)


def test_batchnorm_discriminator_is_the_default_and_unknown_normalization_is_refused():
    assert DiscriminatorConfig().normalization == "batch"
    with pytest.raises(ValueError, match="discriminator.normalization"):
        DiscriminatorConfig(normalization="layer")
