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
