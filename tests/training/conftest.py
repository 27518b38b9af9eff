import json
from pathlib import Path

import pytest
import torch

from training.config import tiny_config

from .synthetic import make_dataset


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def write_config(path: Path, config=None) -> Path:
    path.write_text(json.dumps((config or tiny_config(16)).to_dict()))
    return path


@pytest.fixture
def dataset(tmp_path) -> Path:
    return make_dataset(tmp_path / "data", n_categories=2)
