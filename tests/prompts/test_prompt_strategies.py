"""Every strategy's `run` driven through a real ModelAdapter: stages, sample counts, images, schemas."""

from __future__ import annotations

import asyncio
import json

import pandas as pd
import pytest

from prompt_fixtures import EchoAdapter, Recorder, images, make_context  # noqa: F401 - images is a fixture
from engine.models.base import GenerateConfig
from engine.prompts import answer_schema, exemplar_answer, get_strategy, label_order_rows, strategy_names
from engine.store import connect, upsert

DIMS = ("polarity", "emotion", "valence")


def drive(strategy: str, context, adapter: EchoAdapter | None = None):
    recorder = Recorder(adapter or EchoAdapter())
    outcome = asyncio.run(get_strategy(strategy).run(context, recorder))
    return outcome, recorder


def exemplars_for(images):
    golds = [{"emotion": "sadness", "valence": 2.0}, {"emotion": "awe", "valence": 7.5},
             {"emotion": "fear", "valence": 3.0}, {"emotion": "amusement", "valence": 8.0}]
    return [(image, gold) for image, gold in zip(images[1:5], golds)]


@pytest.mark.parametrize("strategy", ["zero-shot", "cot", "structured", "scene"])
def test_single_call_strategies(images, strategy):
    context = make_context(images[0], DIMS, shuffle_labels=True, seed=5)
    outcome, recorder = drive(strategy, context)
    assert [(stage, index) for stage, index, _ in recorder.calls] == [("answer", 0)]
    request = recorder.calls[0][2]
    assert [img.sha256 for m in request.messages for img in m.images] == [images[0].sha256]
    assert request.messages[-1].parts[0] == images[0]  # image first, then the text
    assert request.item_key == context.item_key and request.task == context.task
    assert outcome.final_stage == "answer" and outcome.aggregate == "single" and len(outcome.final) == 1
    assert outcome.final[0].status == "ok" and outcome.final[0].text.startswith("Seen 1 image(s).")
    answer = json.loads(outcome.final[0].text.split("\n", 1)[1])
    assert list(answer) == list(DIMS)  # the model answered exactly what the prompt asked
    assert request.config.json_schema == (answer_schema(context) if strategy == "structured" else None)


def test_structured_option_and_system_prompt(images):
    context = make_context(images[0], DIMS, structured=True, system_prompt="You are a careful rater.")
    _, recorder = drive("zero-shot", context)
    request = recorder.calls[0][2]
    assert request.config.json_schema == answer_schema(context)
    assert [m.role for m in request.messages] == ["system", "user"]
    assert request.messages[0].text == "You are a careful rater."
    _, recorder = drive("cot", context)  # free reasoning comes first: no schema forced on it
    assert recorder.calls[0][2].config.json_schema is None


def test_scene_asks_for_the_four_sections_then_the_answer(images):
    (request,) = get_strategy("scene").render(make_context(images[0], DIMS))
    text = request.messages[-1].text
    positions = [text.index(f"\n{label}:") for label in
                 ("Global atmosphere", "Subject emotion", "Situational cues", "Implicit narrative")]
    assert positions == sorted(positions) and '"Answer:"' in text
    assert get_strategy("scene").sections[-1] == "answer"


def test_few_shot_interleaves_exemplar_images_and_answers(images):
    exemplars = exemplars_for(images)
    context = make_context(images[0], DIMS, k_shot=3, exemplars=exemplars)
    outcome, recorder = drive("few-shot", context)
    assert [(stage, index) for stage, index, _ in recorder.calls] == [("answer", 0)]
    parts = recorder.calls[0][2].messages[-1].parts
    kinds = ["image" if hasattr(p, "sha256") else "text" for p in parts]
    assert kinds == ["text"] + ["text", "image", "text"] * 3 + ["text", "image", "text"]
    shown = [p.sha256 for p in parts if hasattr(p, "sha256")]
    assert shown == [img.sha256 for img, _ in exemplars[:3]] + [images[0].sha256]  # exemplars, then the query
    for i, (_, gold) in enumerate(exemplars[:3]):
        answer_text = parts[3 + 3 * i].text
        assert json.loads(answer_text.split("\n", 1)[1]) == exemplar_answer(gold, context)
    assert json.loads(parts[3].text.split("\n", 1)[1]) == {"polarity": "negative", "emotion": "sadness",
                                                            "valence": 2.0}
    assert outcome.final[0].text.startswith("Seen 4 image(s).")
    with pytest.raises(ValueError, match="k_shot=5 but only 4 exemplar"):
        get_strategy("few-shot").render(make_context(images[0], DIMS, k_shot=5, exemplars=exemplars))
    with pytest.raises(ValueError, match="exemplar 1 .* has no gold for any of arousal"):
        get_strategy("few-shot").render(make_context(images[0], ("arousal",), k_shot=1, exemplars=exemplars))


def test_self_consistency_samples_n_distinct_requests(images):
    context = make_context(images[0], DIMS, n_samples=6, sample_temperature=0.9, seed=11,
                           generate=GenerateConfig(temperature=0.0, max_tokens=300))
    outcome, recorder = drive("self-consistency", context)
    assert recorder.stages == ["answer"] * 6
    assert sorted(index for _, index, _ in recorder.calls) == list(range(6))
    requests = [request for _, _, request in sorted(recorder.calls, key=lambda call: call[1])]
    assert [r.config.temperature for r in requests] == [0.9] * 6
    assert [r.config.seed for r in requests] == list(range(11, 17))
    assert all(r.config.max_tokens == 300 for r in requests)
    assert len({r.request_hash("echo", "echo-1") for r in requests}) == 6  # never one cached answer for all
    assert outcome.aggregate == "vote" and outcome.final_stage == "answer" and len(outcome.final) == 6
    # Same prompt text for every sample: the chain-of-thought prompt by default.
    cot_text = get_strategy("cot").render(context)[0].messages[-1].text
    assert {r.messages[-1].text for r in requests} == {cot_text}
    answers = {response.text for response in outcome.final}
    assert len(answers) > 1  # the echo model varies with the seed, as a sampled model would
    zero = make_context(images[0], DIMS, n_samples=2, sample_prompt="zero-shot")
    assert get_strategy("self-consistency").render(zero)[0].messages[-1].text == \
        get_strategy("zero-shot").render(zero)[0].messages[-1].text
    with pytest.raises(ValueError, match="sample_prompt='describe-then-judge' is not one"):
        get_strategy("self-consistency").render(make_context(images[0], sample_prompt="describe-then-judge"))


def test_describe_then_judge_judges_from_text_only(images):
    context = make_context(images[0], DIMS, system_prompt="Rate images.")
    outcome, recorder = drive("describe-then-judge", context)
    assert recorder.stages == ["describe", "judge"]
    describe, judge = (request for _, _, request in recorder.calls)
    assert [img.sha256 for m in describe.messages for img in m.images] == [images[0].sha256]
    assert '"emotion"' not in describe.messages[-1].text  # the caption is not asked for emotions
    assert all(not m.images for m in judge.messages)  # the visual-grounding control: no image
    caption = recorder.responses[0].text
    assert caption.startswith("Seen 1 image(s).") and f'"""\n{caption}\n"""' in judge.messages[-1].text
    assert judge.messages[0].text == "Rate images."
    assert outcome.final_stage == "judge" and outcome.final[0].text.startswith("Seen 0 image(s).")


def test_describe_failure_ends_the_item_without_a_judge_call(images):
    adapter = EchoAdapter(fail_stage_text="Describe this image")
    outcome, recorder = drive("describe-then-judge", make_context(images[0], DIMS), adapter)
    assert recorder.stages == ["describe"]
    assert outcome.final_stage == "describe" and outcome.final[0].status == "error"


@pytest.mark.parametrize("strategy", strategy_names())
def test_every_strategy_asks_only_for_the_configured_dimensions(images, strategy):
    context = make_context(images[0], ("arousal", "confidence"), k_shot=1,
                           exemplars=[(images[1], {"arousal": 6.0})], n_samples=2)
    _, recorder = drive(strategy, context)
    final_request = recorder.calls[-1][2]
    text = "\n".join(m.text for m in final_request.messages)
    assert '"arousal"' in text and '"confidence"' in text
    for other in ("polarity", "emotion", "ranking", "distribution", "intensity", "valence"):
        assert f'"{other}"' not in text
    assert get_strategy(strategy).template_hash(context.options) == get_strategy(strategy).template_hash(
        context.options)


def test_label_orders_stored_for_position_bias(images, db_path):
    rows = []
    for i in range(12):
        context = make_context(images[0], ("polarity", "emotion"), item_key=f"fi/{i}", shuffle_labels=True, seed=2)
        rows += label_order_rows(context, "run-1", "fi", str(i))
    with connect(db_path) as con:
        upsert(con, "label_orders", pd.DataFrame(rows))
        # Position (1-based) at which "sadness" was shown, per item: recoverable from the store alone.
        positions = con.execute("SELECT item_id, list_position(labels, 'sadness') FROM label_orders "
                                "WHERE label_set = 'emotion' ORDER BY item_id::INT").fetchall()
    expected = [(str(i), row["labels"].index("sadness") + 1) for i, row in
                enumerate(r for r in rows if r["label_set"] == "emotion")]
    assert positions == expected and len({p for _, p in positions}) > 3
