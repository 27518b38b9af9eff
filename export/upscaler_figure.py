"""The model card's upscaler figure: generator scenes at 512 px, bicubic beside learned.

    python -m export.upscaler_figure --models assets/models --out assets/models/upscaler_512.png
    python -m export.upscaler_figure --models DIR_64 --right-models DIR_128 --out FIGURE.png

One row per category: the generator.onnx scene drawn from that category's prototype feature
(seeded noise), enlarged to 512 px by Pillow's bicubic resize (left) and by upscaler.onnx
through `visualizer.upscale` (right), as the app and `musicscape render` do. By default
both sides are one folder's scene; `--right-models` draws the right side with another
folder's generator and upscaler (say a 128-px generator beside a 64-px one).
Each cell is the centre 256 x 256 of the 512-px picture at 1:1, so the PNG shows the pixels
a 512-px canvas shows. No torch: ONNX Runtime and Pillow only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from visualizer.model_files import ModelMetadata

SIZE = 512
CELL = 256
LABEL_HEIGHT = 18


def category_scenes(model_dir: Path, seed: int) -> tuple[ModelMetadata, np.ndarray]:
    """(the generator's metadata, its scenes [C, 3, S, S]): one per category, drawn from the
    category's prototype feature with seeded noise; a generator that takes picture
    attributes is asked for each category's typical light and colour, as the app asks with
    no feel."""
    from visualizer.model_files import GENERATOR_FILE, ModelFileError
    from visualizer.model_sessions import has_attributes, open_model
    from visualizer.picture_attributes import category_request

    generator = open_model(model_dir / GENERATOR_FILE, threads=1)
    meta = generator.metadata
    if not meta.category_prototypes:
        raise ModelFileError(f"{GENERATOR_FILE}: no category prototypes to draw scenes from")
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((len(meta.categories), meta.noise_dim)).astype(np.float32)
    features = np.asarray(meta.category_prototypes, dtype=np.float32)
    feeds = {"noise": noise, "feature": features}
    if has_attributes(generator):
        typical = category_request(np.eye(len(meta.categories)), meta.attribute_stats())
        feeds["attributes"] = typical.astype(np.float32)
    (images,) = generator.run(["image"], feeds)
    return meta, images


def side_by_side(model_dir: Path, seed: int = 0, right_dir: Path | None = None) -> np.ndarray:
    """uint8 [LABEL_HEIGHT + C * CELL, 2 * CELL, 3]: one row per category, `model_dir`'s
    scene by bicubic resize | `right_dir`'s (default `model_dir`'s) by its upscaler."""
    from PIL import Image, ImageDraw

    from visualizer.model_files import ModelFileError
    from visualizer.upscale import load_upscaler

    right_dir = model_dir if right_dir is None else right_dir
    upscaler = load_upscaler(right_dir)
    if not upscaler.learned:
        raise ModelFileError(f"{right_dir}: no upscaler.onnx to compare")
    left_meta, left_images = category_scenes(model_dir, seed)
    right_meta, right_images = category_scenes(right_dir, seed)
    if right_meta.categories != left_meta.categories:
        raise ModelFileError(
            f"{model_dir} and {right_dir}: different categories "
            f"({', '.join(left_meta.categories)} vs {', '.join(right_meta.categories)})"
        )
    bicubic = load_upscaler(None)
    margin = (SIZE - CELL) // 2
    rows = []
    for left, right in zip(left_images, right_images, strict=True):
        cells = [bicubic.upscale(left, SIZE), upscaler.upscale(right, SIZE)]
        rows.append(
            np.concatenate([c[margin : margin + CELL, margin : margin + CELL] for c in cells], 1)
        )
    figure = np.concatenate([np.zeros((LABEL_HEIGHT, 2 * CELL, 3), np.uint8), *rows], axis=0)
    picture = Image.fromarray(figure)
    draw = ImageDraw.Draw(picture)
    draw.text((6, 3), f"{left_meta.image_size} px, bicubic to {SIZE}", fill=(255, 255, 255))
    draw.text(
        (CELL + 6, 3),
        f"{right_meta.image_size} px, {upscaler.description} to {SIZE}",
        fill=(255, 255, 255),
    )
    for index, name in enumerate(left_meta.categories):
        draw.text((6, LABEL_HEIGHT + index * CELL + 4), name, fill=(255, 255, 255))
    return np.asarray(picture)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    parser = argparse.ArgumentParser(prog="python -m export.upscaler_figure")
    parser.add_argument(
        "--models", type=Path, required=True, help="model folder with upscaler.onnx"
    )
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument(
        "--right-models",
        type=Path,
        help="model folder whose generator and upscaler draw the right side (default --models)",
    )
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    args = parser.parse_args(argv)
    figure = side_by_side(args.models, args.seed, args.right_models)
    Image.fromarray(figure).save(args.out, optimize=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
