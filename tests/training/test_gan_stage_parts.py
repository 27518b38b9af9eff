import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from training.config import GanStageConfig
from training.gan_stage import (
    fixed_pattern_penalty,
    gan_learning_rate,
    lecam_penalty,
    r1_penalty,
    sample_figures,
    write_grid,
)
from training.spectrum import luma_second_differences
from training.weight_average import EqualWeightAverage, WeightAverage, recalibrate_batch_norm


def constant_linear(value: float) -> nn.Linear:
    layer = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.fill_(value)
    return layer


def test_average_follows_the_warm_up_then_the_set_decay():
    average = WeightAverage(constant_linear(0.0), decay=0.9)
    model = constant_linear(1.0)
    kept = 1.0  # share of the initial 0.0 still in the average
    for n in range(1, 101):
        expected_decay = min(0.9, n / (9 + n))
        assert average.current_decay() == pytest.approx(expected_decay)
        average.update(model)
        kept *= expected_decay
        torch.testing.assert_close(average.model.weight, torch.full((1, 2), 1.0 - kept))
        assert n <= 81 or expected_decay == 0.9
    assert average.current_decay() == 0.9  # the warm-up passed the cap at 81 / 90
    assert not average.model.weight.requires_grad
    assert torch.all(model.weight == 1.0)  # the live model is untouched


def test_average_state_round_trips_and_restarts_from_a_model():
    average = WeightAverage(constant_linear(0.0), decay=0.5)
    for _ in range(3):
        average.update(constant_linear(2.0))
    copy = WeightAverage(constant_linear(5.0), decay=0.5)
    copy.load_state_dict(average.state_dict())
    assert copy.updates == 3
    torch.testing.assert_close(copy.model.weight, average.model.weight)
    copy.restart_from(constant_linear(7.0))
    assert copy.updates == 0 and torch.all(copy.model.weight == 7.0)


def test_equal_average_is_the_plain_mean_of_every_model_added():
    average = EqualWeightAverage()
    assert average.model is None and average.count == 0
    models = [constant_linear(value) for value in (1.0, 2.0, 6.0, -1.0)]
    for count, model in enumerate(models, start=1):
        average.add(model)
        expected = sum((1.0, 2.0, 6.0, -1.0)[:count]) / count
        torch.testing.assert_close(average.model.weight, torch.full((1, 2), expected))
    assert average.count == 4
    assert average.model is not models[0] and not average.model.weight.requires_grad
    assert torch.all(models[0].weight == 1.0)  # the models added are untouched


def test_decay_outside_zero_one_is_refused():
    for decay in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="decay"):
            WeightAverage(constant_linear(0.0), decay)


def test_recalibration_sets_the_plain_average_of_the_batches_statistics():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2, momentum=0.1))
    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randn(8, 3, generator=generator) * (k + 1),) for k in range(4)]
    with torch.no_grad():
        outputs = [model[0](batch) for (batch,) in batches]
    assert recalibrate_batch_norm(model, batches) == 4
    norm = model[1]
    expected_mean = torch.stack([out.mean(0) for out in outputs]).mean(0)
    expected_var = torch.stack([out.var(0, unbiased=True) for out in outputs]).mean(0)
    torch.testing.assert_close(norm.running_mean, expected_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(norm.running_var, expected_var, rtol=1e-5, atol=1e-6)
    assert norm.momentum == 0.1 and not model.training


def test_recalibration_without_batches_is_refused_and_keeps_the_statistics():
    model = nn.Sequential(nn.BatchNorm1d(2))
    model[0].running_mean.fill_(3.0)
    with pytest.raises(ValueError, match="at least one batch"):
        recalibrate_batch_norm(model, [])
    assert torch.all(model[0].running_mean == 3.0)


def test_learning_rate_is_constant_then_falls_linearly_over_the_last_epochs():
    config = GanStageConfig(epochs=4, steps_per_epoch=10, learning_rate=1.0, lr_decay_epochs=2)
    rates = [gan_learning_rate(config, done) for done in range(40)]
    assert rates[:20] == [1.0] * 20
    assert rates[20:] == pytest.approx([(40 - done) / 21 for done in range(20, 40)])
    constant = dataclasses.replace(config, lr_decay_epochs=0)
    assert {gan_learning_rate(constant, done) for done in range(40)} == {1.0}


def test_r1_penalty_is_the_mean_squared_input_gradient_and_trains_its_weights():
    # match_i = <w, x_i> + |x_i|^2 / 2, so d match_i / d x_i = w + x_i.
    generator = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 4, 4, generator=generator, requires_grad=True)
    images = torch.randn(2, 3, 4, 4, generator=generator, requires_grad=True)
    match = (images * weight).sum(dim=(1, 2, 3)) + 0.5 * images.square().sum(dim=(1, 2, 3))
    penalty = r1_penalty(match, images)
    expected = (weight + images).square().sum(dim=(1, 2, 3)).mean()
    assert float(penalty.detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    (weight_gradient,) = torch.autograd.grad(penalty, weight)
    # d/dw mean_i |w + x_i|^2 = 2 (w + mean_i x_i)
    assert torch.allclose(weight_gradient, 2 * (weight + images.mean(dim=0)), atol=1e-5)


def test_lecam_penalty_is_the_squared_hinge_of_each_logit_past_the_other_sides_anchor():
    anchors = torch.tensor([1.0, -2.0])  # moving averages: real 1, fake -2
    match_real = torch.tensor([-3.0, -1.0, 2.0], requires_grad=True)  # above -2 by 0, 1, 4
    match_fake = torch.tensor([3.0, 0.5, -1.0], requires_grad=True)  # below 1 by 0, 0.5, 2
    penalty = lecam_penalty(match_real, match_fake, anchors)
    assert float(penalty.detach()) == pytest.approx((0 + 1 + 16) / 3 + (0 + 0.25 + 4) / 3)
    penalty.backward()
    assert match_real.grad.tolist() == pytest.approx([0.0, 2 / 3, 8 / 3])
    assert match_fake.grad.tolist() == pytest.approx([0.0, -1 / 3, -4 / 3])
    # no penalty once real logits sit below the fake anchor and fake ones above the real one
    settled = lecam_penalty(torch.tensor([-2.5]), torch.tensor([1.5]), anchors)
    assert float(settled) == 0.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lecam_weight": -0.1}, "lecam_weight"),
        ({"lecam_decay": 1.0}, "lecam_decay"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"ema_decay": -0.1}, "ema_decay"),
        ({"lr_decay_epochs": 11}, "lr_decay_epochs"),
        ({"ema_calibration_batches": 0}, "ema_calibration_batches"),
        ({"r1_weight": -1.0}, "r1_weight"),
        ({"r1_every": 0}, "r1_every"),
        ({"discriminator_lr_scale": 0.0}, "discriminator_lr_scale"),
        ({"discriminator_warmup_epochs": 11}, r"warmup_epochs must be in \[0, epochs=10\], got 11"),
        ({"discriminator_warmup_epochs": -1}, "discriminator_warmup_epochs"),
    ],
)
def test_gan_config_refuses_bad_averaging_and_decay_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        GanStageConfig(epochs=10, **changes)


def test_perturbed_condition_moves_by_at_most_its_share_of_the_length():
    from training.gan_stage import perturb_condition

    rng = np.random.default_rng(0)
    feature = torch.full((64,), 0.5)
    shares = []
    for _ in range(400):
        moved = perturb_condition(feature, 0.8, rng)
        shares.append(float((moved - feature).norm() / feature.norm()))
    assert 0.0 <= min(shares) < 0.02 and 0.78 < max(shares) <= 0.8 + 1e-6
    assert abs(np.mean(shares) - 0.4) < 0.04  # uniform in [0, 0.8]
    assert perturb_condition(feature, 0.0, rng) is feature


def test_feature_centre_is_the_bank_mean_or_zero_when_off():
    from training.gan_stage import feature_centre

    features = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 2.0], [0.5, 0.5, -1.0]])
    centre = feature_centre(features, GanStageConfig())
    torch.testing.assert_close(centre, torch.tensor([0.5, 0.5, 1.0]))
    off = feature_centre(features, GanStageConfig(centre_features=False))
    assert off.dtype == features.dtype and torch.equal(off, torch.zeros(3))


def test_a_checkpoint_without_a_feature_centre_exports_uncentred():
    from export.run_export import saved_feature_centre

    assert torch.equal(saved_feature_centre({}, 4), torch.zeros(4))
    saved = {"feature_centre": torch.tensor([0.25, -0.5], dtype=torch.float64)}
    centre = saved_feature_centre(saved, 2)
    assert centre.dtype == torch.float32 and centre.tolist() == [0.25, -0.5]


def test_cross_category_mixes_stay_in_the_region_scored_as_their_category():
    from training.gan_stage import mix_across_categories

    prototypes = torch.eye(3)
    features = torch.tensor([[1.0, 0.1, 0.0], [0.9, 0.0, 0.2], [0.0, 1.0, 0.0], [0.1, 0.0, 1.0]])
    features_of = [np.array([0, 1]), np.array([2]), np.array([3])]
    rng = np.random.default_rng(0)
    mixes = torch.stack(
        [mix_across_categories(features[0], 0, features, features_of, prototypes, rng)
         for _ in range(300)]
    )  # fmt: skip
    scores = mixes @ prototypes.T
    assert torch.all(scores.argmax(1) == 0)
    margins = scores[:, 0] - scores[:, 1:].max(1).values
    assert margins.min() < 0.05  # mixes reach the border with another category
    moved = (mixes - features[0]).norm(dim=1)
    assert (moved > 1e-6).float().mean() > 0.9  # nearly every draw is a real mix
    # Each mix moves towards category 1 (y grows) or 2 (z grows), never both:
    towards = torch.stack([(mixes[:, 1] - 0.1) > 1e-6, mixes[:, 2] > 1e-6], dim=1)
    assert torch.all(towards.sum(1) == (moved > 1e-6).long())


def test_cross_category_mix_falls_back_to_the_feature_when_no_mix_scores_its_category():
    from training.gan_stage import mix_across_categories

    prototypes = torch.eye(2)
    features = torch.tensor([[0.4, 0.5], [0.0, 1.0]])  # category 0's feature already scores 1
    mixed = mix_across_categories(
        features[0], 0, features, [np.array([0]), np.array([1])], prototypes,
        np.random.default_rng(0),
    )  # fmt: skip
    assert torch.equal(mixed, features[0])


def test_condition_fractions_must_fit_in_one():
    with pytest.raises(ValueError, match="sum to at most 1"):
        GanStageConfig(prototype_fraction=0.5, interpolate_fraction=0.3, cross_fraction=0.3)
    with pytest.raises(ValueError, match="must be >= 0"):
        GanStageConfig(cross_fraction=-0.1)


def test_sample_figures_of_one_picture_of_one_repeated_row_are_all_shared_streak(tmp_path):
    # every picture one random row repeated down its 16 rows: all its detail lines up down
    # the columns (vertical 1), none runs along them (horizontal 0), and its spectrum has
    # no power off the zero vertical frequency (checkerboard 0); the same picture four
    # times over: its streaks are all shared (1)
    row = np.random.default_rng(0).uniform(-1, 1, (1, 3, 1, 16))
    samples = torch.from_numpy(np.repeat(np.repeat(row, 16, axis=2), 4, axis=0)).float()
    pixels = write_grid(samples, 2, tmp_path / "grid.png")  # [4, 16, 16, 3]
    assert pixels.shape == (4, 16, 16, 3) and pixels.dtype == np.uint8
    assert sample_figures(pixels) == {
        "sample_checkerboard": 0.0,
        "sample_streaks_vertical": pytest.approx(1.0, abs=1e-12),
        "sample_streaks_horizontal": 0.0,
        "sample_streaks_shared": pytest.approx(1.0, abs=1e-12),
    }


def test_fixed_pattern_penalty_known_answers_and_it_trains_the_pattern_away():
    generator = torch.Generator().manual_seed(0)
    one = torch.randn(1, 3, 16, 16, generator=generator)
    assert float(fixed_pattern_penalty(one.expand(8, -1, -1, -1))) == pytest.approx(1.0, abs=1e-6)
    # independent pictures: the batch mean keeps 1/B of their detail's power
    noise = torch.randn(256, 3, 32, 32, generator=generator)
    assert float(fixed_pattern_penalty(noise)) == pytest.approx(1 / 256, rel=0.1)
    assert float(fixed_pattern_penalty(torch.zeros(4, 3, 8, 8))) == 0.0
    # a pattern added to every picture of a batch: the penalty's gradient takes out its fine
    # detail in luma (its second differences), not its smooth part or its colour
    pattern = torch.randn(1, 3, 16, 16, generator=generator).requires_grad_()
    pictures = torch.randn(32, 3, 16, 16, generator=generator)

    def detail_power(images: torch.Tensor) -> float:
        return float(luma_second_differences(images)[0].square().mean())

    before = (
        float(fixed_pattern_penalty(pictures + pattern.detach())),
        detail_power(pattern.detach()),
    )
    optimiser = torch.optim.Adam([pattern], lr=0.1)
    for _ in range(60):
        optimiser.zero_grad()
        fixed_pattern_penalty(pictures + pattern).backward()
        optimiser.step()
    after = (
        float(fixed_pattern_penalty(pictures + pattern.detach())),
        detail_power(pattern.detach()),
    )
    assert before[0] > 0.4 and after[0] < 0.01  # the pictures alone: 1/32 in expectation
    assert after[1] < 0.2 * before[1]
