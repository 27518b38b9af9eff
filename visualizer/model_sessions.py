"""Opening an exported model file in ONNX Runtime: the one loader of the app and `musicscape eval`.

Nothing in a file is trusted: it must carry `ModelMetadata` (model_files.py) in its
metadata_props, and its named inputs and outputs must have the shapes that metadata declares.
Every refusal is a `ModelFileError` whose message names the file and says what is wrong, in
words a user can act on. A provider that fails on a readable file falls back to the CPU, and
the session says so in `warning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.model_files import METADATA_PREFIX, ModelFileError, ModelMetadata
from visualizer.picture_attributes import ATTRIBUTE_NAMES

CPU_PROVIDER = "CPUExecutionProvider"


@dataclass(frozen=True)
class ModelSession:
    name: str  # the file's name, as messages say it
    session: Any  # onnxruntime.InferenceSession
    metadata: ModelMetadata
    warning: str | None  # plain words when a requested provider did not run it

    def run(self, outputs: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return self.session.run(outputs, feeds)

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers that run it, the one doing the work first."""
        return tuple(self.session.get_providers())


def open_model(
    path: Path, providers: Sequence[str] = (CPU_PROVIDER,), threads: int = 0
) -> ModelSession:
    """A session on `path` with the first of `providers` that works, and its metadata.
    `threads`: intra-op threads (0: ONNX Runtime's own choice); one inter-op thread."""
    import onnxruntime as ort

    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ModelFileError(f"{name}: missing from {path.parent}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    requested = tuple(providers)
    warning = None
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=list(requested))
    except Exception as error:  # noqa: BLE001 - ORT raises many unrelated types
        if requested == (CPU_PROVIDER,) or _is_unreadable(error):
            raise ModelFileError(
                f"{name}: not a readable ONNX model ({first_line(error)})"
            ) from error
        warning = f"{requested[0]} failed for {name} ({first_line(error)}); running on CPU"
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=[CPU_PROVIDER]
            )
        except Exception as cpu_error:  # noqa: BLE001
            raise ModelFileError(
                f"{name}: not a readable ONNX model ({first_line(cpu_error)})"
            ) from cpu_error
    running = session.get_providers()
    if warning is None and requested[0] != CPU_PROVIDER and running[0] != requested[0]:
        warning = f"{requested[0]} is not usable here (fell back to {running[0]})"
    metadata = ModelMetadata.from_props(dict(session.get_modelmeta().custom_metadata_map), name)
    return ModelSession(name, session, metadata, warning)


def check_encoder(encoder: ModelSession) -> None:
    """window [B, *contract input] -> feature [B, feature_dim], category_scores [B, C]."""
    meta = encoder.metadata
    _expect(encoder, "input", "window", (None, *meta.frontend.input_shape), "window")
    _expect(encoder, "output", "feature", (None, meta.feature_dim), "feature")
    _expect(
        encoder,
        "output",
        "category_scores",
        (None, len(meta.categories)),
        "one score per category",
    )


def check_generator(generator: ModelSession, encoder: ModelSession) -> None:
    """noise, feature (and attributes [B, 4] where it has them) -> image [B, 3, S, S]; the
    same export as `encoder`."""
    meta = generator.metadata
    for field in ("feature_dim", "categories"):
        theirs, ours = getattr(meta, field), getattr(encoder.metadata, field)
        if theirs != ours:
            raise ModelFileError(
                f"{generator.name}: its {field} {theirs} does not match {encoder.name}'s "
                f"{ours}; the two files come from different exports"
            )
    _expect(generator, "input", "noise", (None, meta.noise_dim), "noise")
    _expect(generator, "input", "feature", (None, meta.feature_dim), "feature")
    if has_attributes(generator):
        _expect(generator, "input", "attributes", (None, len(ATTRIBUTE_NAMES)), "attributes")
        if not meta.picture_attributes:
            raise ModelFileError(
                f"{generator.name}: it takes attributes but its metadata has no "
                f"{METADATA_PREFIX}picture_attributes; re-export it"
            )
    size = meta.image_size
    _expect(generator, "output", "image", (None, 3, size, size), "image")


def has_attributes(generator: ModelSession) -> bool:
    """Whether a generator takes the "attributes" input (picture attributes, z-units)."""
    return any(arg.name == "attributes" for arg in generator.session.get_inputs())


def check_judge(judge: ModelSession) -> None:
    """image [B, 3, S, S] -> logits [B, C], features [B, feature_dim]."""
    meta = judge.metadata
    size = meta.image_size
    _expect(judge, "input", "image", (None, 3, size, size), "image")
    _expect(judge, "output", "logits", (None, len(meta.categories)), "one logit per category")
    _expect(judge, "output", "features", (None, meta.feature_dim), "features")


def _expect(
    model: ModelSession, kind: str, tensor: str, expected: tuple[int | None, ...], meaning: str
) -> None:
    args = model.session.get_inputs() if kind == "input" else model.session.get_outputs()
    by_name = {arg.name: arg for arg in args}
    if tensor not in by_name:
        raise ModelFileError(
            f"{model.name}: has no {kind} named '{tensor}' (it has {', '.join(sorted(by_name))})"
        )
    shape = by_name[tensor].shape
    if not _shape_matches(shape, expected):
        raise ModelFileError(
            f"{model.name} expects {tensor} {_format_shape(shape)} but its contract says "
            f"{meaning} {_format_shape(expected[1:])}"
        )


def _format_shape(shape: Sequence[object]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else "*" for d in shape) + "]"


def _shape_matches(actual: Sequence[object], expected: Sequence[int | None]) -> bool:
    """True when ranks agree and every fixed dimension of `actual` equals `expected`.

    A symbolic (named) or unknown dimension in the file matches anything; `None` in
    `expected` is the batch dimension, which may be anything.
    """
    if len(actual) != len(expected):
        return False
    return all(
        want is None or not isinstance(have, int) or have == want
        for have, want in zip(actual, expected, strict=True)
    )


def _is_unreadable(error: Exception) -> bool:
    text = str(error)
    return any(word in text for word in ("INVALID_PROTOBUF", "Protobuf", "INVALID_GRAPH"))


def first_line(error: Exception) -> str:
    """The first line of an error's message (ONNX Runtime's run to many), at most 300
    characters."""
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
