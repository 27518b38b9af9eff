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
