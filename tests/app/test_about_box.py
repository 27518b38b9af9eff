"""visualizer/app/about_box.py: the About box reads the bundled demo's credits and the
models' card from the files beside them, and the panel's button opens it."""

from __future__ import annotations

from visualizer.app.about_box import DemoCredit, about_html, demo_credits, markdown_html
from visualizer.bundled import assets_dir, package_version

DEMO_DIR = assets_dir() / "demo"
MODEL_DIR = assets_dir() / "models"


def test_the_bundled_demo_credits_are_read_from_its_attribution():
    credits = demo_credits(DEMO_DIR / "ATTRIBUTION.md")
    assert [credit.file for credit in credits] == ["sunrise_excerpt.ogg", "docks_excerpt.ogg"]
    assert credits[1] == DemoCredit(
        file="docks_excerpt.ogg",
        original='"docks" (0:00–0:45), from the JRPG Collection, as shipped by Tuxemon',
        author="Yubatake ([JRPG Collection](https://opengameart.org/content/jrpg-collection))",
        licence="[CC BY 3.0](https://creativecommons.org/licenses/by/3.0/)",
        source="Tuxemon repository, commit ca9b336",
    )
    assert {path.name for path in DEMO_DIR.glob("*.ogg")} == {c.file for c in credits}


def test_markdown_cells_become_links_and_code_and_the_rest_is_escaped():
    assert markdown_html('<b>x</b> [a](http://x/?a=1&b=2) `c` "q"') == (
        '&lt;b&gt;x&lt;/b&gt; <a href="http://x/?a=1&amp;b=2">a</a> <code>c</code> "q"'
    )


def test_the_text_names_the_version_the_models_card_and_the_demo_licences():
    text = about_html(MODEL_DIR, DEMO_DIR)
    assert f"<h2>musicscape {package_version()}</h2>" in text
    assert f'<a href="{(MODEL_DIR / "MODEL_CARD.md").as_uri()}">MODEL_CARD.md</a>' in text
    assert '<a href="https://creativecommons.org/licenses/by/3.0/">CC BY 3.0</a>' in text
    assert '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in text
    assert "<code>docks_excerpt.ogg</code>: " in text


def test_without_a_card_or_credits_the_text_says_only_what_there_is(tmp_path):
    text = about_html(tmp_path / "models", tmp_path / "demo")
    assert "MODEL_CARD.md" not in text and "Demo music" not in text
    assert f"<b>Models:</b> {tmp_path / 'models'}" in text


def test_the_panel_button_opens_the_about_box(qtbot, make_window, model_dir):
    window = make_window(model_dir)
    window.panel.about_button.click()
    box = window.about_box
    assert box.isVisible() and box.windowTitle() == "About musicscape"
    assert f"<b>Models:</b> {model_dir}" in box.text.text()
    box.close()
    window.panel.about_button.click()
    assert window.about_box is box and box.isVisible()
