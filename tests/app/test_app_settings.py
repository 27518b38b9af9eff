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
