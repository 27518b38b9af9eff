"""Exporting a training run's models: music encoder (+ category scores), generator, judge.

A run whose GAN took its conditions from an exported music encoder (`gan.encoder_onnx`)
exports only its generator: its metadata is that encoder's (categories, prototypes,
front end, training data), with the generator's own sizes, picture attributes and pull
(`encoder_onnx_metadata`), and the encoder's folder gives the other files unchanged.

Each exporter is a module-level function so it can run in its own spawned process (an LSTM
export fixes the time axis of later LSTM exports in the same process).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from export.onnx_export import EXAMPLE_BATCH, check_against_torch, export_module
from training.checkpoint import LATEST, epoch_file, load_checkpoint
from training.config import GeneratorConfig, TrainConfig
from visualizer.model_files import ModelFileError, ModelMetadata


@dataclasses.dataclass(frozen=True)
class GeneratorExportOptions:
    """How generator.onnx is made from the run's GAN: from the checkpoint of `gan_epoch`
    (None: the latest), its noise scaled by `truncation`, its feature pulled
    `category_pull` of the way toward the best-scoring category prototype, and with
    `output_filter` (None: the trained one) after its output; all inside the graph."""

    truncation: float = 1.0
    gan_epoch: int | None = None
    category_pull: float = 0.0
    output_filter: str | None = None


def _generator_training_data(saved_gan: dict, options: GeneratorExportOptions) -> dict:
    """The generator's entries of the metadata's training data: its epochs, weights and GAN
    settings (the checkpoint's own config, so a card can be checked against the file), and
    the truncation and pull the export put in (the output filter is the callers' last
    entry)."""
    from training.models.gan import CATEGORY_PULL_TEMPERATURE

    return {
        "gan_epochs": saved_gan["epoch"],
        "generator_weights": (
            "last step" if saved_gan.get("generator_average") is None else "weight average"
        ),
        "noise_truncation": options.truncation,
        "category_pull": options.category_pull,
        "category_pull_temperature": CATEGORY_PULL_TEMPERATURE,
        "gan_config": saved_gan["config"]["gan"],
    }


def _trained_embedding(run_dir: Path, data_root: Path):
    """(the run's embed checkpoint, its joint embedding in eval mode, its data split)."""
    from training.data import split_data
    from training.embedding import JointEmbedding

    saved = load_checkpoint(run_dir / "embed" / LATEST, "embed")
    config = TrainConfig.from_dict(saved["config"])
    embedding = JointEmbedding(config.embed)
    embedding.load_state_dict(saved["model"])
    embedding.eval()
    split = split_data(data_root, config.data)
    if list(split.categories) != list(saved["categories"]):
        raise ModelFileError(
            f"{data_root}: categories {list(split.categories)} differ from the run's "
            f"{saved['categories']}"
        )
    return saved, embedding, split


def training_image_centroids(embedding, split):
    """[categories, feature_dim]: the mean image embedding of each category's training photos
    (the category prototypes, and what category_scores compares a feature with)."""
    from training.data import ImageBank
    from training.embedding import image_centroids

    images = ImageBank(split.train_images, embedding.image.config.image_size, [])
    return image_centroids(embedding.image, images, len(split.categories), "cpu")


def saved_feature_centre(saved_gan: dict, feature_dim: int):
    """[feature_dim]: the mean music feature the GAN checkpoint's conditions were centred on
    (zero for a checkpoint trained without centring)."""
    import torch

    centre = saved_gan.get("feature_centre")
    return torch.zeros(feature_dim) if centre is None else centre.float()


def _scored_encoder(run_dir: Path, data_root: Path, props: dict, saved_gan: dict):
    """The music encoder as the app uses it: its feature centred on the feature centre of
    the GAN checkpoint `saved_gan`, and category scores against the metadata's category
    prototypes (computed once, by `run_metadata`, and centred the same way)."""
    import torch
    from torch import nn

    _, embedding, split = _trained_embedding(run_dir, data_root)
    centre = saved_feature_centre(saved_gan, embedding.music.config.feature_dim)
    prototypes = ModelMetadata.from_props(props, "the export's metadata").category_prototypes
    centroids = torch.tensor(prototypes, dtype=torch.float32)

    class ScoredEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = embedding.music
            self.register_buffer("centre", centre.clone())
            self.register_buffer("centroids", centroids.clone())

        def forward(self, window: torch.Tensor):
            feature = self.encoder(window) - self.centre
            return feature, feature @ self.centroids.T

    return ScoredEncoder().eval(), split


def real_windows(data_root: Path, tracks: list[str], frontend: dict, count: int) -> np.ndarray:
    """`count` analysed windows [count, 2, n_bins, n_frames] from the start of listed tracks
    (only the first window of each is decoded)."""
    from visualizer.frontend import AudioFileReader, FrontEndContract, analyse_window

    contract = FrontEndContract.from_dict(frontend)
    windows = []
    for relative in tracks[:count]:
        with AudioFileReader(data_root / relative, contract.sample_rate) as reader:
            windows.append(analyse_window(reader.read(contract.window_samples), contract))
    return np.stack(windows)


def export_encoder(
    run_dir: str, data_root: str, out_path: str, props: dict, gan_epoch: int | None = None
) -> dict:
    """Export music_encoder.onnx (centred on the feature centre of the GAN checkpoint of
    `gan_epoch`, default the latest); returns the parity figures (max abs diff per input kind)."""
    import torch

    torch.manual_seed(0)
    saved_gan = gan_checkpoint(Path(run_dir), gan_epoch)
    module, split = _scored_encoder(Path(run_dir), Path(data_root), props, saved_gan)
    config = module.encoder.config
    shape = (2, config.n_bins, config.n_frames)
    example = torch.rand(EXAMPLE_BATCH, *shape) * 2 - 1
    export_module(module, (example,), ["window"], ["feature", "category_scores"], out_path, props)
    tracks = split.relative(split.validation_tracks or split.train_tracks)
    real = torch.from_numpy(
        real_windows(Path(data_root), tracks, json.loads(props["musicscape.frontend"]), 3)
    )
    return {
        "random": check_against_torch(module, out_path, (torch.rand(3, *shape) * 2 - 1,)),
        "real": check_against_torch(module, out_path, (real,)),
    }


def gan_checkpoint(run_dir: Path, epoch: int | None) -> dict:
    """The GAN checkpoint to export: the run's latest, or the one saved after `epoch`."""
    return load_checkpoint(
        Path(run_dir) / "gan" / (LATEST if epoch is None else epoch_file(epoch)), "gan"
    )


def generator_weights(saved: dict) -> dict:
    """The generator a GAN checkpoint ships: its weight average when it has one (BatchNorm
    statistics measured at the end of the last whole epoch), else the last step's weights."""
    average = saved.get("generator_average")
    return saved["generator"] if average is None else average["model"]


def exported_generator_config(saved_gan: dict, output_filter: str | None = None) -> GeneratorConfig:
    """The GeneratorConfig a GAN checkpoint exports with: its own, with `output_filter`
    (a fixed filter without weights, `GeneratorConfig.output_filter`) in place of the
    trained one when given."""
    config = TrainConfig.from_dict(saved_gan["config"]).gan.generator
    if output_filter is None:
        return config
    return dataclasses.replace(config, output_filter=output_filter)


def encoder_onnx_of(saved_gan: dict, data_root: Path) -> Path | None:
    """The exported music encoder a GAN checkpoint took its conditions from
    (`gan.encoder_onnx`: as given when absolute or present, else under the data root), or
    None for one trained on its run's embedding."""
    given = TrainConfig.from_dict(saved_gan["config"]).gan.encoder_onnx
    if not given:
        return None
    path = Path(given)
    return path if path.is_absolute() or path.exists() else Path(data_root) / path


def _real_features(run_dir: Path, data_root: Path, props: dict, saved: dict):
    """[3, feature_dim]: the app's features of the first windows of three validation tracks,
    from the run's embedding or from the exported encoder the GAN was trained on."""
    import torch

    frontend = json.loads(props["musicscape.frontend"])
    encoder_path = encoder_onnx_of(saved, data_root)
    if encoder_path is None:
        scored, split = _scored_encoder(run_dir, data_root, props, saved)
        tracks = split.relative(split.validation_tracks or split.train_tracks)
        windows = torch.from_numpy(real_windows(data_root, tracks, frontend, 3))
        with torch.no_grad():
            features, _ = scored(windows)
        return features
    from visualizer.model_sessions import open_model

    encoder = open_model(encoder_path, threads=1)
    data = encoder.metadata.training_data
    tracks = list(data.get("validation_tracks") or data.get("train_tracks") or [])
    windows = real_windows(data_root, tracks, frontend, 3)
    (features,) = encoder.run(["feature"], {"window": windows})
    return torch.from_numpy(np.asarray(features, dtype=np.float32))


def export_generator(
    run_dir: str,
    data_root: str,
    out_path: str,
    props: dict,
    options: GeneratorExportOptions = GeneratorExportOptions(),
) -> dict:
    """Export generator.onnx as `options` say, pulling toward the category prototypes of
    the metadata (a generator conditioned on picture attributes takes them as a third
    input, "attributes" [B, 4], passed through unchanged); checks it on random features and
    on real encoder features."""
    import torch

    from training.models import CategoryPulledGenerator, Generator, TruncatedGenerator

    saved = gan_checkpoint(Path(run_dir), options.gan_epoch)
    config = exported_generator_config(saved, options.output_filter)
    trained = Generator(config)
    trained.load_state_dict(generator_weights(saved))
    prototypes = ModelMetadata.from_props(props, "the export's metadata").category_prototypes
    generator = CategoryPulledGenerator(
        TruncatedGenerator(trained, options.truncation),
        torch.tensor(prototypes, dtype=torch.float32),
        options.category_pull,
    ).eval()
    torch.manual_seed(0)
    example = [
        torch.randn(EXAMPLE_BATCH, config.noise_dim),
        torch.randn(EXAMPLE_BATCH, config.feature_dim),
    ]
    names = ["noise", "feature"]
    if config.attribute_dim:
        example.append(torch.randn(EXAMPLE_BATCH, config.attribute_dim))
        names.append("attributes")
    export_module(generator, tuple(example), names, ["image"], out_path, props)
    features = _real_features(Path(run_dir), Path(data_root), props, saved)  # [<=3, D]
    rows = len(features)
    noise = torch.randn(rows, config.noise_dim)
    extra = (torch.randn(rows, config.attribute_dim) * 1.5,) if config.attribute_dim else ()
    return {
        "random": check_against_torch(
            generator, out_path, (noise, torch.randn(rows, config.feature_dim), *extra)
        ),
        "real": check_against_torch(generator, out_path, (noise, features, *extra)),
    }


def encoder_onnx_metadata(
    encoder_path: Path,
    saved_gan: dict,
    model_version: str,
    eval_figures: dict,
    options: GeneratorExportOptions = GeneratorExportOptions(),
) -> ModelMetadata:
    """generator.onnx's metadata for a GAN trained on an exported encoder's conditions: a copy
    of that encoder's (categories, prototypes, front end, training data, scene memory), with
    this generator's sizes, version, figures, picture attributes and, in the training data,
    its epochs, truncation, pull, last doubling and output filter."""
    from training.models.gan import output_upsample_kind
    from visualizer.model_sessions import open_model

    encoder = open_model(encoder_path, threads=1).metadata
    generator = exported_generator_config(saved_gan, options.output_filter)
    if generator.feature_dim != encoder.feature_dim:
        raise ModelFileError(
            f"{encoder_path.name}: feature_dim {encoder.feature_dim}, the generator's "
            f"{generator.feature_dim}"
        )
    training_data = dict(encoder.training_data)
    training_data.update(_generator_training_data(saved_gan, options))
    training_data.update(
        {
            "generator_conditions": f"{encoder_path.name} {encoder.model_version}",
            "generator_upsample": generator.upsample,
            "generator_output_upsample": output_upsample_kind(generator),
            "generator_output_filter": generator.output_filter,
        }
    )
    return dataclasses.replace(
        encoder,
        noise_dim=generator.noise_dim,
        image_size=generator.image_size,
        model_version=model_version,
        training_data=training_data,
        eval_figures=eval_figures,
        picture_attributes=dict(saved_gan.get("attribute_stats") or {}),
    )


def run_metadata(
    run_dir: Path,
    data_root: Path,
    model_version: str,
    eval_figures: dict,
    scene_memory_seconds: float = 0.0,
    options: GeneratorExportOptions = GeneratorExportOptions(),
) -> ModelMetadata:
    """The ModelMetadata every exported file of the run carries; the category prototypes
    are the training images' embedding centroids (what category_scores compares with), less
    the feature centre of the GAN checkpoint the generator comes from (`options`)."""
    from export.music_level import tracks_level_db
    from training.context import read_run_info
    from visualizer.frontend import FrontEndContract

    info = read_run_info(run_dir)
    config = TrainConfig.from_dict(info["config"])
    embed, embedding, split = _trained_embedding(run_dir, data_root)
    gan = gan_checkpoint(run_dir, options.gan_epoch)
    centre = saved_feature_centre(gan, config.embed.music.feature_dim)
    centroids = training_image_centroids(embedding, split) - centre
    gan_config = exported_generator_config(gan, options.output_filter)
    attribute_stats = dict(gan.get("attribute_stats") or {})
    training_data = dict(info["data"])
    training_data.update(
        {
            "seed": config.data.seed,
            "data_root": info["data_root"],
            "embed_epochs": embed["epoch"],
            **_generator_training_data(gan, options),
            "feature_centre_length": round(float(centre.norm()), 6),
            "embed_history_last": embed["history"][-1] if embed["history"] else {},
            "embed_config": embed["config"]["embed"],
            "data_config": embed["config"]["data"],
            "loss": config.embed.loss,
            "generator_output_filter": gan_config.output_filter,
        }
    )
    return ModelMetadata(
        frontend=FrontEndContract.from_dict(info["frontend"]),
        categories=tuple(embed["categories"]),
        feature_dim=config.embed.music.feature_dim,
        noise_dim=gan_config.noise_dim,
        image_size=gan_config.image_size,
        model_version=model_version,
        training_data=training_data,
        eval_figures=eval_figures,
        category_prototypes=tuple(tuple(float(x) for x in row) for row in centroids),
        scene_memory_seconds=scene_memory_seconds,
        picture_attributes=attribute_stats,
        music_level_db=tracks_level_db(
            (path for path, _ in split.train_tracks), FrontEndContract.from_dict(info["frontend"])
        ),
    )
