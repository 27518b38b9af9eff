"""The evaluation's result as words (`format_summary`) and as JSON (`write_json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _figure(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _streak_lines(checkerboard: dict[str, Any]) -> list[str]:
    """The streak line of the summary, when the checkerboard figures have streaks."""
    if "streaks" not in checkerboard:
        return []
    streaks, real = checkerboard["streaks"], checkerboard.get("real_photos_streaks")
    line = (
        f"streaks            vertical {streaks['vertical']:.3f}, "
        f"horizontal {streaks['horizontal']:.3f}"
    )
    if real is not None:
        line += f"  (real photos {real['vertical']:.3f}, {real['horizontal']:.3f})"
    return [line]


def format_summary(result: dict[str, Any]) -> str:
    """A readable table of `evaluate`'s result."""
    categories = result["categories"]
    retrieval, generation = result["retrieval"], result["generation"]
    width = max(10, *(len(name) + 2 for name in categories))
    lines = [
        f"{result['tracks']} tracks, {result['windows']} windows (subset {result['subset']}), "
        f"{len(result['skipped_tracks'])} files skipped",
        "",
        f"{'category':<{width}}{'retrieval':>10}{'generation':>12}",
    ]
    heard = result.get("heard_by_probe", [])
    if heard:
        lines[1:1] = [
            f"{len(heard)} of these tracks were held out from the encoder but heard by its "
            "category probe (fitted on every labelled track): not unheard music"
        ]
    for name in categories:
        r = retrieval["per_category"].get(name)
        g = generation["per_category"].get(name)
        lines.append(f"{name:<{width}}{_figure(r):>10}{_figure(g):>12}")
    lines.append(
        f"{'all':<{width}}{_figure(retrieval['accuracy']):>10}{_figure(generation['accuracy']):>12}"
    )
    lines.append(
        f"{'min share':<{width}}{_figure(min(retrieval['chosen_share'].values())):>10}"
        f"{_figure(min(generation['chosen_share'].values())):>12}"
        "  (smallest share of answers any category gets)"
    )
    lines += [
        "",
        f"generation confusion ({generation['draws_per_window']} draws per window; "
        "rows = music category, columns = judge's category):",
        " " * width + "".join(f"{name[:9]:>10}" for name in categories),
    ]
    for name, row in zip(categories, generation["confusion"], strict=True):
        lines.append(f"{name:<{width}}" + "".join(f"{count:>10d}" for count in row))
    real = result["real_photos"]
    lines += [
        "",
        f"centroid accuracy  {_figure(generation['centroid_accuracy'])}  "
        f"({generation['centroid_draws']} draws each: "
        + ", ".join(
            f"{name} {_figure(value)}"
            for name, value in generation["centroid_per_category"].items()
        )
        + ")",
        f"stability          {_figure(generation['stability'])}",
        f"feel               music vs picture "
        f"{_figure(result['feel']['music_to_picture_spearman'])} "
        f"(Spearman, strength {result['feel']['strength']:g}); asked vs drawn r: "
        + ", ".join(f"{k} {_figure(v)}" for k, v in result["feel"]["asked_vs_drawn"].items()),
        "attribute control  "
        + (
            "n/a (the generator takes no attributes)"
            if result["attribute_control"] is None
            else "asked vs drawn r: "
            + ", ".join(
                f"{name} {_figure(values['pearson_r'])}"
                for name, values in result["attribute_control"]["attributes"].items()
            )
            + f" ({result['attribute_control']['draws_per_setting']} draws per setting)"
        ),
        f"checkerboard       {_figure(result['checkerboard']['generated'], 2)}x"
        + (
            f"  (real photos {result['checkerboard']['real_photos']:.2f}x)"
            if "real_photos" in result["checkerboard"]
            else ""
        ),
        *_streak_lines(result["checkerboard"]),
        f"scene memory       {result['scene_memory_seconds']:g} s  (each window alone: "
        f"retrieval {_figure(result['per_window']['retrieval_accuracy'])}, "
        f"stability {_figure(result['per_window']['stability'])})",
        f"diversity          {_figure(generation['diversity'])}"
        + ("" if real else "  (needs --scenes)"),
        f"fid_judge          {_figure(generation['fid_judge'], 2)}"
        + (f"  (vs {real['photos']} {real['source']} photos)" if real else "  (needs --scenes)"),
    ]
    if generation.get("fid_judge_mix_matched") is not None:
        lines.append(
            f"  photos in the music's category mix: {generation['fid_judge_mix_matched']:.2f}"
            f"  (real photos in that mix would score {generation['fid_judge_mix_floor']:.2f}"
            " on fid_judge)"
        )
    if real:
        lines.append(
            f"judge on real      {_figure(real['judge_accuracy'])}  "
            f"({real['source']} photos; the judge's own accuracy, for scale)"
        )
    for skipped in result["skipped_tracks"]:
        lines.append(f"skipped: {skipped['reason']}")
    for track in result["nonfinite_tracks"]:
        lines.append(f"NaN/inf: {track['path']}: {track['samples']} samples read as silence")
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
