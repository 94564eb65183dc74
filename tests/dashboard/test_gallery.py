"""The error gallery: hardest first, filters, pagination, the detail view and blurring."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import seed
from tests.dashboard.conftest import texts


def _shown_items(at) -> list[str]:
    return [m.value.split("**")[1] for m in at.markdown if m.value.startswith("**") and "gold:" in m.value]


@pytest.fixture
def gallery(app):
    app.switch_page("pages/gallery.py").run()
    assert not app.exception
    return app


def test_items_come_hardest_first(gallery):
    shown = _shown_items(gallery)
    assert sorted(shown) == sorted(seed.item_id(s) for s in seed.GOLD)
    failures = [seed.failures(name.removesuffix(".png")) for name in shown]
    assert failures == sorted(failures, reverse=True)
    assert shown[0] == seed.item_id(max(seed.GOLD, key=seed.failures))
    first = next(m.value for m in gallery.markdown if m.value.startswith(f"**{shown[0]}**"))
    assert f"failed {seed.failures(shown[0][:-4])} of {len(seed.ANSWERS)} cells" in first


def test_filters_by_gold_label_error_type_and_search(gallery):
    gallery.selectbox(key="gallery-gold").set_value("sadness").run()
    assert set(_shown_items(gallery)) == {seed.item_id(s) for s, g in seed.GOLD.items() if g[0] == "sadness"}

    gallery.selectbox(key="gallery-gold").set_value("(any)").run()
    gallery.button_group(key="gallery-errors").set_value(["refused"]).run()
    refused = {seed.item_id(s) for answers in seed.ANSWERS.values() for s, a in answers.items() if a == "!refused"}
    assert set(_shown_items(gallery)) == refused

    gallery.button_group(key="gallery-errors").set_value(["api_error", "unparsed"]).run()
    expected = {seed.item_id(s) for answers in seed.ANSWERS.values() for s, a in answers.items()
                if a in ("!error", "!failed")}
    assert set(_shown_items(gallery)) == expected

    gallery.button_group(key="gallery-errors").set_value([]).run()
    gallery.text_input(key="gallery-search").set_value("f0").run()
    assert len(_shown_items(gallery)) == len(seed.GOLD)
    gallery.text_input(key="gallery-search").set_value("f03").run()
    assert _shown_items(gallery) == ["f03.png"]


def test_predicted_label_and_confidence_filters(gallery):
    gallery.selectbox(key="gallery-predicted").set_value("anger").run()
    expected = {seed.item_id(s) for answers in seed.ANSWERS.values() for s, a in answers.items() if a == "anger"}
    assert set(_shown_items(gallery)) == expected
    gallery.selectbox(key="gallery-predicted").set_value("(any)").run()
    gallery.slider(key="gallery-confidence").set_value((0.5, 0.7)).run()  # the fixture's wrong answers say 0.6
    wrong = {seed.item_id(s) for answers in seed.ANSWERS.values() for s, a in answers.items()
             if seed.answered(a) and not seed.correct(s, a)}
    assert set(_shown_items(gallery)) == wrong


def test_hostile_search_is_no_match_and_tables_stay(gallery, seeded):
    import duckdb

    for hostile in ["'; DROP TABLE predictions; --", "\" OR 1=1 --", "%", "_", "f0' OR '1'='1"]:
        gallery.text_input(key="gallery-search").set_value(hostile).run()
        assert not gallery.exception
        assert "No items match" in texts(gallery)
    with duckdb.connect(str(seeded), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM predictions").fetchall()[0][0] > 0


def test_detail_view_shows_gold_every_answer_traces_and_raw(gallery):
    hardest = _shown_items(gallery)[0]
    gallery.button(key=f"open-{hardest}").click().run()
    assert not gallery.exception
    assert f"faces / {hardest}" in texts(gallery)
    stem = hardest.removesuffix(".png")
    gold = next(f.value for f in gallery.dataframe if "gold" in f.value.columns)
    assert gold.set_index("dimension").loc["emotion", "gold"] == seed.GOLD[stem][0]
    answers = next(f.value for f in gallery.dataframe if "run" in f.value.columns)
    emotion = answers.set_index("run")["emotion"]  # one row per model · strategy: the table grows down
    for (model, strategy), table in seed.ANSWERS.items():
        shown, answer = emotion[f"{model} · {strategy}"], table[stem]
        if seed.answered(answer):
            assert shown.startswith(answer)
        else:
            assert shown == {"!refused": "(refused)", "!failed": "(unparsed)", "!error": "(API error)"}[answer]
    assert [t.label for t in gallery.tabs] == ["alpha · cot", "beta · cot"]  # traces of the CoT runs
    assert f"Step one for {stem}." in texts(gallery)
    assert len(gallery.expander) >= len(seed.ANSWERS)  # one raw response each
    if stem in seed.RATERS:
        assert any(c.spec for c in gallery.get("vega_lite_chart"))  # the rater distribution
    gallery.button(key="gallery-back").click().run()
    assert _shown_items(gallery)


def test_detail_of_unknown_item_is_a_warning(app):
    app.query_params["item"] = "'; DROP TABLE items; --"
    app.switch_page("pages/gallery.py").run()
    assert not app.exception
    assert "No item" in texts(app)


def test_blurred_until_clicked(app, seeded):
    app.session_state["blur_images"] = True
    app.switch_page("pages/gallery.py").run()
    first = _shown_items(app)[0]
    app.button(key=f"open-{first}").click().run()
    assert any(b.label == "Show image" for b in app.button)
    blurred = app.image[0].value
    app.button(key="gallery-reveal").click().run()
    assert not any(b.label == "Show image" for b in app.button)
    assert app.image[0].value != blurred


def test_thumbnails_are_cached_by_sha256(seeded, tmp_path, monkeypatch):
    from dashboard import images

    monkeypatch.setenv("AFFECTLENS_THUMBNAIL_DIR", str(tmp_path / "thumbs"))
    path = seeded.parent / "images" / "f01.png"
    data = images.thumbnail(path, "abc", size=32)
    assert Image.open(io.BytesIO(data)).size[0] <= 32
    assert (tmp_path / "thumbs" / "abc-32.jpg").read_bytes() == data
    path.rename(path.with_suffix(".moved"))  # the cache answers without the file
    try:
        assert images.thumbnail(path, "abc", size=32) == data
    finally:
        path.with_suffix(".moved").rename(path)


def test_image_paths_cannot_escape_the_dataset_root(seeded):
    from dashboard.images import resolve_image

    root = str(seeded.parent / "images")
    assert resolve_image(root, "f01.png") is not None
    assert resolve_image(root, "../results.duckdb") is None
    assert resolve_image(root, "/etc/passwd") is None
