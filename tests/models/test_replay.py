"""The `replay` adapter: answers read from a CSV or JSONL file of outputs made elsewhere."""

from __future__ import annotations

import asyncio
import json

import pytest

from engine.models import ErrorClass, Message, ModelRequest, ModelSpec, create_adapter


def _ask(adapter, key: str):
    return asyncio.run(adapter.generate(ModelRequest(messages=(Message.user("Sentiment?"),), item_key=key)))


def _replay(path, **options):
    return create_adapter(ModelSpec(name="gpt4v-paper", adapter="replay", options={"file": str(path), **options}))


def test_csv_answers_by_item_key_item_id_and_file_stem(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text('image,answer\nimages/a.jpg,"positive, because the sky is bright"\n'
                    'b.jpg,negative\nemotion6/c.jpg,"{""emotion"": ""fear""}"\n', encoding="utf-8")
    adapter = _replay(path)
    first = _ask(adapter, "twitter1/a.jpg")  # "images/a.jpg" matches through the file stem
    assert first.status == "ok" and first.text == "positive, because the sky is bright"
    assert first.raw_response == {"file": str(path), "row": 2, "key": "a"}
    assert _ask(adapter, "twitter1/b.jpg").text == "negative"
    assert json.loads(_ask(adapter, "emotion6/c.jpg").text) == {"emotion": "fear"}

    missing = _ask(adapter, "twitter1/zzz.jpg")
    assert missing.status == "error" and missing.error_class is ErrorClass.BAD_REQUEST
    assert "zzz.jpg" in missing.error_message and "answers.csv" in missing.error_message


def test_jsonl_with_configured_columns(tmp_path):
    path = tmp_path / "out.jsonl"
    rows = [{"uid": "x1", "gpt": "Joy"}, {"uid": "x2", "gpt": "Sadness"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    adapter = _replay(path, id_col="uid", text_col="gpt")
    assert _ask(adapter, "set/x2").text == "Sadness"
    assert _ask(adapter, "x1").text == "Joy"


@pytest.mark.parametrize("content, name, message", [
    ("item_id,answer\na,positive\na,negative\n", "dup.csv", "two different answers"),
    ("foo,bar\na,positive\n", "cols.csv", "no id column"),
    ('{"item_id": "a", "answer": "ok"}\nnot json\n', "bad.jsonl", "line 2"),
])
def test_bad_files_are_reported_for_every_item(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    adapter = _replay(path)
    for key in ("d/a", "d/b"):
        response = _ask(adapter, key)
        assert response.error_class is ErrorClass.BAD_REQUEST and message in response.error_message


def test_missing_file_fails_prepare_clearly(tmp_path):
    from engine.models.replay import ReplayError

    adapter = _replay(tmp_path / "nope.csv")
    with pytest.raises(ReplayError, match="nope.csv does not exist"):
        asyncio.run(adapter.prepare(None))
    no_option = create_adapter(ModelSpec(name="r", adapter="replay"))
    assert "options.file" in _ask(no_option, "d/a").error_message
