"""visualizer/app/app_settings.py: what the app remembers between runs."""

from visualizer.app.app_settings import AppSettings, settings_from_file


def test_a_file_given_relative_to_one_folder_is_remembered_for_a_start_from_another(
    tmp_path, monkeypatch
):
    store_path = str(tmp_path / "app.ini")
    (tmp_path / "music").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    AppSettings(settings_from_file(store_path)).file_path = "music/track.ogg"
    monkeypatch.chdir(tmp_path / "elsewhere")
    remembered = AppSettings(settings_from_file(store_path)).file_path
    assert remembered == str(tmp_path / "music" / "track.ogg")


def test_an_input_is_remembered_with_the_name_the_picker_showed_and_a_bare_key_has_none(
    tmp_path,
):
    store_path = str(tmp_path / "app.ini")
    AppSettings(settings_from_file(store_path)).remember_input(
        "pulse:musicscape_test.monitor", "PulseAudio: monitor of musicscape_test"
    )
    settings = AppSettings(settings_from_file(store_path))
    assert settings.input_key == "pulse:musicscape_test.monitor"
    assert settings.input_label == "PulseAudio: monitor of musicscape_test"
    settings.input_key = "device:USB Mixer"  # a key alone: no name kept for it
    assert AppSettings(settings_from_file(store_path)).input_label == ""


def test_settings_set_together_reach_the_file_in_one_write_as_the_block_ends(tmp_path):
    path = tmp_path / "together.ini"
    settings = AppSettings(settings_from_file(str(path)))
    settings.file_path = "/music/a.ogg"  # one setting alone: in the file at once
    assert "/music/a.ogg" in path.read_text()
    with settings.written_together():
        settings.file_path = "/music/b.ogg"
        settings.file_seconds = 12.5
        assert "/music/b.ogg" not in path.read_text()  # not yet written
        assert settings.file_seconds == 12.5  # though read back as set
    text = path.read_text()
    assert "/music/b.ogg" in text and "file_seconds=12.5" in text
    settings.file_seconds = 3.0  # after the block, each is written at once again
    assert "file_seconds=3" in path.read_text()
