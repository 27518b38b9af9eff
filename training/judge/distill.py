"""The judge's loss: the labels, and a trained judge's probabilities as soft targets
(knowledge distillation, Hinton et al. 2015)."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from training.data import ImageBank
from training.judge.checkpoint import JudgeCheckpointError, load_judge, same_split
from training.judge.config import JudgeConfig
from training.judge.models import predict

log = logging.getLogger(__name__)


def judge_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    soft_targets: torch.Tensor | None,
    config: JudgeConfig,
) -> torch.Tensor:
    """The label's cross entropy (smoothed by `config.label_smoothing`), mixed with the cross
    entropy against a teacher's probabilities `soft_targets` [B, C] by `config.teacher_weight`
    when there are any. logits [B, C], labels [B]."""
    hard = F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
    if soft_targets is None:
        return hard
    soft = F.cross_entropy(logits, soft_targets)
    return (1.0 - config.teacher_weight) * hard + config.teacher_weight * soft


@torch.no_grad()
def teacher_probabilities(
    path: Path, categories: tuple[str, ...], train_set: ImageBank, held_out_photos: list[str]
) -> torch.Tensor:
    """[N, C]: the class probabilities a trained judge gives each whole training photo (eval
    mode, resampled to its input size). It must hold out the same photos as the judge it
    teaches, so that no held-out photo shaped its answers."""
    teacher, info = load_judge(path)
    if not same_split(info, list(categories), held_out_photos):
        raise JudgeCheckpointError(
            f"{path}: the teacher's categories or held-out photos differ from this judge's "
            "(train it on the same scenes)"
        )
    result = torch.softmax(torch.from_numpy(predict(teacher, train_set.pixels)), dim=1)
    agreement = float((result.argmax(1).numpy() == train_set.labels).mean())
    log.info("judge: teacher %s agrees with %.3f of the training labels", path, agreement)
    return result
