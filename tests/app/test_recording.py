"""Recording: the video file writer (H.264 or ProRes 422, + AAC through PyAV) read back by
PyAV, the recorder's constant-rate timing, and the running window recording what the canvas
shows."""

from __future__ import annotations

import contextlib
import re
import resource
import signal
import struct

import av
import numpy as np
import pytest
import soundfile as sf
from PyQt6.QtCore import Qt
from scipy.signal import butter, resample_poly, sosfiltfilt

from visualizer.app.playlist import Playlist
from visualizer.app.recorder import (
    RECORD_AUDIO_RATE,
    Recorder,
    RecordingProgress,
    SoundConverter,
)
from visualizer.app.sample_ring import SampleRing
from visualizer.app.stage import RECORD_SIZE
from visualizer.video_file import FRAGMENT_SECONDS, H264, PRORES, VideoFileWriter

from .conftest import canvas_alone_on_a_window

RATE = 22_050
TIMEOUT_MS = 15_000


def read_back(path):
    """(frames as RGB arrays, the first channel's audio, audio rate, codec names) decoded by
    PyAV."""
    with av.open(str(path)) as container:
        codecs = sorted(stream.codec_context.name for stream in container.streams)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    sound, rate = read_sound(path)
    return frames, sound[0], rate, codecs


def read_sound(path):
    """(audio as [channels, samples], rate) decoded by PyAV."""
    with av.open(str(path)) as container:
        chunks = [f.to_ndarray() for f in container.decode(audio=0)]
        rate = container.streams.audio[0].rate
    return np.concatenate(chunks, axis=1), rate


def solid(rgb, size=32):
    return np.full((size, size, 3), rgb, dtype=np.uint8)


def peak_hz(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def test_writer_makes_h264_and_aac_that_read_back(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = VideoFileWriter(path, 64, 64, 30, RATE)
    for index in range(30):  # 1 s: red then blue, scaled from 32 px to 64
        writer.write_frame(solid((230, 20, 20) if index < 15 else (20, 20, 230)))
    t = np.arange(RATE) / RATE
    writer.write_audio((0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32))
    writer.close()
    frames, audio, rate, codecs = read_back(path)
    assert codecs == ["aac", "h264"]
    assert len(frames) == 30 and frames[0].shape == (64, 64, 3)
    red, blue = frames[5].reshape(-1, 3).mean(0), frames[25].reshape(-1, 3).mean(0)
    assert red[0] > 200 and red[2] < 50 and blue[2] > 200 and blue[0] < 50
    assert rate == RATE and abs(len(audio) - RATE) < 2048  # AAC pads to whole frames
    assert abs(peak_hz(audio[2048:-2048], rate) - 440.0) < 3.0


def test_writer_refuses_odd_sizes_and_resamples_rates_aac_lacks(tmp_path):
    with pytest.raises(ValueError, match="even size"):
        VideoFileWriter(tmp_path / "odd.mp4", 63, 64, 30, RATE)
    writer = VideoFileWriter(tmp_path / "odd_rate.mp4", 32, 32, 30, 37_000)
    writer.write_frame(solid((0, 0, 0)))
    writer.write_audio(np.zeros(37_000, dtype=np.float32))
    writer.close()
    assert read_back(tmp_path / "odd_rate.mp4")[2] == 48_000


def test_recorder_keeps_a_constant_rate_and_places_audio_by_time(tmp_path):
    fps, start = 10.0, 100.0
    recorder = Recorder(tmp_path / "timed.mp4", 32, 32, fps, start_time=start)
    shown = [0.0, 0.1, 0.2, 0.5, 0.52, 0.6]  # 0.3 and 0.4 skipped; 0.52 falls in 0.5's slot
    for index, when in enumerate(shown):
        recorder.add_frame(solid((index * 40, 0, 0)), start + when)
    half = np.full(RATE // 2, 0.25, dtype=np.float32)
    recorder.add_audio(half, RATE, start + 0.5 - 1 / RATE)  # 0.0-0.5 s
    recorder.add_audio(half, RATE, start + 1.5 - 1 / RATE)  # 1.0-1.5 s: a 0.5 s gap before it
    summary = recorder.stop()
    assert (summary.frames_shown, summary.frames_written) == (6, 7)
    assert (summary.frames_repeated, summary.frames_merged, summary.frames_dropped) == (2, 1, 0)
    assert summary.error is None
    frames, audio, rate, _ = read_back(tmp_path / "timed.mp4")
    assert rate == RECORD_AUDIO_RATE
    reds = [round(frame[..., 0].mean() / 40) for frame in frames]
    assert reds == [0, 1, 2, 2, 2, 3, 5]
    level = lambda a, b: float(np.abs(audio[int(a * rate) : int(b * rate)]).mean())  # noqa: E731
    assert level(0.1, 0.4) > 0.2 and level(0.6, 0.9) < 0.01 and level(1.1, 1.4) > 0.2


def test_the_recorder_writes_the_middle_of_each_frame_at_its_shape(tmp_path):
    """A wide recording of a square picture: its top and bottom quarters (red, green) are
    cut, its middle (blue) fills the frame."""
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:16] = (255, 0, 0)
    picture[16:48] = (0, 0, 255)
    picture[48:] = (0, 255, 0)
    recorder = Recorder(tmp_path / "wide.mp4", 128, 64, 10.0, start_time=0.0)
    for slot in range(5):
        recorder.add_frame(picture, slot / 10.0)
    summary = recorder.stop()
    assert summary.error is None and summary.frames_written == 5
    with av.open(str(tmp_path / "wide.mp4")) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    assert len(frames) == 5 and frames[0].shape == (64, 128, 3)
    red, green, blue = (float(frames[2][..., c].mean()) for c in range(3))
    assert blue > 240 and red < 10 and green < 10, (red, green, blue)


@pytest.mark.parametrize("rate, channels", [(44_100, 2), (RATE, 1), (48_000, 2)])
def test_a_source_sound_becomes_48_khz_stereo_timed_by_the_instant_it_stands_for(rate, channels):
    t = np.arange(2 * rate) / rate
    sides = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 1000 * t)], axis=1)
    sound = (0.5 * sides[:, :channels]).astype(np.float32)
    if channels == 1:
        sound = sound[:, 0]
    converter = SoundConverter(rate, channels)
    start = 50.0  # the time of input sample 0
    pieces = []
    for first in range(0, len(sound), 441):  # 10-ms blocks at 44.1 kHz, as a callback gives
        block = sound[first : first + 441]
        last_time = start + (first + len(block) - 1) / rate
        converted, converted_time = converter.convert(block, last_time)
        if len(converted):
            pieces.append(converted)
            # The last output sample so far is output sample (given - 1), due at its instant.
            given = sum(len(piece) for piece in pieces)
            assert converted_time == pytest.approx(start + (given - 1) / RECORD_AUDIO_RATE)
    out = np.concatenate(pieces)
    assert out.shape[1] == 2 and out.dtype == np.float32
    assert abs(len(out) - 2 * RECORD_AUDIO_RATE) <= 2048  # the last chunk waits for more
    middle = out[RECORD_AUDIO_RATE // 2 : RECORD_AUDIO_RATE]
    left_hz, right_hz = (peak_hz(middle[:, side], RECORD_AUDIO_RATE) for side in (0, 1))
    assert left_hz == pytest.approx(440, abs=2.0)
    assert right_hz == pytest.approx(440 if channels == 1 else 1000, abs=2.0)


@pytest.mark.parametrize("rate", [44_100, RATE])
def test_a_source_s_sound_is_converted_to_its_last_instant_when_it_ends(rate):
    """What the resampler still holds as a source ends (flush) completes the sound: as many
    samples as its length at 48 kHz, equal to converting it followed by silence."""
    sound = (0.5 * np.sin(2 * np.pi * 440 * np.arange(rate // 4) / rate)).astype(np.float32)
    converter = SoundConverter(rate, 1)
    converted, _ = converter.convert(sound, 10.0)
    tail, tail_time = converter.flush()
    whole = np.concatenate([converted, tail])
    assert len(whole) == (len(sound) - 1) * RECORD_AUDIO_RATE // rate + 1
    assert tail_time == 10.0  # its last sample stands for the last one heard
    padded, _ = SoundConverter(rate, 1).convert(np.concatenate([sound, np.zeros(rate)]), 11.0)
    np.testing.assert_array_equal(whole, padded[: len(whole)])
    assert len(SoundConverter(RECORD_AUDIO_RATE, 2).flush()[0]) == 0  # nothing held back


def test_the_window_records_a_stereo_file_as_it_plays_not_as_the_models_hear_it(
    qtbot, make_window, model_dir, tmp_path
):
    """Left 1 kHz, right 15 kHz at 44.1 kHz: the recording holds both, each on its side
    (15 kHz is above what the models' 22,050 Hz can carry)."""
    t = np.arange(44_100 * 10) / 44_100
    sides = np.stack([np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 15_000 * t)], axis=1)
    path = tmp_path / "sides.flac"
    sf.write(path, (0.4 * sides).astype(np.float32), 44_100)
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    assert window.play_file(path)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert window.stage.start_recording()
    qtbot.wait(2000)
    summary = window.stage.stop_recording()
    assert summary.error is None
    sound, rate = read_sound(summary.path)
    assert rate == RECORD_AUDIO_RATE and sound.shape[0] == 2
    middle = sound[:, rate // 2 : rate]  # 0.5 s from the recording's first half
    assert peak_hz(middle[0], rate) == pytest.approx(1000, abs=2.0)
    assert peak_hz(middle[1], rate) == pytest.approx(15_000, abs=2.0)
    assert np.sqrt(np.mean(middle**2, axis=1)) == pytest.approx([0.4 / np.sqrt(2)] * 2, rel=0.1)


def test_ring_copy_since_leaves_the_consumer_alone():
    ring = SampleRing(1000, RATE)
    ring.write(np.arange(300, dtype=np.float32), 10.0)
    ring.write(np.arange(300, 600, dtype=np.float32), 11.0)
    out = np.empty(1000, dtype=np.float32)
    start, count, last = ring.copy_since(100, out)
    assert (start, count, last) == (100, 500, 11.0)
    assert np.array_equal(out[:count], np.arange(100, 600))
    assert ring.read_position == 0
    ring.write(np.arange(600, 1500, dtype=np.float32), 12.0)  # laps position 100
    start, count, last = ring.copy_since(600, out)
    assert (start, count, last) == (600, 900, 12.0)
    start, count, _ = ring.copy_since(0, out)
    assert (start, count) == (500, 1000) and out[0] == 500.0


def test_the_window_records_what_the_canvas_shows_with_the_sound(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.stage.recorder is not None and window.stage.record_button.isChecked()
    painted = window.canvas.frames_painted
    qtbot.wait(3000)
    window.stage.perform("blackout", (1,))  # the last second black, in the file too
    qtbot.wait(1000)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.stage.record_label.text().startswith("finishing musicscape-")
    qtbot.waitUntil(lambda: window.stage.last_recording is not None, timeout=TIMEOUT_MS)
    summary = window.stage.last_recording
    shown_live = window.canvas.frames_painted - painted
    print(
        f"\nrecording: {summary.seconds:.2f} s, shown live {shown_live}, to the recorder "
        f"{summary.frames_shown}, written {summary.frames_written}, dropped "
        f"{summary.frames_dropped}, repeated {summary.frames_repeated}, merged "
        f"{summary.frames_merged}"
    )
    assert summary.error is None and not window.stage.record_button.isChecked()
    assert window.stage.record_label.text().startswith(f"Saved {summary.path.name}: ")
    frames, audio, rate, codecs = read_back(summary.path)
    assert codecs == ["aac", "h264"] and rate == RECORD_AUDIO_RATE
    assert len(frames) == summary.frames_written >= 3.5 * 30  # 60 fps aimed at; loaded: 30
    assert frames[0].shape == (720, 720, 3)
    assert frames[len(frames) // 4].mean() > 5 and frames[-1].max() < 20  # black at the end
    # The sound is the file's, continuous: every 0.5-s stretch of it, a quarter second
    # apart, sits in the file at one offset. Compared below 2 kHz, where AAC keeps the
    # waveform (its noise bursts' highs are coded by their spectrum, not their shape); a
    # 30-ms gap scores under 0.85 there and moves the offset.
    assert abs(len(audio) / rate - summary.seconds) < 0.25
    source = resample_poly(sf.read(beats_file, dtype="float32")[0], 320, 147)  # to 48 kHz
    below_2k = butter(4, 2000, fs=rate, output="sos")
    heard, played = sosfiltfilt(below_2k, audio), sosfiltfilt(below_2k, source)
    starts = range(rate // 2, len(heard) - rate, rate // 4)
    matches = [locate(heard[start : start + rate // 2], played) for start in starts]
    offsets = [index - start for (index, _), start in zip(matches, starts, strict=True)]
    scores = [round(score, 3) for _, score in matches]
    assert len(matches) >= 10 and min(scores) > 0.95, scores
    assert max(offsets) - min(offsets) <= 0.001 * rate, offsets


def test_a_canvas_that_fills_a_wide_screen_is_recorded_wide_as_it_shows(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    """The canvas alone on a 16:9 window, filling it: the recording is 1280 x 720 and holds
    the middle of the picture the canvas crops it to (held still by freeze, to compare),
    not the whole square squeezed."""
    window = make_window(model_dir)
    window.show()
    window.stage.record_dir = tmp_path
    canvas_alone_on_a_window(qtbot, window, 640, 360)
    window.set_fill(True)
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert window.stage.set_freeze(True)
    qtbot.wait(200)  # the held picture on the canvas
    held = window.canvas.current_pixels().copy()
    assert window.stage.start_recording()
    qtbot.wait(1000)
    summary = window.stage.stop_recording()
    assert summary.error is None
    frames, *_ = read_back(summary.path)
    assert frames[0].shape == (720, 1280, 3)
    size = held.shape[0]
    middle = av.VideoFrame.from_ndarray(held[size * 7 // 32 : size * 25 // 32])
    squeezed = av.VideoFrame.from_ndarray(held)
    recorded = frames[len(frames) // 2].astype(float)

    def difference(frame):
        return np.abs(frame.reformat(1280, 720).to_ndarray(format="rgb24") - recorded).mean()

    assert difference(middle) < 4 and difference(squeezed) > 20, (
        difference(middle),
        difference(squeezed),
    )


def locate(segment, source):
    """Where `segment` best matches in `source` (sample index) and the normalised match."""
    size = len(source) + len(segment)
    correlation = np.fft.irfft(
        np.fft.rfft(source, size) * np.conj(np.fft.rfft(segment, size)), size
    )[: len(source) - len(segment)]
    index = int(np.argmax(correlation))
    window = source[index : index + len(segment)]
    score = correlation[index] / (np.linalg.norm(window) * np.linalg.norm(segment) + 1e-12)
    return index, float(score)


def test_bench_record_reports_live_rates_and_drops(model_dir, qapp):
    from visualizer.app.record_bench import run_record_bench

    report = run_record_bench(model_dir, 2.0, None, H264, aspect=16 / 9)
    assert (
        report["codec"] == H264
        and report["recorded_size"] == "1280 x 720"
        and report["error"] is None
        and report["live_fps"] > 0
        and report["recording_live_fps"] > 0
    )
    assert abs(report["recorded_seconds"] - 2.0) < 0.5  # constant 60 fps over the 2 s
    assert report["recorder_frames_dropped"] >= 0 and report["file_mb"] > 0


def test_a_record_folder_gone_since_the_start_is_named_and_nothing_records(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    window = make_window(model_dir)
    folder = tmp_path / "usb-stick"
    folder.mkdir()
    window.stage.record_dir = folder
    folder.rmdir()  # unplugged while the app runs
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert not window.stage.start_recording()
    label = window.stage.record_label.text()
    assert re.fullmatch(
        rf"Cannot record: cannot write {re.escape(str(folder))}/musicscape-\d{{8}}-\d{{6}}\.mp4: "
        rf"{re.escape(str(folder))} does not exist",
        label,
    ), label
    assert window.stage.recorder is None and not window.stage.record_button.isChecked()
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 10, timeout=TIMEOUT_MS)


def tones_of_two_rates(folder, seconds: float) -> list:
    """A 1-kHz tone at 44.1 kHz, then a 3-kHz one at 48 kHz, `seconds` each (FLAC)."""
    paths = []
    for rate, hz in ((44_100, 1000), (48_000, 3000)):
        t = np.arange(round(rate * seconds)) / rate
        paths.append(folder / f"tone_{rate}.flac")
        sf.write(paths[-1], (0.4 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)
    return paths


def test_a_recording_goes_on_across_files_of_different_rates(
    qtbot, make_window, model_dir, tmp_path
):
    """A playlist's next file at another rate (44.1 then 48 kHz): the recording does not
    stop, and holds each file's tone in turn."""
    paths = tones_of_two_rates(tmp_path, 10.0)
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    assert window.play_file(paths[0])
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert window.stage.start_recording()
    qtbot.wait(1500)
    assert window.play_file(paths[1])
    qtbot.wait(1500)
    summary = window.stage.stop_recording()
    assert summary.error is None and summary.seconds > 2.5
    sound, rate = read_sound(summary.path)
    assert peak_hz(sound[0, rate // 4 : rate], rate) == pytest.approx(1000, abs=2.0)
    assert peak_hz(sound[0, -rate : -rate // 4], rate) == pytest.approx(3000, abs=2.0)


def test_two_recordings_within_one_second_keep_both_files(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    """R, R, R within a second (a double press, a remote's toggle): the second recording gets
    "-2" after the first's name, and both files stay and read back."""
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    paths = []
    for _ in range(2):
        assert window.stage.start_recording()
        paths.append(window.stage.recorder.path)
        wanted = window.canvas.frames_painted + 3
        qtbot.waitUntil(
            lambda wanted=wanted: window.canvas.frames_painted > wanted, timeout=TIMEOUT_MS
        )
        window.stage.stop_recording()
    first, second = paths
    if first.stem[:26] == second.stem[:26]:  # the same second (not always on a loaded machine)
        assert second == first.with_name(f"{first.stem}-2.mp4")
    assert first != second and first.exists() and second.exists()
    assert all(len(read_back(path)[0]) >= 3 for path in paths)


def decodable_frames(path) -> int:
    """How many video frames PyAV decodes from the file before any damage stops it."""
    count = 0
    with contextlib.suppress(av.FFmpegError), av.open(str(path)) as container:
        for _ in container.decode(video=0):
            count += 1
    return count


def test_a_recording_the_disk_cuts_short_stops_says_why_and_plays_what_it_holds(
    qtbot, make_window, model_dir, beats_file, tmp_path, show_log
):
    """Files are allowed 3 MB (RLIMIT_FSIZE: the kernel's own write error, as a full disk
    gives): the recording stops by itself within a moment, the fault lines say so (and the
    show's log, once), the app goes on painting, and the file, never closed, plays the
    fragments written before."""
    window = make_window(model_dir, show_log=show_log)
    window.stage.record_dir = tmp_path
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    ignored = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel ends the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (3_000_000, limits[1]))
    try:
        assert window.stage.start_recording()
        path, fps = window.stage.recorder.path, window.stage.recorder.fps
        qtbot.waitUntil(lambda: window.stage.recorder is None, timeout=30_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, ignored)
    fault = window.faults["recording"]
    assert re.fullmatch(
        rf"Recording stopped after \d+ s: .*File too large.*\. {re.escape(path.name)} plays "
        r"what was written before",
        fault,
    ), fault
    assert window.stage.record_label.text() == fault
    assert not window.stage.record_button.isChecked()
    logged = show_log.path.read_text()
    assert f"recording to {path} (720 x 720)\n" in logged  # where it went, as it started
    assert logged.count("Recording stopped after") == 1  # as the fault line, not twice
    assert f"fault (recording): {fault}\n" in logged
    assert path.stat().st_size <= 3_000_000
    assert decodable_frames(path) >= round(FRAGMENT_SECONDS * fps)  # a whole fragment at least
    painted = window.canvas.frames_painted
    qtbot.waitUntil(lambda: window.canvas.frames_painted > painted + 10, timeout=TIMEOUT_MS)
    assert window.stage.start_recording()  # a new recording clears the line
    assert "recording" not in window.faults
    window.stage.stop_recording()


def top_level_boxes(path) -> list[str]:
    """The types of an MP4 / QuickTime file's top-level boxes, in order."""
    data, boxes, at = path.read_bytes(), [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        boxes.append(kind.decode())
        at += size
    return boxes


@pytest.mark.parametrize(("codec", "suffix"), [(H264, ".mp4"), (PRORES, ".mov")])
def test_a_fragmented_file_plays_up_to_where_it_was_cut(tmp_path, codec, suffix):
    """The recorder's files as a crash or a full disk leaves them: a fragmented file holds
    one fragment per 2 s (ProRes too, though every frame of it is a key frame); cut at 70%,
    it decodes the frames of its whole fragments, a plain one none."""
    decoded = {}
    for fragmented in (False, True):
        path = tmp_path / f"clip_{fragmented}{suffix}"
        writer = VideoFileWriter(
            path, 64, 64, 30, RATE, preset="ultrafast", codec=codec, fragmented=fragmented
        )
        for index in range(300):  # 10 s: five 2-s fragments
            writer.write_frame(solid((index % 256, 40, 200 - index % 200)))
        writer.close()
        if fragmented:
            assert top_level_boxes(path).count("moof") == 5
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * 0.7)])
        decoded[fragmented] = decodable_frames(path)
    assert decoded[False] == 0
    assert 120 <= decoded[True] < 300


def test_the_window_records_prores_when_the_stage_box_says_so_and_remembers_it(
    qtbot, make_window, model_dir, beats_file, tmp_path, settings
):
    """Record as "Apple ProRes 422 (.mov)": the next recording is a QuickTime file of ProRes
    422 standard (10-bit 4:2:2, every frame a key frame) at the recording's size, with its
    AAC sound; the choice is locked while it records and remembered."""
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    box = window.stage.record_codec_box
    assert [box.itemText(i) for i in range(box.count())] == [
        "H.264 (.mp4)",
        "Apple ProRes 422 (.mov)",
    ]
    assert box.currentData() == H264  # nothing remembered yet
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    box.setCurrentIndex(1)  # as a click on the second item does
    assert settings.record_codec == PRORES
    assert window.stage.start_recording()
    assert window.stage.recorder.path.suffix == ".mov" and not box.isEnabled()
    qtbot.wait(2000)
    summary = window.stage.stop_recording()
    assert summary.error is None and box.isEnabled()
    frames, _, rate, codecs = read_back(summary.path)
    assert codecs == ["aac", "prores"] and rate == RECORD_AUDIO_RATE
    assert len(frames) == summary.frames_written and frames[0].shape == (RECORD_SIZE,) * 2 + (3,)
    with av.open(str(summary.path)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        assert (context.pix_fmt, context.profile) == ("yuv422p10le", "Standard")
        assert all(packet.is_keyframe for packet in container.demux(stream) if packet.size)
    window.close()
    again = make_window(model_dir)
    assert again.stage.record_codec_box.currentData() == PRORES


def test_a_record_codec_stored_that_is_none_reads_as_h264(settings):
    for stored in ("hap", "", "PRORES"):
        settings.store.setValue("stage/record_codec", stored)
        assert settings.record_codec == H264, stored
    settings.record_codec = PRORES
    assert settings.record_codec == PRORES


def test_a_recording_s_progress_tells_its_length_size_and_the_disk_s_room_at_its_rate():
    def described(seconds, file_bytes, file_seconds, free_bytes):
        return RecordingProgress(seconds, file_bytes, file_seconds, free_bytes).describe()

    # 1 MB a second of file, 2,460 MB free
    assert described(61.0, 60_000_000, 60.0, 2_460_000_000) == (
        "1:01, 60 MB; room for about 41 min more"
    )
    assert described(3.5, 2_000_000, 2.0, 10**12) == "0:03, 2.0 MB"  # one fragment: no rate yet
    assert RecordingProgress(3.5, 2_000_000, 2.0, 10**12).room_minutes is None
    assert described(3725.0, 3_724_000_000, 3724.0, 36 * 10**9) == (
        "1:02:05, 3724 MB; room for about 10 h more"
    )
    assert described(10.0, 10_000_000, 10.0, 30_000_000) == (
        "0:10, 10 MB; room for less than a minute more"
    )
    assert RecordingProgress(10.0, 0, 10.0, 10**9).room_minutes is None  # nothing in it yet


def test_the_record_row_shows_the_recording_s_progress_and_a_low_disk_in_the_faults(
    qtbot, make_window, model_dir, beats_file, tmp_path
):
    window = make_window(model_dir)
    stage = window.stage
    stage.record_dir = tmp_path
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert stage.start_recording()
    path = stage.recorder.path
    shown = re.compile(
        rf"recording to {re.escape(str(path))}: "
        r"0:(\d\d), ([\d.]+) MB; room for about \d+ (?:min|h) more"
    )
    texts = []
    qtbot.waitUntil(
        lambda: bool(shown.fullmatch(texts.append(stage.record_label.text()) or texts[-1])),
        timeout=TIMEOUT_MS,
    )
    seconds, megabytes = shown.fullmatch(texts[-1]).groups()
    assert int(seconds) >= 4 and 0 < float(megabytes) <= path.stat().st_size / 1e6 + 0.05
    remote_sees = stage.state()["recording_progress"]  # the phone's page shows it too
    assert shown.fullmatch(f"recording to {path}: {remote_sees}")
    assert "recording" not in window.faults
    stage.low_room_minutes = 1e12  # every disk is nearly full by this measure
    qtbot.waitUntil(lambda: "recording" in window.faults, timeout=TIMEOUT_MS)
    assert window.faults["recording"] == (
        f"Recording {path.name}: the disk has room for less than 1e+12 min more ({tmp_path})"
    )
    summary = stage.stop_recording()
    assert summary.error is None and "recording" not in window.faults
    assert stage.state()["recording_progress"] is None
    assert stage.record_label.text().startswith(f"Saved {path.name}: ")


def test_stopping_a_recording_does_not_wait_for_its_encoder_to_catch_up(
    qtbot, make_window, model_dir, beats_file, tmp_path, show_log
):
    """R with a second of frames still to encode (a busy machine's backlog): the window goes
    on at once, the Record row says the file is being finished, and once the encoder thread
    has written every frame and closed the file, it says what was saved (and the log once).
    Before, the GUI thread waited for it: 0.65 s in a chaos run beside a test suite."""
    window = make_window(model_dir, show_log=show_log)
    stage = window.stage
    stage.record_dir = tmp_path
    stage.set_record_codec(PRORES)
    window.play_file(beats_file)
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert stage.start_recording()
    recorder = stage.recorder
    noise = np.random.default_rng(0).integers(0, 256, (RECORD_SIZE, RECORD_SIZE, 3), np.uint8)
    now = recorder.start_time + 0.5
    for index in range(recorder.backlog_frames):
        recorder.add_frame(np.roll(noise, index, axis=1), now + index / recorder.fps)
    assert stage.perform("record", (0,)) is None
    assert not recorder.finished and stage.recorder is None
    assert stage.record_label.text() == f"finishing {recorder.path.name}…"
    assert not stage.record_button.isChecked() and stage.record_codec_box.isEnabled()
    qtbot.waitUntil(lambda: stage.last_recording is not None, timeout=TIMEOUT_MS)
    summary = stage.last_recording
    assert summary.error is None and summary.frames_written >= recorder.backlog_frames
    assert stage.record_label.text() == summary.describe()
    assert decodable_frames(summary.path) == summary.frames_written  # (its sound may be none)
    saved = [line for line in show_log.path.read_text().splitlines() if "Saved " in line]
    assert len(saved) == 1 and saved[0].endswith(f"{summary.describe()} ({summary.path})")


def test_a_list_s_next_file_of_another_rate_is_recorded_with_no_gap(
    qtbot, make_window, model_dir, tmp_path
):
    """44.1 kHz then 48 kHz, the second opened ahead and sounding from the first's last
    sample: the recording holds both tones with no silence between them, as they were
    heard (the new file's sound before the window moved on to it, and the old one's last
    stretch, are kept)."""
    paths = tones_of_two_rates(tmp_path, 3.0)
    window = make_window(model_dir)
    window.stage.record_dir = tmp_path
    assert window.play_playlist(Playlist(paths))
    qtbot.waitUntil(lambda: window.canvas.frames_painted > 10, timeout=TIMEOUT_MS)
    assert window.stage.start_recording()
    qtbot.waitUntil(lambda: window.source.path == paths[1], timeout=TIMEOUT_MS)
    qtbot.wait(1000)
    summary = window.stage.stop_recording()
    assert summary.error is None
    sound, rate = read_sound(summary.path)
    window_samples = rate // 200  # 5 ms
    levels = np.sqrt(np.mean(sound[0, : sound.shape[1] // window_samples * window_samples]
                             .reshape(-1, window_samples) ** 2, axis=1))  # fmt: skip
    sounding = np.flatnonzero(levels > 0.1)
    assert sounding[-1] - sounding[0] + 1 == len(sounding)  # no 5-ms silence between
    assert peak_hz(sound[0, : rate // 2], rate) == pytest.approx(1000, abs=2.0)
    assert peak_hz(sound[0, -rate // 2 :], rate) == pytest.approx(3000, abs=2.0)
