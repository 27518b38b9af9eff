from pathlib import Path

import pytest
import torch

from tests.training.synthetic import make_dataset


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.fixture
def dataset(tmp_path) -> Path:
    return make_dataset(tmp_path / "data", n_categories=2)
