"""Figures shared by the judge's training and `musicscape eval`."""

from __future__ import annotations

import numpy as np


def accuracy_per_category(
    truth: np.ndarray, predicted: np.ndarray, categories: tuple[str, ...]
) -> dict[str, float]:
    """{category: share of its items predicted as it}, for the categories with items."""
    return {
        name: float(np.mean(predicted[truth == index] == index))
        for index, name in enumerate(categories)
        if np.any(truth == index)
    }


def _luma(images: np.ndarray) -> np.ndarray:
    """[N, 3, H, W] RGB -> [N, H, W] luma (Rec. 601 weights), float64."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be [N, 3, H, W], got shape {images.shape}")
    return np.tensordot(np.array([0.299, 0.587, 0.114]), images, axes=([0], [1]))


def _detail_across(luma: np.ndarray) -> np.ndarray:
    """[N, H, W] luma -> [N, H, W - 2] its second difference along each row (the detail
    across the columns)."""
    return luma[:, :, 2:] - 2.0 * luma[:, :, 1:-1] + luma[:, :, :-2]


def checkerboard_ratio(images: np.ndarray) -> float:
    """How much a set of pictures carries a checkerboard: the power of the mean luma power
    spectrum at the diagonal period-2 frequency (half the sampling rate on both axes, where
    a stride-2 transposed convolution leaves its pattern; Odena et al. 2016) over the mean
    power of its 8 neighbouring frequencies. About 1 for photos and white noise; the shipped
    64-px generator ~5-6; a pure checkerboard is enormous.

    `images`: [N, 3, H, W] RGB (any scale and offset: each picture's mean is removed),
    H and W even."""
    luma = _luma(images)  # [N, H, W]
    height, width = luma.shape[1:]
    if height % 2 or width % 2 or height < 4 or width < 4:
        raise ValueError(f"images need an even height and width of at least 4: {height}x{width}")
    luma = luma - luma.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fft2(luma)) ** 2).mean(axis=0)  # [H, W]
    row, column = height // 2, width // 2
    neighbours = [
        power[(row + dy) % height, (column + dx) % width]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
        if dy or dx
    ]
    return float(power[row, column] / max(float(np.mean(neighbours)), 1e-300))


def streak_ratios(images: np.ndarray) -> tuple[float, float]:
    """How much a set of pictures carries streaks: (vertical, horizontal). Vertical: the
    luma's horizontal second difference (the detail across each row), averaged down every
    column, its power over the difference's own mean power; horizontal: the same across
    columns. Detail that lines up down a column (a vertical streak) survives the average
    and raises the ratio; detail that does not averages away. 1 for a pattern repeated on
    every row, about 1/H for white noise, 0 for flat pictures. The photos of ../shared/data:
    vertical 0.02-0.03 at 128 px and 0.05-0.06 at 64 px, horizontal 0.07 and 0.12-0.14
    (horizons).

    `images`: [N, 3, H, W] RGB (any scale and offset), H and W at least 3."""
    luma = _luma(images)  # [N, H, W]
    if min(luma.shape[1:]) < 3:
        raise ValueError(f"images need a height and width of at least 3: {luma.shape[1:]}")

    def ratio(rows: np.ndarray) -> float:  # [N, H, W]: detail along W, averaged over H
        detail = _detail_across(rows)
        power = float(np.mean(detail**2))
        return float(np.mean(detail.mean(axis=1) ** 2) / power) if power > 0 else 0.0

    return ratio(luma), ratio(luma.transpose(0, 2, 1))


def shared_streak_share(images: np.ndarray) -> float:
    """How much of a set of pictures' vertical streaks is one pattern at the same columns in
    every picture (a streak tied to position, not drawn from the picture): each picture's
    column profile (its luma's horizontal second difference averaged down each column, as
    in `streak_ratios`), the power of the profiles' mean over their mean power, rescaled so
    that pictures with independent profiles score 0 in expectation and pictures with one
    profile score 1: (N * share - 1) / (N - 1). 0 for flat pictures. On 32 pictures: photos
    -0.01 to 0.01 (64 and 128 px); the bundled 64-px generator's sample grid 0.035; the
    128-px generator grown from it (model card) 0.07 after one epoch at 128 px, 0.29 after
    18.

    `images`: [N, 3, H, W] RGB (any scale and offset), N at least 2, H and W at least 3."""
    luma = _luma(images)  # [N, H, W]
    if luma.shape[0] < 2 or min(luma.shape[1:]) < 3:
        raise ValueError(f"need at least 2 pictures of at least 3x3, got shape {images.shape}")
    profiles = _detail_across(luma).mean(axis=1)  # [N, W - 2]
    power = float(np.mean(profiles**2))
    if power == 0:
        return 0.0
    count = profiles.shape[0]
    share = float(np.mean(profiles.mean(axis=0) ** 2)) / power
    return (count * share - 1.0) / (count - 1.0)


def _weighted_moments(
    items: np.ndarray, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the rows of `items`, each counted `weights` times (frequency
    weights: the covariance divides by sum(weights) - 1, as for repeated rows)."""
    items = np.asarray(items, dtype=np.float64)
    if weights is None:
        return items.mean(axis=0), np.atleast_2d(np.cov(items, rowvar=False))
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(items),) or np.any(weights < 0) or weights.sum() <= 1.0:
        raise ValueError(
            f"weights must be {len(items)} non-negative numbers summing to more than 1"
        )
    mean = weights @ items / weights.sum()
    centred = items - mean
    return mean, np.atleast_2d((weights[:, None] * centred).T @ centred / (weights.sum() - 1.0))


def frechet_distance(a: np.ndarray, b: np.ndarray, weights_b: np.ndarray | None = None) -> float:
    """Frechet distance between Gaussians fitted to the rows of `a` and of `b`.

    `weights_b` [len(b)]: fit `b`'s Gaussian with each row counted that many times (e.g. to
    give real photos the category mix of the generated pictures)."""
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Frechet distance needs at least two items on each side")
    mean_a, cov_a = _weighted_moments(a, None)
    mean_b, cov_b = _weighted_moments(b, weights_b)
    value = (
        np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b) - 2.0 * _trace_sqrt(cov_a, cov_b)
    )
    return float(max(value, 0.0))


def _trace_sqrt(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """tr sqrt(cov_a @ cov_b) for covariance (symmetric positive semi-definite) matrices, as
    tr sqrt(S cov_b S) with S = cov_a^(1/2): the same eigenvalues, but of a symmetric matrix,
    so eigenvalue solvers for symmetric matrices give them stably even when either matrix is
    singular (fewer items than dimensions), where a general matrix square root may not."""
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    inner = root_a @ cov_b @ root_a
    return float(np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2.0), 0.0, None))))


def mix_weights(labels: np.ndarray, wanted_share: np.ndarray) -> np.ndarray:
    """Frequency weights [N] that give items with `labels` [N] the category mix
    `wanted_share` [C] (summing to 1) and keep their total count N: each item of category c
    counts N * wanted_share[c] / (items of c). A wanted category with no items raises
    ValueError."""
    labels = np.asarray(labels)
    wanted_share = np.asarray(wanted_share, dtype=np.float64)
    counts = np.bincount(labels, minlength=len(wanted_share)).astype(np.float64)
    lacking = np.flatnonzero((wanted_share > 0) & (counts == 0))
    if len(lacking):
        raise ValueError(f"no items of category {int(lacking[0])}, which the mix asks for")
    per_item = np.divide(wanted_share, counts, out=np.zeros_like(counts), where=counts > 0)
    return len(labels) * per_item[labels]


def mean_pairwise_distance(items: np.ndarray, sample: int, rng: np.random.Generator) -> float:
    """Mean Euclidean distance over all pairs of (at most `sample`, drawn) rows."""
    if len(items) < 2:
        return float("nan")
    if len(items) > sample:
        items = items[rng.choice(len(items), sample, replace=False)]
    items = items.astype(np.float64)
    squared = np.sum(items**2, axis=1)
    distance = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2 * items @ items.T, 0))
    count = len(items)
    return float(distance[np.triu_indices(count, k=1)].mean())
