"""From a generator image to the picture at output size: the learned upscaler, else a resize.

The app and `musicscape render` both call this, so they show the same pixels:

    upscaler = load_upscaler(model_dir)          # once; learned when upscaler.onnx is there
    pixels = upscaler.upscale(image, size)       # per frame

`image` is what generator.onnx paints, float [3, S, S] in [-1, 1]; `pixels` is uint8
[size, size, 3] RGB, C-contiguous (a QImage or a video frame as is). With upscaler.onnx
the image goes through it (S -> S * scale; its metadata says the scale) and the result is
resized to `size` when that differs, by the Upscaler's `final_resize` (Pillow's bicubic
filter unless its maker passes another: the app and render pass Qt's smooth scaling,
`visualizer.app.qt_resize`, three to four times faster at 512 px); without it, or when `size` <= S,
the image is resized by Pillow's bicubic filter (antialiased when shrinking). No torch here.

upscaler.onnx  input  "image"    float32 [batch, 3, height, width] in [-1, 1] (any size)
               output "upscaled" float32 [batch, 3, height * scale, width * scale] in [-1, 1]
Its metadata_props hold `UpscalerMetadata.to_props()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from visualizer.model_files import ModelFileError, unprefixed
from visualizer.pixels import to_uint8
from visualizer.resize import Filter, centre_crop, resize_rgb8

UPSCALER_FILE = "upscaler.onnx"
UPSCALER_PREFIX = "musicscape.upscaler."


@dataclass(frozen=True)
class UpscalerMetadata:
    scale: int  # output side / input side
    input_size: int  # the generator image side it was made for (the graph takes any side)
    model_version: str
    training_data: dict[str, Any] = field(default_factory=dict)
    eval_figures: dict[str, Any] = field(default_factory=dict)

    def to_props(self) -> dict[str, str]:
        return {UPSCALER_PREFIX + key: json.dumps(value) for key, value in asdict(self).items()}

    @classmethod
    def from_props(cls, props: dict[str, str], source: str) -> UpscalerMetadata:
        ours = unprefixed(props, UPSCALER_PREFIX)
        missing = [key for key in ("scale", "input_size", "model_version") if key not in ours]
        if missing:
            raise ModelFileError(
                f"{source}: not a musicscape upscaler (metadata lacks "
                f"{', '.join(UPSCALER_PREFIX + key for key in missing)}); re-export it with "
                "`musicscape export --upscaler-only`"
            )
        try:
            values = {key: json.loads(value) for key, value in ours.items()}
            metadata = cls(
                scale=int(values["scale"]),
                input_size=int(values["input_size"]),
                model_version=str(values["model_version"]),
                training_data=dict(values.get("training_data", {})),
                eval_figures=dict(values.get("eval_figures", {})),
            )
        except (ValueError, TypeError) as error:
            raise ModelFileError(f"{source}: unreadable upscaler metadata ({error})") from error
        if metadata.scale < 2:
            raise ModelFileError(f"{source}: upscaler scale {metadata.scale} is below 2")
        return metadata


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """float [3, H, W] in [-1, 1] -> uint8 [H, W, 3] RGB, C-contiguous (pixels.to_uint8:
    rounded, clipped; converted plane by plane, then interleaved as bytes)."""
    return np.ascontiguousarray(to_uint8(image).transpose(1, 2, 0))


RgbResize = Callable[[np.ndarray, int], np.ndarray]  # uint8 [H, W, 3], size -> [size, size, 3]


def bicubic_resize(pixels: np.ndarray, size: int) -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [size, size, 3] by Pillow's bicubic filter."""
    return resize_rgb8(pixels, size, Filter.BICUBIC)


class Upscaler:
    """Turns generator images into output-size RGB frames (see the module docstring).

    `session` (an onnxruntime.InferenceSession of upscaler.onnx) and `metadata` together, or
    neither for the plain resize. `final_resize` takes the model's output to the asked size
    when the two differ. `load_upscaler` builds one from a model directory.
    """

    def __init__(
        self,
        session=None,
        metadata: UpscalerMetadata | None = None,
        final_resize: RgbResize = bicubic_resize,
    ):
        if (session is None) != (metadata is None):
            raise ValueError("an Upscaler needs both the session and its metadata, or neither")
        self.session = session
        self.metadata = metadata
        self.final_resize = final_resize

    @property
    def learned(self) -> bool:
        return self.session is not None

    @property
    def description(self) -> str:
        """How frames are enlarged, in words for a panel or a log."""
        if self.metadata is None:
            return "bicubic resize"
        return f"learned x{self.metadata.scale} ({self.metadata.model_version})"

    def upscale(self, image: np.ndarray, size: int) -> np.ndarray:
        """image float [3, S, S] in [-1, 1] (a generator output) -> uint8 [size, size, 3] RGB.

        Learned when this Upscaler has a model and `size` > S: S -> S * scale by the model,
        then `final_resize` to `size` if that differs; otherwise a bicubic resize of the
        image."""
        if image.ndim != 3 or image.shape[0] != 3:
            raise ValueError(f"expected an image [3, S, S], got shape {image.shape}")
        if size < 1:
            raise ValueError(f"output size must be at least 1, got {size}")
        if self.session is None or size <= image.shape[1]:
            return bicubic_resize(to_rgb8(image), size)
        batch = np.ascontiguousarray(image[None], dtype=np.float32)
        (upscaled,) = self.session.run(["upscaled"], {"image": batch})
        pixels = to_rgb8(upscaled[0])
        return pixels if pixels.shape[:2] == (size, size) else self.final_resize(pixels, size)

    def upscale_middle(self, image: np.ndarray, width: int, height: int) -> np.ndarray:
        """image float [3, S, S] -> uint8 [height, width, 3] RGB: the square enlarged to the
        longer side (`upscale`), its overhang cut off as a screen of that shape filled by
        it cuts it (`centre_crop`), C-contiguous."""
        square = self.upscale(image, max(width, height))
        return np.ascontiguousarray(centre_crop(square, width / height))


def load_upscaler(
    model_dir: str | Path | None,
    threads: int = 1,
    providers: Sequence[str] = ("CPUExecutionProvider",),
    final_resize: RgbResize = bicubic_resize,
) -> Upscaler:
    """The upscaler of a model directory: learned when it holds upscaler.onnx, else the plain
    resize (also when `model_dir` is None). A file that is there but unreadable, without
    upscaler metadata or with other inputs and outputs raises ModelFileError naming it.
    `threads` bounds ONNX Runtime's intra-op threads; `final_resize` is the Upscaler's."""
    if model_dir is None or not (Path(model_dir) / UPSCALER_FILE).is_file():
        return Upscaler()
    import onnxruntime as ort

    path = Path(model_dir) / UPSCALER_FILE
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=list(providers))
    except Exception as error:  # noqa: BLE001 - ORT raises many unrelated types
        raise ModelFileError(f"{UPSCALER_FILE}: not a readable ONNX model ({error})") from error
    metadata = UpscalerMetadata.from_props(
        dict(session.get_modelmeta().custom_metadata_map), UPSCALER_FILE
    )
    inputs = {arg.name: arg.shape for arg in session.get_inputs()}
    outputs = {arg.name: arg.shape for arg in session.get_outputs()}
    if list(inputs) != ["image"] or list(outputs) != ["upscaled"]:
        raise ModelFileError(
            f"{UPSCALER_FILE}: expected input 'image' and output 'upscaled', found inputs "
            f"{list(inputs)} and outputs {list(outputs)}"
        )
    if len(inputs["image"]) != 4 or inputs["image"][1] != 3:
        raise ModelFileError(f"{UPSCALER_FILE}: input 'image' is {inputs['image']}, not RGB")
    return Upscaler(session, metadata, final_resize)
