"""Joint-embedding losses: Reed et al. 2016 DS-SJE (symmetric, class level) and InfoNCE.

Compatibility is the inner product. Each direction scores an embedding of one modality
against the per-category prototypes (batch means) of the other modality; every batch holds
every category (class-balanced sampling), so every prototype exists.

Reed et al. train the text side against a fixed, pretrained image encoder whose classes are
already apart. Here both encoders start from scratch, and the purely cross-modal loss has a
collapsed fixed point (music prototypes alike -> no signal for the images, and vice versa;
measured: the real-data run sat at loss = 2 x margin x (C - 1)). `image_self_weight` adds
the same hinge for images against their own prototypes, which gives the image space its
class structure from the start; music is then pulled towards it as in Reed et al.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def class_prototypes(
    embeddings: torch.Tensor, labels: torch.Tensor, n_classes: int
) -> torch.Tensor:
    """Mean embedding per class [n_classes, D]; raises if a class is absent from the batch."""
    counts = torch.bincount(labels, minlength=n_classes)
    if bool((counts == 0).any()):
        missing = [int(i) for i in torch.nonzero(counts == 0).flatten()]
        raise ValueError(f"batch lacks categories {missing}: use class-balanced batches")
    sums = torch.zeros(
        n_classes, embeddings.shape[1], dtype=embeddings.dtype, device=embeddings.device
    )
    sums.index_add_(0, labels, embeddings)
    return sums / counts[:, None].to(embeddings.dtype)


def _hinge(scores: torch.Tensor, labels: torch.Tensor, margin: float) -> torch.Tensor:
    """Reed et al.: mean over samples of sum over wrong classes of max(0, m + s_wrong - s_true)."""
    true = scores.gather(1, labels[:, None])
    violations = F.relu(margin + scores - true)
    wrong = torch.ones_like(scores).scatter_(1, labels[:, None], 0.0)
    return (violations * wrong).sum(dim=1).mean()


def pair_inconsistency(features: torch.Tensor) -> torch.Tensor:
    """Mean of 1 - cosine between rows 2i and 2i+1 (two windows of one track)."""
    if features.shape[0] % 2:
        raise ValueError(f"pairs need an even number of rows, got {features.shape[0]}")
    return (1.0 - F.cosine_similarity(features[0::2], features[1::2], dim=1)).mean()


def joint_embedding_loss(
    music: torch.Tensor,
    music_labels: torch.Tensor,
    images: torch.Tensor,
    image_labels: torch.Tensor,
    n_classes: int,
    kind: str = "dssje",
    margin: float = 1.0,
    temperature: float = 0.1,
    image_self_weight: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Symmetric loss (music->image prototypes + image->music prototypes) and batch figures."""
    image_protos = class_prototypes(images, image_labels, n_classes)
    music_protos = class_prototypes(music, music_labels, n_classes)
    if kind == "dssje":
        music_scores = music @ image_protos.T  # [Bm, C]
        image_scores = images @ music_protos.T  # [Bi, C]
        music_to_image = _hinge(music_scores, music_labels, margin)
        image_to_music = _hinge(image_scores, image_labels, margin)
        image_to_image = _hinge(images @ image_protos.T, image_labels, margin)
    elif kind == "infonce":
        unit_music = F.normalize(music, dim=1)
        unit_images = F.normalize(images, dim=1)
        music_scores = unit_music @ F.normalize(image_protos, dim=1).T / temperature
        image_scores = unit_images @ F.normalize(music_protos, dim=1).T / temperature
        music_to_image = F.cross_entropy(music_scores, music_labels)
        image_to_music = F.cross_entropy(image_scores, image_labels)
        self_scores = unit_images @ F.normalize(image_protos, dim=1).T / temperature
        image_to_image = F.cross_entropy(self_scores, image_labels)
    else:
        raise ValueError(f"unknown joint embedding loss {kind!r} (dssje or infonce)")
    loss = music_to_image + image_to_music + image_self_weight * image_to_image
    with torch.no_grad():
        figures = {
            "loss_music_to_image": float(music_to_image),
            "loss_image_to_music": float(image_to_music),
            "loss_image_to_image": float(image_to_image),
            "music_accuracy": float((music_scores.argmax(1) == music_labels).float().mean()),
            "image_accuracy": float((image_scores.argmax(1) == image_labels).float().mean()),
        }
    return loss, figures
