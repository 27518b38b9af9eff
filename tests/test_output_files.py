"""Output paths checked before any work: each way a path cannot be a file, in words."""

from __future__ import annotations

import os

import pytest

from visualizer.output_files import output_file_problem, picture_format, unused_path


def test_a_writable_path_has_no_problem_and_missing_folders_count_only_when_made(tmp_path):
    assert output_file_problem(tmp_path / "out.mp4", create_folders=False) is None
    deep = tmp_path / "a" / "b" / "out.json"
    assert output_file_problem(deep, create_folders=True) is None
    assert (
        output_file_problem(deep, create_folders=False) == f"{tmp_path / 'a' / 'b'} does not exist"
    )
    assert not (tmp_path / "a").exists()  # checking makes nothing


def test_a_folder_or_a_file_in_the_way_is_named(tmp_path):
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF")
    assert output_file_problem(tmp_path, create_folders=True) == f"{tmp_path} is a folder"
    beneath = song / "x" / "out.json"
    assert output_file_problem(beneath, create_folders=True) == f"{song} is not a folder"
    assert output_file_problem(beneath, create_folders=False) == f"{song / 'x'} does not exist"
    assert output_file_problem(song / "out.mp4", create_folders=False) == f"{song} is not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_named(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    assert output_file_problem(folder / "out.mp4", create_folders=False) == (
        f"{folder} is not writable"
    )


def test_picture_formats_follow_pillows_writers():
    assert [picture_format(name) for name in ("a.png", "b.JPG", "c.webp", "d.txt", "e")] == [
        "PNG",
        "JPEG",
        "WEBP",
        None,
        None,
    ]


def test_unused_path_numbers_a_name_already_a_file_or_handed_out(tmp_path):
    assert unused_path(tmp_path, "clip", ".mp4") == tmp_path / "clip.mp4"
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert unused_path(tmp_path, "clip", ".mp4") == tmp_path / "clip-2.mp4"
    taken = {tmp_path / "clip-2.mp4"}
    assert unused_path(tmp_path, "clip", ".mp4", taken) == tmp_path / "clip-3.mp4"
