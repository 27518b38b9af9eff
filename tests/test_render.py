"""`musicscape render` on the bundled models: real decoding, ONNX Runtime, H.264 + AAC encoding
by PyAV, and the files read back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from tests.bad_files import write_ogg_cut_short, write_wav_damaged_midway
from visualizer.app.model_runtime import ModelRuntime, default_model_dir
from visualizer.app.output_level import dim
from visualizer.app.scene_director import DEFAULT_CROSSFADE_SECONDS, HOLD, SceneMode
from visualizer.motion import frame_changes, load_frames
from visualizer.render import (
    FrameQueue,
    OfflinePipeline,
    Progress,
    TempoGrid,
    parse_mode,
    render,
    run,
)
from visualizer.upscale import to_rgb8

RATE = 44_100
CLICK_PERIOD = 0.5


@pytest.fixture(scope="module")
def runtime():
    return ModelRuntime(default_model_dir(), intra_op_threads=1)


def click_track(path: Path, seconds: float, rate: int = RATE) -> Path:
    """A soft stereo chord with a 5-ms click every CLICK_PERIOD s from 0.25 s on."""
    t = np.arange(int(seconds * rate)) / rate
    chord = 0.05 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 330 * t)
    clicks = (np.mod(t - 0.25, CLICK_PERIOD) < 0.005) & (t >= 0.25)
    noise = np.random.default_rng(0).standard_normal(len(t))
    mono = chord + 0.8 * clicks * noise
    sf.write(path, np.stack([mono, 0.5 * mono], axis=1).astype(np.float32), rate)
    return path


def decoded(path: Path) -> tuple[list[np.ndarray], np.ndarray, dict]:
    import av

    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        info = {
            "video_codec": video.codec_context.name,
            "audio_codec": audio.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "rate": audio.codec_context.sample_rate,
            "channels": audio.codec_context.channels,
        }
        frames, sound = [], []
        for frame in container.decode(video=0, audio=0):
            if isinstance(frame, av.VideoFrame):
                frames.append(frame.to_ndarray(format="rgb24"))
            else:
                sound.append(frame.to_ndarray())
    return frames, np.concatenate(sound, axis=1), info


def test_the_video_holds_h264_frames_and_the_files_audio_as_aac_in_step(tmp_path, runtime):
    music = click_track(tmp_path / "clicks.wav", 3.0)
    result = render(runtime, music, tmp_path / "out.mp4", 64, 30.0, frames_dir=tmp_path / "f")
    assert (result.frames, result.interrupted) == (90, False)
    frames, sound, info = decoded(tmp_path / "out.mp4")
    assert info == {
        "video_codec": "h264",
        "audio_codec": "aac",
        "size": (64, 64),
        "rate": RATE,
        "channels": 2,
    }
    assert len(frames) == 90
    # AAC pads to whole 1024-sample frames and adds its priming: within two of them.
    assert abs(sound.shape[1] - 3 * RATE) <= 2 * 1024
    right_over_left = np.abs(sound[1]).sum() / np.abs(sound[0]).sum()
    assert right_over_left == pytest.approx(0.5, abs=0.02)
    written, log = load_frames(tmp_path / "f")
    assert len(written) == len(log["frames"]) == 90
    shown = np.asarray(Image.open(tmp_path / "f" / "frame_000045.png"))
    # H.264 at crf 20 in yuv420p: close to the PNG, not equal.
    assert np.abs(frames[45].astype(float) - shown).mean() < 6.0


def test_the_same_seed_gives_the_same_frames_and_another_seed_others(tmp_path, runtime):
    music = click_track(tmp_path / "clicks.wav", 2.0)
    renders = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        render(
            runtime,
            music,
            tmp_path / f"{name}.mp4",
            64,
            30.0,
            seed=seed,
            frames_dir=tmp_path / name,
        )
        renders[name] = load_frames(tmp_path / name)[0]
    np.testing.assert_array_equal(renders["a"], renders["b"])
    assert np.abs(renders["a"][-1] - renders["c"][-1]).mean() > 1.0


def test_a_fade_takes_picture_and_sound_in_from_black_and_out_to_it(tmp_path, runtime):
    fps, fade = 20.0, 0.5
    music = tmp_path / "tone.wav"
    t = np.arange(int(2.0 * RATE)) / RATE
    sf.write(music, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)
    for name, seconds in (("plain", 0.0), ("faded", fade)):
        render(
            runtime,
            music,
            tmp_path / f"{name}.mp4",
            64,
            fps,
            frames_dir=tmp_path / name,
            fade_seconds=seconds,
        )
    plain, faded = load_frames(tmp_path / "plain")[0], load_frames(tmp_path / "faded")[0]
    assert len(plain) == len(faded) == 40
    # frame i at i / fps: up over the first 10 frames, down to the last (frame 39 black)
    gains = [min(i / fps, 39 / fps - i / fps) / fade for i in range(40)]
    for frame, (shown, level) in enumerate(zip(faded, gains, strict=True)):
        expected = dim(plain[frame], min(level, 1.0))
        np.testing.assert_array_equal(shown, expected, err_msg=f"frame {frame}")
    assert not faded[0].any() and not faded[-1].any() and faded[5].any()
    _, sound, _ = decoded(tmp_path / "faded.mp4")
    _, loud, _ = decoded(tmp_path / "plain.mp4")
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    first, middle = slice(0, RATE // 20), slice(RATE, RATE + RATE // 20)
    last = slice(sound.shape[1] - RATE // 10, sound.shape[1] - RATE // 20)
    assert rms(sound[:, first]) < 0.1 * rms(loud[:, first])  # the first 50 ms: near silence
    assert rms(sound[:, middle]) == pytest.approx(rms(loud[:, middle]), rel=0.05)
    assert rms(sound[:, last]) < 0.3 * rms(loud[:, last])  # 50-100 ms before the end: <0.2


def test_a_click_track_gives_pulses_at_the_clicks_and_no_cut(tmp_path, runtime):
    music = click_track(tmp_path / "clicks.wav", 6.0)
    render(runtime, music, tmp_path / "out.mp4", 64, 60.0, frames_dir=tmp_path / "f")
    frames, log = load_frames(tmp_path / "f")
    entries = log["frames"]
    changes = frame_changes(frames)
    beat_times = [entry["time"] for entry in entries if entry["beat"]]
    clicks = 0.25 + CLICK_PERIOD * np.arange(12)
    # The sound's start is a beat; then one beat per click, on the first frame that sees
    # the click: its analysis frame ends within one hop (23 ms) of the click, the display
    # frame within one frame (17 ms) after that.
    assert beat_times[0] < 0.05
    assert len(beat_times[1:]) == len(clicks)
    for click, beat in zip(clicks, beat_times[1:], strict=True):
        assert 0.0 <= beat - click <= 0.023 + 1 / 60 + 1e-9
    assert changes.max() <= 15.0  # no cut anywhere, from the first frame on
    times = np.array([entry["time"] for entry in entries])
    after_click = np.zeros(len(entries), bool)
    for beat in beat_times:
        after_click |= (times >= beat) & (times < beat + 0.15)
    measured = np.arange(len(entries)) > 0
    pulsing = changes[after_click & measured].mean()
    between = changes[~after_click & measured].mean()
    assert pulsing > 3.0 * between


def test_a_tempo_grid_gives_pulses_on_its_beats_not_on_the_clicks(tmp_path, runtime):
    music = click_track(tmp_path / "clicks.wav", 4.0)  # clicks every 0.5 s from 0.25 s
    grid = TempoGrid(100.0, first_beat=0.1)  # a beat every 0.6 s from 0.1 s
    render(
        runtime, music, tmp_path / "out.mp4", 64, 60.0, frames_dir=tmp_path / "f", tempo_grid=grid
    )
    frames, log = load_frames(tmp_path / "f")
    entries = log["frames"]
    beat_times = np.array([entry["time"] for entry in entries if entry["beat"]])
    grid_beats = 0.1 + 0.6 * np.arange(7)  # 0.1 … 3.7 s
    assert len(beat_times) == len(grid_beats)
    late = beat_times - grid_beats
    assert np.all((late >= -1e-9) & (late < 1 / 60))  # each on the first frame at or after it
    changes = frame_changes(frames)
    times = np.array([entry["time"] for entry in entries])
    after_beat = np.zeros(len(entries), bool)
    for beat in beat_times:
        after_beat |= (times >= beat) & (times < beat + 0.15)
    measured = np.arange(len(entries)) > 0
    assert changes[after_beat & measured].mean() > 3.0 * changes[~after_beat & measured].mean()


@pytest.mark.parametrize("crossfade", [DEFAULT_CROSSFADE_SECONDS, 6.0])
def test_a_held_scene_switch_is_a_bounded_cross_fade_of_the_crossfade_time(
    tmp_path, runtime, crossfade
):
    music = click_track(tmp_path / "clicks.wav", 8.0)
    contract = runtime.metadata.frontend
    samples = sf.read(music, dtype="float32")[0].mean(axis=1)
    from scipy.signal import resample_poly

    samples = resample_poly(samples, contract.sample_rate, RATE).astype(np.float32)
    pipeline = OfflinePipeline(runtime, crossfade_seconds=crossfade)
    director = pipeline.director
    director.quiet_speed = director.busy_speed = director.pulse_size = 0.0  # only the fade
    fps, switch_time = 60.0, 3.0
    frames, read = [], 0
    for index in range(int(8.0 * fps)):
        now = index / fps
        if now == switch_time:
            winner = int(np.argmax(director.probabilities))
            director.mode = SceneMode(HOLD, (winner + 2) % len(runtime.metadata.categories))
        due = math.floor(now * contract.sample_rate)
        image, _ = pipeline.frame(samples[read:due], now)
        read = due
        frames.append(to_rgb8(image).astype(np.float64))
    frames = np.stack(frames)
    start = int(switch_time * fps)
    changes = frame_changes(frames[start - 1 :])[1:]
    distance = np.abs(frames[start:] - frames[-1]).mean(axis=(1, 2, 3))
    assert distance[0] > 20.0  # another scene
    assert changes.max() <= 3.0  # per frame, a small step
    if crossfade == DEFAULT_CROSSFADE_SECONDS:
        ninety = int(np.argmax(distance < 0.1 * distance[0]))
        assert ninety / fps >= 1.0
    else:  # 1.5 s in, a 6-s cross-fade is not half way (the default's is past 90%)
        assert distance[int(1.5 * fps)] > 0.5 * distance[0]


def test_an_interrupted_render_leaves_a_playable_file_in_sync(tmp_path, runtime):
    class StopAfterOneSecond(Progress):
        def update(self, done_seconds: float, final: bool = False) -> None:
            if done_seconds >= 1.0 and not final:
                raise KeyboardInterrupt  # what Ctrl-C raises in the main thread

    music = click_track(tmp_path / "clicks.wav", 4.0)
    result = render(
        runtime, music, tmp_path / "out.mp4", 64, 30.0, progress=StopAfterOneSecond(4.0)
    )
    assert result.interrupted and result.frames == 30
    frames, sound, _ = decoded(tmp_path / "out.mp4")
    assert len(frames) == 30
    assert abs(sound.shape[1] - RATE) <= 2 * 1024


def test_chained_stages_keep_the_frame_order_and_raise_what_a_later_stage_raised():
    # render's stages: the models' thread -> the upscale -> the writer.
    written = []

    def write(index: int, frame: int) -> None:
        if index == 5:
            raise OSError("disk full")
        written.append((index, frame))

    output = FrameQueue(write)
    doubling = FrameQueue(lambda index, frame: output.put(index, 2 * frame))
    with pytest.raises(OSError, match="disk full"):
        try:
            for index in range(50):
                doubling.put(index, index)
        finally:
            try:
                doubling.close()
            finally:
                output.close()
    assert written == [(index, 2 * index) for index in range(5)]


def test_modes_name_a_category_by_name_or_number():
    categories = ("desert", "mountain", "sky", "water")
    assert parse_mode("auto", categories) == SceneMode()
    assert parse_mode("hold:water", categories) == SceneMode(HOLD, 3)
    assert parse_mode("hold:2", categories) == SceneMode(HOLD, 1)
    with pytest.raises(ValueError, match="desert, mountain, sky, water"):
        parse_mode("hold:forest", categories)
    with pytest.raises(ValueError, match="auto, hold:CATEGORY or bias:CATEGORY"):
        parse_mode("freeze", categories)


def test_an_unreadable_file_is_refused_naming_it(tmp_path, capsys):
    from visualizer.cli import build_parser

    missing = tmp_path / "nothing.ogg"
    parser, _ = build_parser()
    args = parser.parse_args(["render", str(missing), "-o", str(tmp_path / "out.mp4")])
    assert run(args) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "out.mp4").exists()


def test_frames_json_records_what_each_frame_saw(tmp_path, runtime):
    music = click_track(tmp_path / "clicks.wav", 1.0)
    render(runtime, music, tmp_path / "out.mp4", 64, 60.0, frames_dir=tmp_path / "f")
    log = json.loads((tmp_path / "f" / "frames.json").read_text())
    entries = log["frames"]
    assert log["fps"] == 60.0 and len(entries) == 60
    assert [entry["time"] for entry in entries] == pytest.approx(np.arange(60) / 60)
    # 22,050 Hz, hop 512: frame i has seen floor(i / 60 * 22050 / 512) analysis frames.
    seen = np.cumsum([entry["new_analysis_frames"] for entry in entries])
    np.testing.assert_array_equal(seen, np.floor(np.arange(60) / 60 * 22050) // 512)
    encoded = [entry["index"] for entry in entries if entry["encoded"]]
    assert encoded == [2, 17, 32, 47]  # the first analysis frame, then every 0.25 s


def test_feel_asks_each_frame_for_the_light_and_colour_of_the_music_followed_so_far(runtime):
    """Two pipelines on the same seed and music, at feel 0 and 1: loud fast clicks over a
    major chord give a high arousal, and the bundled generator (conditioned on picture
    attributes) asked at feel 1 draws frames whose mean L*, C* and b* lie nearer the
    target the follower holds than the feel-0 frames do, each within half a spread of it,
    and together less than half as far. (Per attribute the feel-0 frames can happen to lie
    near the target: the shipped generator's feel-0 chroma is 0.7 spreads from it.)"""
    from visualizer.picture_attributes import measure_attributes

    assert runtime.attribute_stats is not None
    spread = np.asarray(runtime.attribute_stats.spread[:3])
    rate = runtime.metadata.frontend.sample_rate
    t = np.arange(6 * rate) / rate
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (523.25, 659.25, 783.99))
    signal = (chord + 0.5 * (np.mod(t, 0.125) < 0.004)).astype(np.float32)
    fps, frames = 10.0, 60
    block = len(signal) // frames
    plain = OfflinePipeline(runtime, seed=3, feel_strength=0.0)
    felt = OfflinePipeline(runtime, seed=3, feel_strength=1.0)
    distance = {"plain": [], "felt": []}
    for index in range(frames):
        samples = signal[index * block : (index + 1) * block]
        pictures = {
            "plain": plain.frame(samples, index / fps)[0],
            "felt": felt.frame(samples, index / fps)[0],
        }
        target = felt.feel.target()
        wanted = np.array([target.lightness, target.chroma, target.yellowness])
        for name, picture in pictures.items():
            drawn = measure_attributes(((picture.transpose(1, 2, 0) + 1) / 2)[None])[0, :3]
            distance[name].append(np.abs(drawn - wanted) / spread)  # z-units
    assert felt.feel.arousal > 0.2
    assert (plain.feel.arousal, plain.feel.valence) == (felt.feel.arousal, felt.feel.valence)
    plain_distance = np.mean(distance["plain"][frames // 2 :], axis=0)
    felt_distance = np.mean(distance["felt"][frames // 2 :], axis=0)
    assert np.all(felt_distance < plain_distance)
    assert np.all(felt_distance < 0.5)
    assert felt_distance.sum() < 0.5 * plain_distance.sum()


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        (["--fps", "nan"], "--fps must be 1-240 frames per second, got nan"),
        (["--fps", "1000"], "--fps must be 1-240 frames per second, got 1000.0"),
        (["--reactivity", "4"], "--reactivity must be 0-3 (the app's + / - keys), got 4.0"),
        (["--seed", "-1"], "--seed must be 0-4294967295, got -1"),
        (["--fade", "-1"], "--fade must be 0-60 seconds, got -1.0"),
        (["--size", "0"], "--size must be 16-4096 pixels, got 0"),
        (["--size", "100002"], "--size must be 16-4096 pixels, got 100002"),
        (["--size", "255"], "--size must be even (H.264 halves the colour planes), got 255"),
        (
            ["--size", "1920x1081"],
            "--size must be even (H.264 halves the colour planes), got 1920x1081",
        ),
        (["--size", "1920x8"], "--size must be 16-4096 pixels, got 1920x8"),
        (
            ["--size", "2048x400"],
            "--size must be at most 4 times as wide as high (or as high as wide), got 2048x400",
        ),
        (["--feel", "2"], "--feel must be 0-1 (0: off), got 2.0"),
        (["--crossfade", "0"], "--crossfade must be 0.3-20 seconds, got 0.0"),
        (["--bpm", "10"], "--bpm must be 20-300 beats per minute, got 10.0"),
        (["--bpm", "120", "--first-beat", "-1"], "--first-beat must be 0-86400 seconds, got -1.0"),
        (["--first-beat", "2"], "--first-beat goes with --bpm"),
    ],
)
def test_numbers_out_of_range_are_refused_in_one_line(tmp_path, option, reason, capsys):
    from visualizer.cli import main

    assert main(["render", str(tmp_path / "a.ogg"), "-o", str(tmp_path / "o.mp4"), *option]) == 2
    assert capsys.readouterr().err.strip() == f"musicscape render: {reason}"
    assert not (tmp_path / "o.mp4").exists()


def test_a_size_that_is_not_one_is_refused_by_the_parser(tmp_path, capsys):
    from visualizer.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["render", str(tmp_path / "a.ogg"), "-o", str(tmp_path / "o.mp4"), "--size", "wide"])
    assert refused.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "musicscape render: error: argument --size: not a size: 'wide' (try 512, or 1920x1080 "
        "for the middle of the picture)"
    )


def test_a_wide_frame_is_the_middle_of_the_square_picture(tmp_path, runtime):
    """`--size 128x72`: each frame is the middle 72 rows of the 128-px square frame the same
    render makes (the same seed: the same pictures), as a 16:9 screen filled by it shows."""
    music = click_track(tmp_path / "clicks.wav", 2.0)
    render(runtime, music, tmp_path / "square.mp4", 128, 15.0, frames_dir=tmp_path / "sq")
    result = render(
        runtime, music, tmp_path / "wide.mp4", 128, 15.0, frames_dir=tmp_path / "w", height=72
    )
    assert result.frames == 30
    frames, _, info = decoded(tmp_path / "wide.mp4")
    assert info["size"] == (128, 72) and len(frames) == 30
    for index in (5, 20):
        square = np.asarray(Image.open(tmp_path / "sq" / f"frame_{index:06d}.png"))
        wide = np.asarray(Image.open(tmp_path / "w" / f"frame_{index:06d}.png"))
        assert wide.shape == (72, 128, 3)
        assert np.array_equal(wide, square[28:100])


@pytest.mark.parametrize("frames", ["taken", "taken/frames"])
def test_a_frames_folder_that_cannot_be_made_is_refused_in_one_line(tmp_path, capsys, frames):
    from visualizer.cli import main

    taken = tmp_path / "taken"
    taken.write_text("mine\n")
    out = tmp_path / "o.mp4"
    argv = ["render", str(tmp_path / "a.ogg"), "-o", str(out), "--frames", str(tmp_path / frames)]
    assert main(argv) == 2
    assert (
        capsys.readouterr().err.strip() == f"musicscape render: --frames: {taken} is not a folder"
    )
    assert taken.read_text() == "mine\n" and not out.exists()


def render_cli(tmp_path: Path, music: Path, *options: str) -> int:
    from visualizer.cli import build_parser

    parser, _ = build_parser()
    out = str(tmp_path / "out.mp4")
    return run(parser.parse_args(["render", str(music), "-o", out, "--size", "64", *options]))


def test_nan_and_infinite_samples_render_as_silence_and_are_counted(tmp_path, capsys):
    time = np.arange(3 * RATE) / RATE
    left = (0.3 * np.sin(2 * np.pi * 440 * time)).astype(np.float32)
    right = left.copy()
    left[RATE : RATE + 600] = np.nan
    right[2 * RATE : 2 * RATE + 400] = -np.inf
    music = tmp_path / "nans.wav"
    sf.write(music, np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    assert render_cli(tmp_path, music, "--fps", "10") == 0
    # the analysis downmixes first: a frame with a NaN or inf in either channel is one sample
    assert f"{music}: 1000 samples are NaN or infinite; they were rendered as silence" in (
        capsys.readouterr().err
    )
    frames, sound, _ = decoded(tmp_path / "out.mp4")
    assert len(frames) == 30
    assert np.isfinite(sound).all()
    assert abs(sound.shape[1] - 3 * RATE) <= 2 * 1024
    assert np.abs(sound[0, : RATE // 2]).max() > 0.2  # the finite rest plays


def test_a_file_damaged_midway_renders_up_to_the_damage_and_says_where(tmp_path, capsys):
    music = write_wav_damaged_midway(tmp_path / "damaged.wav", 8.0, 5.0, RATE)
    assert render_cli(tmp_path, music, "--fps", "10") == 1
    err = capsys.readouterr().err
    assert f"{music}: decoded samples reach 5.7e+29 near 5.0 s" in err
    assert f"{tmp_path / 'out.mp4'} holds the first 4.1 s" in err
    frames, sound, _ = decoded(tmp_path / "out.mp4")
    assert len(frames) == 41  # frames 0 .. 40 see audio up to 4.0 s, the first chunk
    assert np.isfinite(sound).all() and np.abs(sound).max() < 1.0


def test_an_ogg_file_cut_short_renders_all_it_holds_and_says_it_was_cut(tmp_path, capsys):
    music = write_ogg_cut_short(tmp_path / "cut.ogg", 20.0, 0.5, RATE)
    held = sf.info(music).duration  # 7.3 s of the 20
    assert render_cli(tmp_path, music, "--fps", "10") == 1
    err = capsys.readouterr().err
    assert f"{music}: the Ogg stream breaks off at {held:.1f} s without its end (the file" in err
    whole_frames = math.floor(held * 10)  # every frame of what the file holds, at 10 fps
    assert f"{tmp_path / 'out.mp4'} holds the first {whole_frames / 10:.1f} s" in err
    frames, sound, _ = decoded(tmp_path / "out.mp4")
    assert len(frames) == whole_frames
    assert abs(sound.shape[1] - whole_frames / 10 * RATE) <= 2 * 1024  # the sound as long


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("missing/out.mp4", "{tmp}/missing does not exist"),
        ("music.wav/out.mp4", "{tmp}/music.wav is not a folder"),
        (
            "music.wav",
            "a video file's name ends in .mp4, .m4v, .mov, .mkv (H.264 with AAC), not '.wav'",
        ),
        (
            "out.ogg",
            "a video file's name ends in .mp4, .m4v, .mov, .mkv (H.264 with AAC), not '.ogg'",
        ),
    ],
)
def test_an_output_that_cannot_be_a_video_is_refused_before_any_work(tmp_path, capsys, out, reason):
    from visualizer.cli import build_parser

    music = click_track(tmp_path / "music.wav", 1.0)
    before = music.read_bytes()
    parser, _ = build_parser()
    target = tmp_path / out
    assert run(parser.parse_args(["render", str(music), "-o", str(target)])) == 2
    err = capsys.readouterr().err
    assert err == f"musicscape render: cannot write {target}: {reason.format(tmp=tmp_path)}\n"
    assert music.read_bytes() == before  # the music is never overwritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["music.wav"]


def test_a_bad_upscaler_is_refused_before_any_work(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    for path in default_model_dir().glob("*.onnx"):
        (models / path.name).symlink_to(path)
    (models / "upscaler.onnx").unlink()
    (models / "upscaler.onnx").write_bytes(b"not a model")
    music = click_track(tmp_path / "music.wav", 1.0)
    code = render_cli(tmp_path, music, "--models", str(models))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("musicscape render: upscaler.onnx: not a readable ONNX model")
    assert not (tmp_path / "out.mp4").exists()


def test_an_m4a_renders_with_its_own_stereo_sound(tmp_path):
    from tests.frontend.decoder_fuzz import write_container

    t = np.arange(3 * 44_100) / 44_100
    sides = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1)
    music = write_container(
        tmp_path / "song.m4a", "mp4", "aac", 44_100, (0.4 * sides).astype(np.float32), 192_000
    )
    assert render_cli(tmp_path, music, "--fps", "10") == 0
    frames, sound, info = decoded(tmp_path / "out.mp4")
    assert len(frames) == 30 and (info["rate"], info["channels"]) == (44_100, 2)
    spectra = np.abs(np.fft.rfft(sound[:, 44_100:88_200] * np.hanning(44_100), axis=1))
    assert list(np.argmax(spectra, axis=1)) == [440, 660]  # 1-Hz bins: each side its tone


def test_prores_renders_the_pictures_every_frame_a_key_frame(tmp_path, capsys):
    import av

    from visualizer.cli import build_parser

    music = click_track(tmp_path / "music.wav", 2.0)
    parser, _ = build_parser()
    common = ["render", str(music), "--size", "64", "--fps", "15", "--codec", "prores"]
    options = [*common, "-o", str(tmp_path / "p.mov"), "--frames", str(tmp_path / "f")]
    assert run(parser.parse_args(options)) == 0
    frames, sound, info = decoded(tmp_path / "p.mov")
    pictures, _ = load_frames(tmp_path / "f")  # the frames as rendered, before encoding
    assert info["video_codec"] == "prores" and info["audio_codec"] == "aac"
    assert len(frames) == len(pictures) == 30 and abs(sound.shape[1] - 2 * RATE) <= 2048
    loss = np.abs(np.stack(frames).astype(int) - pictures.astype(int)).mean()
    assert loss < 4.0  # RGB to 10-bit 4:2:2 and back: H.264's 4:2:0 loses 2.9 here
    with av.open(str(tmp_path / "p.mov")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv422p10le"
        assert all(packet.is_keyframe for packet in container.demux(stream) if packet.size)
    out = tmp_path / "p.mp4"
    assert run(parser.parse_args([*common, "-o", str(out)])) == 2
    assert capsys.readouterr().err.endswith(
        f"musicscape render: cannot write {out}: a video file's name ends in .mov, .mkv "
        "(Apple ProRes 422 with AAC), not '.mp4'\n"
    )
    assert not out.exists()
