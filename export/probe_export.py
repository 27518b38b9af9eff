"""The category probe (`musicscape train --stages probe`) put inside music_encoder.onnx.

`attach_category_probe` exports the probe and its nudge (training.models.category_probe)
as a graph of (window, feature, category_scores) and joins it after the encoder's graph, so
the file keeps its one input and two outputs, and the app, render and eval read the blend
with no change. It refuses an encoder that already carries a probe (unless asked to replace
it: `detach_category_probe` takes the old one out first), or one whose categories or front
end differ from the probe's, or whose training tracks differ from the probe's, unless the
probe was fitted on every labelled track (`probe.tracks = "labelled"`): then it must have
heard all of the encoder's training tracks, and the encoder's validation tracks it heard are
listed in the metadata (`heard_validation_tracks`) so that `musicscape eval` says that its
figures on them are not unheard music. The joined file is checked against ONNX Runtime's
encoder followed by the torch nudge on real windows (max abs difference <= TOLERANCE).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError

from export.graph_speedups import speed_up_graph
from export.onnx_export import EXAMPLE_BATCH, ExportMismatchError, export_module
from visualizer.model_files import METADATA_PREFIX, PROBE_KEY, ModelFileError, ModelMetadata

ENCODER_OUTPUTS = ("feature", "category_scores")
# The names the encoder's own outputs take inside the joined graph.
UNBLENDED = {name: f"unblended_{name}" for name in ENCODER_OUTPUTS}
PROBE_PREFIX = "category_probe/"
# Looser than the other files' 1e-4: the nudge multiplies the probe's log-probabilities by
# the inverse of the prototypes' Gram matrix, so their float differences (~1e-5 between
# torch and ONNX Runtime) reach ~1e-4 in the feature.
TOLERANCE = 1e-3
CHECK_WINDOWS = 4  # real windows, from tracks spread over the encoder's training list


def _metadata(model: onnx.ModelProto, source: Path) -> ModelMetadata:
    return ModelMetadata.from_props({p.key: p.value for p in model.metadata_props}, str(source))


def check_compatible(meta: ModelMetadata, saved: dict, encoder_path: Path, checkpoint: Path):
    """Raise ModelFileError unless the probe checkpoint `saved` may join the encoder of
    metadata `meta` (the rules in the module docstring)."""
    if PROBE_KEY in meta.training_data:
        raise ModelFileError(
            f"{encoder_path}: already carries a category probe (replace it with --replace-probe)"
        )
    if list(meta.categories) != list(saved["categories"]):
        raise ModelFileError(
            f"{checkpoint}: the probe's categories {saved['categories']} are not "
            f"{encoder_path.name}'s {list(meta.categories)}"
        )
    if meta.frontend.to_dict() != saved["contract"]:
        raise ModelFileError(
            f"{checkpoint}: the probe's front end {saved['contract']} is not "
            f"{encoder_path.name}'s {meta.frontend.to_dict()}"
        )
    if not meta.category_prototypes:
        raise ModelFileError(f"{encoder_path}: has no category prototypes to blend against")
    listed = meta.training_data.get("train_tracks")
    if listed is None:
        return
    probe_tracks = set(saved["train_tracks"])
    if probe_fits_every_labelled_track(saved):
        missed = sorted(set(listed) - probe_tracks)
        if missed:
            raise ModelFileError(
                f"{checkpoint}: the probe, fitted on every labelled track, missed "
                f"{len(missed)} of {encoder_path.name}'s training tracks, e.g. {missed[:3]}; "
                "train it on the encoder's data"
            )
    elif sorted(listed) != sorted(probe_tracks):
        unheard = sorted(probe_tracks - set(listed))
        raise ModelFileError(
            f"{checkpoint}: the probe was trained on other tracks than {encoder_path.name} "
            f"({len(unheard)} the encoder did not train on, e.g. {unheard[:3]}); train it "
            "with the encoder's data split, or fit it on every labelled track "
            '(probe.tracks = "labelled")'
        )


def probe_fits_every_labelled_track(saved: dict) -> bool:
    """Whether the probe checkpoint `saved` was fitted on every labelled track."""
    from training.config import TrainConfig

    return TrainConfig.from_dict(saved["config"]).probe.tracks == "labelled"


def probe_version_mark(blend_weight: float, labelled: bool) -> str:
    """What a joined probe adds to the encoder's model version: its blend weight, and
    "-labelled" when it was fitted on every labelled track."""
    return f"+probe{blend_weight:g}" + ("-labelled" if labelled else "")


def detach_category_probe(encoder: onnx.ModelProto) -> onnx.ModelProto:
    """The encoder of a file that carries a category probe, without it: the graph up to the
    encoder's own outputs (UNBLENDED), renamed back, and its metadata without the probe's
    entry and version mark."""
    extracted = onnx.utils.Extractor(encoder).extract_model(["window"], list(UNBLENDED.values()))
    own = {unblended: name for name, unblended in UNBLENDED.items()}
    for node in extracted.graph.node:
        node.output[:] = [own.get(name, name) for name in node.output]
        node.input[:] = [own.get(name, name) for name in node.input]
    for output in extracted.graph.output:
        output.name = own[output.name]
    props = {p.key: p.value for p in encoder.metadata_props}
    training_data = json.loads(props[METADATA_PREFIX + "training_data"])
    blend_weight = training_data.pop(PROBE_KEY)["blend_weight"]
    props[METADATA_PREFIX + "training_data"] = json.dumps(training_data)
    version = json.loads(props[METADATA_PREFIX + "model_version"])
    for labelled in (True, False):
        version = version.removesuffix(probe_version_mark(blend_weight, labelled))
    props[METADATA_PREFIX + "model_version"] = json.dumps(version)
    for key, value in props.items():
        entry = extracted.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(extracted, full_check=True)
    return extracted


def _join(encoder: onnx.ModelProto, nudge: onnx.ModelProto) -> onnx.ModelProto:
    """The encoder's graph, its outputs renamed to UNBLENDED, then the nudge's graph (its
    names prefixed) reading the window and those outputs and writing the file's outputs."""
    graph = encoder.graph
    for node in graph.node:
        node.output[:] = [UNBLENDED.get(name, name) for name in node.output]
        node.input[:] = [UNBLENDED.get(name, name) for name in node.input]
    for output in graph.output:
        output.name = UNBLENDED[output.name]
    nudge = onnx.compose.add_prefix(nudge, PROBE_PREFIX)
    inputs = {f"{PROBE_PREFIX}window": "window"} | {
        f"{PROBE_PREFIX}{name}": UNBLENDED[name] for name in ENCODER_OUTPUTS
    }
    outputs = {f"{PROBE_PREFIX}blended_{name}": name for name in ENCODER_OUTPUTS}
    for node in nudge.graph.node:
        node.input[:] = [inputs.get(name, name) for name in node.input]
        node.output[:] = [outputs.get(name, name) for name in node.output]
    graph.node.extend(nudge.graph.node)
    graph.initializer.extend(nudge.graph.initializer)
    graph.value_info.extend(nudge.graph.value_info)
    kept = list(graph.output)
    del graph.output[:]
    for output in nudge.graph.output:
        output.name = outputs[output.name]
        graph.output.append(output)
    graph.value_info.extend(kept)
    imported = {opset.domain: opset.version for opset in encoder.opset_import}
    for opset in nudge.opset_import:
        if opset.domain not in imported:
            encoder.opset_import.append(opset)
        elif imported[opset.domain] != opset.version:
            raise ExportMismatchError(
                f"the probe exports with opset {opset.version} of {opset.domain or 'ai.onnx'!r}, "
                f"the encoder with {imported[opset.domain]}; re-export the encoder"
            )
    encoder.functions.extend(nudge.functions)
    onnx.checker.check_model(encoder, full_check=True)
    return encoder


def attach_category_probe(
    encoder_path: str,
    probe_checkpoint: str,
    out_path: str,
    data_root: str,
    eval_figures: dict | None = None,
    replace: bool = False,
) -> dict:
    """Write `out_path`: the encoder at `encoder_path` with the probe of `probe_checkpoint`
    joined after it (metadata: the encoder's, `training_data.category_probe` added, the
    version marked, and `eval_figures` in place of the encoder's when given); with `replace`,
    a probe the encoder already carries is taken out first. Returns {"real": max abs
    difference, "blend_weight", "weight_decay"}."""
    import onnxruntime as ort
    import torch

    from export.run_export import real_windows
    from training.checkpoint import load_checkpoint
    from training.config import TrainConfig
    from training.models.category_probe import CategoryProbe, ProbeNudge
    from visualizer.frontend import FrontEndContract

    encoder_path, probe_checkpoint = Path(encoder_path), Path(probe_checkpoint)
    if not encoder_path.is_file():
        raise FileNotFoundError(f"{encoder_path}: no such music encoder")
    try:
        encoder = onnx.load(str(encoder_path))
    except (DecodeError, OSError) as error:
        raise ModelFileError(f"{encoder_path}: not a readable ONNX model ({error})") from error
    if replace and PROBE_KEY in _metadata(encoder, encoder_path).training_data:
        encoder = detach_category_probe(encoder)
    meta = _metadata(encoder, encoder_path)
    saved = load_checkpoint(probe_checkpoint, "probe")
    check_compatible(meta, saved, encoder_path, probe_checkpoint)
    blend_weight = TrainConfig.from_dict(saved["config"]).probe.blend_weight
    labelled = probe_fits_every_labelled_track(saved)
    probe = CategoryProbe(FrontEndContract.from_dict(saved["contract"]), len(meta.categories))
    probe.load_state_dict(saved["probe"])
    prototypes = torch.tensor(meta.category_prototypes, dtype=torch.float32)
    nudge = ProbeNudge(probe, prototypes, blend_weight).eval()

    tracks = list(meta.training_data.get("train_tracks") or saved["train_tracks"])
    spread = tracks[:: max(1, len(tracks) // CHECK_WINDOWS)]
    windows = real_windows(Path(data_root), spread, saved["contract"], CHECK_WINDOWS)
    training_data = {
        **meta.training_data,
        PROBE_KEY: {
            "blend_weight": blend_weight,
            "weight_decay": saved["weight_decay"],
            "cv_accuracy": saved["cv_accuracy"],
            "training_accuracy": saved["training_accuracy"],
            "windows": saved["windows"],
            "tracks": len(saved["train_tracks"]),
            "heard_validation_tracks": sorted(
                set(saved["train_tracks"]) & set(meta.training_data.get("validation_tracks", []))
            ),
        },
    }
    props = {p.key: p.value for p in encoder.metadata_props}
    props[METADATA_PREFIX + "training_data"] = json.dumps(training_data)
    if eval_figures is not None:
        props[METADATA_PREFIX + "eval_figures"] = json.dumps(eval_figures)
    props[METADATA_PREFIX + "model_version"] = json.dumps(
        meta.model_version + probe_version_mark(blend_weight, labelled)
    )
    example = torch.from_numpy(np.repeat(windows[:1], EXAMPLE_BATCH, axis=0))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    original = ort.InferenceSession(
        encoder.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    features, scores = original.run(list(ENCODER_OUTPUTS), {"window": windows})
    with tempfile.TemporaryDirectory() as folder:
        nudge_path = Path(folder) / "nudge.onnx"
        export_module(
            nudge,
            (example, torch.from_numpy(features[:1]).repeat(EXAMPLE_BATCH, 1),
             torch.from_numpy(scores[:1]).repeat(EXAMPLE_BATCH, 1)),
            ["window", *ENCODER_OUTPUTS],
            [f"blended_{name}" for name in ENCODER_OUTPUTS],
            nudge_path,
            {},
        )  # fmt: skip
        joined = _join(encoder, onnx.load(str(nudge_path)))
    speed_up_graph(joined)
    del joined.metadata_props[:]
    for key, value in props.items():
        entry = joined.metadata_props.add()
        entry.key, entry.value = key, value
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(joined, str(out_path), save_as_external_data=False)

    session = ort.InferenceSession(str(out_path), options, providers=["CPUExecutionProvider"])
    got = session.run(list(ENCODER_OUTPUTS), {"window": windows})
    with torch.no_grad():
        expected = nudge(*(torch.from_numpy(x) for x in (windows, features, scores)))
    worst = 0.0
    for name, theirs, ours in zip(ENCODER_OUTPUTS, got, expected, strict=True):
        difference = float(np.max(np.abs(theirs - ours.numpy())))
        if not difference <= TOLERANCE:
            raise ExportMismatchError(
                f"{out_path}: output {name!r} differs from the encoder plus the torch probe by "
                f"max abs {difference:.3g} (tolerance {TOLERANCE:g})"
            )
        worst = max(worst, difference)
    return {"real": worst, "blend_weight": blend_weight, "weight_decay": saved["weight_decay"]}
