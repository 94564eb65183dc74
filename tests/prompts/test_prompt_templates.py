"""Templates ask for exactly the configured dimensions, labels and scales, in en and zh, with a stable hash."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from prompt_fixtures import images, jpeg, make_context  # noqa: F401 - images is a fixture
from engine.parsing.types import DEFAULT_SCALES
from engine.prompts import (DIMENSIONS, StrategyOptions, answer_schema, get_strategy, label_order, label_orders,
                            strategy_names)
from engine.prompts.templates import TEMPLATE_ROOT
from engine.taxonomy import TAXONOMIES, get_taxonomy, normalize_label

EMOTION_TAXONOMIES = [name for name, tax in TAXONOMIES.items() if not tax.polarity_only]
ALL_LABELS = {label for tax in TAXONOMIES.values() for label in tax.names}


def prompt_text(context, strategy="zero-shot") -> str:
    (request,) = get_strategy(strategy).render(context)[:1]
    return "\n".join(m.text for m in request.messages)


def listed(text: str, key: str) -> list[str]:
    """The labels a dimension line lists (after its last colon, up to the final full stop)."""
    line = next(line for line in text.splitlines() if line.startswith(f'- "{key}"'))
    tail = re.split(r"[:：]", line)[-1].strip().rstrip("。.")
    return [re.sub(r".*\((.+)\)$", r"\1", part.strip()) for part in re.split(r", |、", tail)]


def asked_keys(text: str) -> list[str]:
    return re.findall(r'^- "([a-z]+)"', text, flags=re.M)


@pytest.mark.parametrize("taxonomy", EMOTION_TAXONOMIES)
@pytest.mark.parametrize("dimensions", [("emotion",), ("polarity",), ("polarity", "emotion"),
                                        ("ranking", "distribution"), ("emotion", "confidence")])
def test_only_configured_dimensions_and_labels(images, taxonomy, dimensions):
    context = make_context(images[0], dimensions, taxonomy)
    for strategy in ("zero-shot", "cot", "structured", "scene"):
        text = prompt_text(context, strategy)
        assert asked_keys(text) == list(dimensions)
        for dim in set(DIMENSIONS) - set(dimensions):
            assert f'"{dim}"' not in text
        expected = set(get_taxonomy(taxonomy).names) if set(dimensions) - {"polarity", "confidence"} else set()
        if "polarity" in dimensions:
            expected |= {"positive", "negative"}
        words = set(re.findall(r"[a-z]+", text))
        assert ALL_LABELS & words == expected, strategy


def test_every_dimension_with_scales_and_anchors(images):
    scales = {"valence": (1, 7), "arousal": (0, 10)}
    context = make_context(images[0], DIMENSIONS, "ekman7", scales)
    text = prompt_text(context)
    assert asked_keys(text) == list(DIMENSIONS)
    assert "valence\": how pleasant or unpleasant the image feels, a number from 1 to 7 (1 = very negative" in text
    assert "4 = neutral; 7 = very positive" in text
    assert "a number from 0 to 10 (0 = very calm" in text and "5 = moderate; 10 = very excited" in text
    low, high = DEFAULT_SCALES["intensity"]
    assert f"a number from {low:g} to {high:g} ({low:g} = very weak" in text
    assert "a number from 0 (a guess) to 1 (certain)" in text
    for key in ("emotion", "ranking", "distribution"):
        assert listed(text, key) == get_taxonomy("ekman7").names
    assert listed(text, "polarity") == ["positive", "negative"]
    assert '"confidence": <number 0-1>' in text


def test_polarity_taxonomy_from_option_or_task(images):
    text = prompt_text(make_context(images[0], ("polarity",), "ekman7", polarity_taxonomy="polarity3"))
    assert listed(text, "polarity") == ["positive", "negative", "neutral"]
    text = prompt_text(make_context(images[0], ("polarity",), "polarity3"))
    assert listed(text, "polarity") == ["positive", "negative", "neutral"]
    via_extra = make_context(images[0], ("polarity",), "ekman7", extra={"polarity_taxonomy": "polarity3"})
    assert listed(prompt_text(via_extra), "polarity") == ["positive", "negative", "neutral"]


def test_answer_schema_accepts_the_asked_format_only(images):
    context = make_context(images[0], DIMENSIONS, "mikels8", {"valence": (1, 9)}, shuffle_labels=True, seed=4)
    schema = answer_schema(context)
    jsonschema.Draft202012Validator.check_schema(schema)
    labels = label_order(context)
    assert schema["properties"]["emotion"]["enum"] == labels  # the presented order
    good = {"polarity": "negative", "emotion": "sadness", "ranking": labels,
            "distribution": {label: 1 / len(labels) for label in labels}, "intensity": 3, "valence": 2.5,
            "arousal": 7, "confidence": 0.8}
    jsonschema.validate(good, schema)
    for bad in ({**good, "emotion": "happiness"}, {**good, "valence": "high"}, {**good, "extra": 1},
                {k: v for k, v in good.items() if k != "arousal"}, {**good, "ranking": ["joy"]},
                {**good, "distribution": {"awe": 1.0}}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    assert schema["properties"]["valence"]["description"] == "from 1 to 9"
    # Only keywords every vendor's structured-output mode accepts (Anthropic rejects numeric bounds).
    assert not {"minimum", "maximum", "minItems", "maxItems"} & set(re.findall(r"'(\w+)':", repr(schema)))
    only = answer_schema(make_context(images[0], ("valence",), "mikels8"))
    assert only["required"] == ["valence"] and list(only["properties"]) == ["valence"]


def test_shuffled_order_per_item_reproducible_and_complete(images):
    def order(item, seed=7):
        return label_order(make_context(images[0], ("emotion",), "mikels8", item_key=f"fi/{item}",
                                        shuffle_labels=True, seed=seed))

    orders = [order(i) for i in range(40)]
    names = get_taxonomy("mikels8").names
    assert all(sorted(o) == sorted(names) for o in orders)
    assert len({tuple(o) for o in orders}) > 30  # 8! orders: items nearly always differ
    assert len({o[0] for o in orders}) >= 6  # every position is taken by many labels
    assert [order(i) for i in range(40)] == orders  # same seed and item: same order
    assert [order(i, seed=8) for i in range(40)] != orders
    unshuffled = label_order(make_context(images[0], ("emotion",), "mikels8", item_key="fi/3"))
    assert unshuffled == names


def test_presented_order_is_recorded_in_the_request(images):
    for i in range(5):
        context = make_context(images[0], ("polarity", "emotion", "ranking"), "fer8", item_key=f"x/{i}",
                               shuffle_labels=True, seed=1)
        text = prompt_text(context)
        orders = label_orders(context)
        assert listed(text, "emotion") == orders["emotion"] == listed(text, "ranking")
        assert listed(text, "polarity") == orders["polarity"]


@pytest.mark.parametrize("strategy", strategy_names())
def test_zh_templates_render(images, strategy):
    exemplars = [(images[1], {"emotion": "sadness"}), (images[2], {"emotion": "awe"}), (images[3], {"emotion": "fear"})]
    context = make_context(images[0], ("polarity", "emotion", "valence"), "mikels8", language="zh",
                           exemplars=exemplars, shuffle_labels=True)
    text = prompt_text(context, strategy)
    assert "图片" in text
    if strategy != "describe-then-judge":
        assert asked_keys(text) == ["polarity", "emotion", "valence"]
        assert listed(text, "emotion") == label_order(context)
        assert "（1 = 非常消极、不愉快；5 = 中性；9 = 非常积极、愉快）" in text
        # Every Chinese name shown is read back as its label by the one normaliser.
        for chinese, label in re.findall(r"([\u4e00-\u9fff]+) \(([a-z]+)\)", text):
            assert normalize_label(chinese, "mikels8" if label not in ("positive", "negative") else "polarity2").label \
                == label


def test_template_files_exist_for_both_languages_alike():
    en = sorted(p.name for p in (TEMPLATE_ROOT / "en").glob("*.txt"))
    zh = sorted(p.name for p in (TEMPLATE_ROOT / "zh").glob("*.txt"))
    assert en == zh and "zero-shot.txt" in en and len(en) >= 10


def test_template_hash_tracks_text_and_options(tmp_path: Path):
    base = StrategyOptions()
    hashes = {name: get_strategy(name).template_hash(base) for name in strategy_names()}
    assert len(set(hashes.values())) == len(hashes)  # every strategy its own hash
    zero = get_strategy("zero-shot")
    assert zero.template_hash(StrategyOptions()) == hashes["zero-shot"]
    for changed in (StrategyOptions(language="zh"), StrategyOptions(system_prompt="Be brief."),
                    StrategyOptions(shuffle_labels=True), StrategyOptions(structured=True)):
        assert zero.template_hash(changed) != hashes["zero-shot"]
    assert zero.template_hash(StrategyOptions(k_shot=5)) == hashes["zero-shot"]  # not in its text
    few = get_strategy("few-shot")
    assert few.template_hash(StrategyOptions(k_shot=5)) != hashes["few-shot"]
    assert get_strategy("cot").template_hash(StrategyOptions(structured=True)) == hashes["cot"]  # free text first
    # A user's template folder overrides a packaged file, and the hash follows its text.
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "preamble.txt").write_text("Which feeling does this photograph evoke?\n")
    custom = StrategyOptions(template_dir=str(tmp_path))
    assert zero.template_hash(custom) != hashes["zero-shot"]
    context = make_context(jpeg((1, 2, 3)), ("emotion",), template_dir=str(tmp_path))
    assert prompt_text(context).startswith("Which feeling does this photograph evoke?")


def test_clear_errors(images):
    with pytest.raises(ValueError, match="unknown dimension.*'mood'"):
        prompt_text(make_context(images[0], ("emotion", "mood")))
    with pytest.raises(ValueError, match="no dimensions configured"):
        prompt_text(make_context(images[0], ()))
    with pytest.raises(ValueError, match="language 'fr' has no templates; choose one of: en, zh"):
        prompt_text(make_context(images[0], language="fr"))
    with pytest.raises(KeyError, match="unknown prompt strategy 'tree-of-thought' .*; choose one of: zero-shot"):
        get_strategy("tree-of-thought")
    with pytest.raises(ValueError, match="scale of 'valence' must be LOW < HIGH"):
        prompt_text(make_context(images[0], ("valence",), scales={"valence": (9, 1)}))
    assert get_strategy("chain-of-thought").name == "cot"


def test_rendered_json_example_lists_configured_keys(images):
    context = make_context(images[0], ("emotion", "arousal"), "emotion6", {"arousal": (1, 9)})
    text = prompt_text(context, "structured")
    example = text[text.index("{"):text.rindex("}") + 1]
    assert re.findall(r'^\s+"([a-z]+)":', example, flags=re.M) == ["emotion", "arousal"]
    assert json.loads(re.sub(r"<[^>]+>", "0", example).replace('"0"', '"x"')).keys() == {"emotion", "arousal"}


def test_a_run_keeps_the_template_text_it_hashed(tmp_path: Path):
    from engine.prompts.templates import available_languages, pinned_templates

    (tmp_path / "en").mkdir()
    preamble = tmp_path / "en" / "preamble.txt"
    preamble.write_text("First wording.\n")
    context = make_context(jpeg((1, 2, 3)), ("emotion",), template_dir=str(tmp_path))
    with pinned_templates():
        assert prompt_text(context).startswith("First wording.")
        preamble.write_text("Second wording, edited mid-run.\n")
        (tmp_path / "fr").mkdir()
        assert prompt_text(context).startswith("First wording.")  # pinned: what the run hashed
        assert "fr" not in available_languages(str(tmp_path))
    assert prompt_text(context).startswith("Second wording")  # outside a run an edit is read at once
    assert "fr" in available_languages(str(tmp_path))
