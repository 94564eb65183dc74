"""Few-shot exemplars: never an evaluated item, reproducible, and shown in the asked answer format."""

from __future__ import annotations

import csv
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_fixtures import images, jpeg, make_context  # noqa: F401 - images is a fixture
from tests.conftest import shared_path
from engine.datasets.base import Gold, Item
from engine.models.base import ImagePart
from engine.prompts import ExemplarError, exemplar_answer, get_strategy, holdout_pool, select_exemplars


def make_items(n: int, train_share: float, rng: random.Random) -> list[Item]:
    return [Item(f"img{i:04d}", f"images/{i}.jpg", {"emotion": Gold(label="sadness", taxonomy="mikels8")},
                 split="train" if rng.random() < train_share else "test") for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 60), share=st.floats(0, 1), k=st.integers(0, 8), seed=st.integers(0, 2**32),
       overlap=st.floats(0, 1), data_seed=st.integers(0, 10**6))
def test_select_never_leaks_evaluated_items(n, share, k, seed, overlap, data_seed):
    rng = random.Random(data_seed)
    items = make_items(n, share, rng)
    train = [item for item in items if item.split == "train"]
    # Evaluated: the test split plus, adversarially, some train items too (a user evaluating on all).
    evaluated = {item.item_id for item in items if item.split == "test" or rng.random() < overlap}
    allowed = [item for item in train if item.item_id not in evaluated]
    if len(allowed) < k:
        with pytest.raises(ExemplarError):
            select_exemplars(train, k, seed, exclude_ids=evaluated)
        return
    chosen = select_exemplars(train, k, seed, exclude_ids=evaluated)
    ids = [item.item_id for item in chosen]
    assert len(ids) == k == len(set(ids))
    assert not set(ids) & evaluated
    assert set(ids) <= {item.item_id for item in train}
    shuffled = list(train)
    rng.shuffle(shuffled)
    assert [item.item_id for item in select_exemplars(shuffled, k, seed, exclude_ids=evaluated)] == ids


@settings(max_examples=100, deadline=None)
@given(n=st.integers(2, 80), seed=st.integers(0, 2**32), data=st.data())
def test_holdout_pool_is_disjoint_and_seeded(n, seed, data):
    items = make_items(n, 0.0, random.Random(n))
    k_pool = data.draw(st.integers(0, n - 1))
    pool, evaluated = holdout_pool(items, k_pool, seed)
    pool_ids, eval_ids = {i.item_id for i in pool}, [i.item_id for i in evaluated]
    assert len(pool) == k_pool and not pool_ids & set(eval_ids)
    assert pool_ids | set(eval_ids) == {i.item_id for i in items}
    assert eval_ids == [i.item_id for i in items if i.item_id not in pool_ids]  # input order kept
    again, _ = holdout_pool(list(reversed(items)), k_pool, seed)
    assert [i.item_id for i in again] == [i.item_id for i in pool]
    k = data.draw(st.integers(0, k_pool))
    chosen = select_exemplars(pool, k, seed, exclude_ids=eval_ids)
    assert not {i.item_id for i in chosen} & set(eval_ids)


def test_seed_changes_the_draw_and_errors_are_clear():
    items = make_items(50, 1.0, random.Random(0))
    draws = {tuple(i.item_id for i in select_exemplars(items, 4, seed)) for seed in range(10)}
    assert len(draws) > 5
    ids = {i.item_id for i in items}
    with pytest.raises(ExemplarError, match="all 50 candidate exemplars are evaluated items"):
        select_exemplars(items, 3, 0, exclude_ids=ids)
    with pytest.raises(ExemplarError, match="k_shot=5 exemplars requested but only 2"):
        select_exemplars(items, 5, 0, exclude_ids=sorted(ids)[2:])
    with pytest.raises(ExemplarError, match="cannot hold out 50 of 50"):
        holdout_pool(items, 50, 0)
    no_valence = select_exemplars(items, 0, 0, require=["valence"])
    assert no_valence == []
    with pytest.raises(ExemplarError, match="with gold for valence"):
        select_exemplars(items, 1, 0, require=["valence"])


def test_exemplar_answer_maps_labels_and_scales(images):
    gold = {"emotion": Gold(label="awe", taxonomy="mikels8"), "valence": Gold(value=4.0, scale=(1.0, 7.0)),
            "arousal": Gold(value=0.5, scale=(0.0, 1.0)),
            "distribution": Gold(distribution={"awe": 0.5, "contentment": 0.3, "fear": 0.2}, taxonomy="mikels8")}
    context = make_context(images[0], ("polarity", "emotion", "ranking", "valence", "arousal", "confidence"),
                           "ekman7", {"valence": (1, 9), "arousal": (1, 9)})
    answer = exemplar_answer(gold, context)
    # awe and contentment both map to happiness in Ekman's terms (Mikels et al. 2005 grouping).
    assert answer["emotion"] == "happiness" and answer["polarity"] == "positive"
    assert answer["ranking"][:2] == ["happiness", "fear"] and len(answer["ranking"]) == 7
    assert answer["valence"] == 5.0 and answer["arousal"] == 5.0
    assert "confidence" not in answer  # no dataset annotates it; never invented
    tie = exemplar_answer({"emotion": Gold(labels=("fear", "sadness"))}, make_context(images[0], ("emotion",)))
    assert tie == {}


def test_few_shot_on_real_emotion6_items_never_shows_an_evaluated_image():
    root = shared_path("datasets", "emotion6")
    with open(root / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[:60]
    labels = ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
    items = [Item(row["image"], row["image"],
                  {"distribution": Gold(distribution={lab: float(row[f"p_{lab}"]) for lab in labels},
                                        taxonomy="emotion6"),
                   "valence": Gold(value=float(row["valence"]), scale=(1.0, 9.0))}) for row in rows]
    pool, evaluated = holdout_pool(items, 10, seed=3)
    exemplars = select_exemplars(pool, 3, seed=3, exclude_ids=[i.item_id for i in evaluated])
    image_of = {item.item_id: ImagePart((root / item.image_path).read_bytes()) for item in items}
    query = evaluated[0]
    context = make_context(image_of[query.item_id], ("emotion", "distribution", "valence"), "emotion6",
                           item_key=f"emotion6/{query.item_id}", k_shot=3,
                           exemplars=[(image_of[e.item_id], e.gold) for e in exemplars])
    (request,) = get_strategy("few-shot").render(context)
    shown = [part.sha256 for part in request.messages[-1].images]
    assert shown == [image_of[e.item_id].sha256 for e in exemplars] + [image_of[query.item_id].sha256]
    evaluated_hashes = {image_of[i.item_id].sha256 for i in evaluated}
    assert not set(shown[:-1]) & evaluated_hashes
    texts = [p.text for p in request.messages[-1].parts if hasattr(p, "text")]
    answers = [json.loads(t.split("\n", 1)[1]) for t in texts if t.startswith("Answer for example")]
    for answer, exemplar in zip(answers, exemplars, strict=True):
        share = exemplar.gold["distribution"].distribution
        majority = [label for label, value in share.items() if value == max(share.values())]
        if len(majority) == 1:
            assert answer["emotion"] == majority[0]  # the raters' majority emotion
        else:
            assert "emotion" not in answer  # a tie is not resolved by guessing
        assert answer["distribution"] == {lab: round(share[lab], 2) for lab in answer["distribution"]}
        assert answer["valence"] == pytest.approx(exemplar.gold["valence"].value, abs=0.01)
