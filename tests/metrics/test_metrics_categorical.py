"""Categorical metrics against scikit-learn on randomized inputs (hypothesis), and degenerate inputs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn import metrics as skm

from engine.metrics import categorical as cat
from engine.metrics.base import reason_of

CLASSES = ["anger", "fear", "joy", "sadness"]
OUTSIDE = "concentration"  # an answer outside the label set


@st.composite
def labelled(draw, min_size=1):
    n = draw(st.integers(min_size, 60))
    gold = draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n))
    answers = draw(st.lists(st.sampled_from([*CLASSES, OUTSIDE, None]), min_size=n, max_size=n))
    return gold, answers


def _sk(answers):
    return ["<none>" if a is None else a for a in answers]


def _same(ours, reference):
    if math.isnan(reference):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(reference, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(labelled())
def test_matches_scikit_learn(data):
    gold, answers = data
    present = sorted(set(gold))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(cat.accuracy(gold, answers), skm.accuracy_score(gold, _sk(answers)))
        _same(cat.macro_f1(gold, answers),
              skm.f1_score(gold, _sk(answers), labels=present, average="macro", zero_division=0))
        _same(cat.weighted_f1(gold, answers),
              skm.f1_score(gold, _sk(answers), labels=present, average="weighted", zero_division=0))
        _same(cat.uar(gold, answers), skm.balanced_accuracy_score(gold, _sk(answers)))
        _same(cat.cohen_kappa(gold, answers), skm.cohen_kappa_score(gold, _sk(answers)))


@settings(max_examples=80, deadline=None)
@given(labelled())
def test_confusion_and_per_class_match_scikit_learn(data):
    gold, answers = data
    ours = cat.confusion_matrix(gold, answers, CLASSES)
    outside = [a if a in CLASSES else cat.OTHER for a in answers]
    reference = skm.confusion_matrix(gold, outside, labels=[*CLASSES, cat.OTHER])[: len(CLASSES)]
    if cat.OTHER not in ours.columns:
        reference = reference[:, : len(CLASSES)]
    assert (ours.to_numpy() == reference).all()
    table = cat.per_class(gold, answers, CLASSES)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        gold, outside, labels=CLASSES, zero_division=0)
    assert np.allclose(table["precision"], precision)
    assert (table["support"].to_numpy() == support).all()
    seen = (support + table["predicted"].to_numpy()) > 0  # a class neither in gold nor answered: NaN, not 0
    assert np.allclose(table["f1"].to_numpy()[seen], f1[seen])
    assert table["f1"].to_numpy()[~seen].tolist() == [] or np.isnan(table["f1"].to_numpy()[~seen]).all()
    has = support > 0
    assert np.allclose(table["recall"].to_numpy()[has], recall[has])


@settings(max_examples=25, deadline=None)
@given(labelled(min_size=2), st.integers(0, 2**31 - 1))
def test_batch_rows_equal_the_metric_on_each_resample(data, seed):
    gold, answers = data
    t, p, labels = cat.encode(gold, answers, CLASSES)
    idx = np.random.default_rng(seed).integers(0, len(gold), size=(3, len(gold)))
    conf = cat.confusion_batch(t, p, len(labels), idx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row, rows in enumerate(idx):
            g = [gold[i] for i in rows]
            a = [answers[i] for i in rows]
            _same(cat.macro_f1_from_confusion(conf)[row],
                  skm.f1_score(g, _sk(a), labels=sorted(set(g)), average="macro", zero_division=0))
            _same(cat.kappa_from_confusion(conf)[row], skm.cohen_kappa_score(g, _sk(a)))
            _same(cat.uar_from_confusion(conf)[row], skm.balanced_accuracy_score(g, _sk(a)))


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_top_k_matches_scikit_learn(data):
    n = data.draw(st.integers(1, 40))
    gold = data.draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n))
    rankings = [data.draw(st.permutations(CLASSES)) for _ in range(n)]
    scores = np.array([[len(CLASSES) - r.index(c) for c in CLASSES] for r in rankings], dtype=float)
    for k in (1, 2, 3):
        reference = skm.top_k_accuracy_score(gold, scores, k=k, labels=CLASSES)
        assert cat.top_k_accuracy(gold, rankings, k) == pytest.approx(reference)


def test_kendall_tau_textbook_values():
    shares = {"anger": 0.5, "fear": 0.3, "joy": 0.2}
    assert cat.kendall_tau(["anger", "fear", "joy"], shares) == pytest.approx(1.0)
    assert cat.kendall_tau(["joy", "fear", "anger"], shares) == pytest.approx(-1.0)
    # one discordant pair of three, no ties: (2 - 1) / 3
    assert cat.kendall_tau(["fear", "anger", "joy"], shares) == pytest.approx(1 / 3)
    assert math.isnan(cat.kendall_tau(["anger"], {"anger": 0.5, "fear": 0.5}))


def test_empty_and_degenerate_inputs_give_nan_with_a_reason():
    for fn in (cat.accuracy, cat.macro_f1, cat.weighted_f1, cat.uar, cat.cohen_kappa):
        value = fn([], [])
        assert math.isnan(value) and reason_of(value) == "no items"
    assert reason_of(cat.coverage([])) == "no items"
    assert reason_of(cat.top_k_accuracy([], [], 2)) == "no items"
    # one class on both sides: chance agreement 1, kappa undefined (scikit-learn gives nan as well)
    value = cat.cohen_kappa(["joy", "joy"], ["joy", "joy"])
    assert math.isnan(value) and "chance agreement" in reason_of(value)
    # constant answers against varied gold are defined: accuracy, F1 and kappa 0
    assert cat.cohen_kappa(["joy", "fear", "joy"], ["joy", "joy", "joy"]) == pytest.approx(0.0)
    assert cat.macro_f1(["joy"], ["joy"]) == 1.0
    assert cat.accuracy_strict(["joy", "fear"], ["joy", None], [True, False]) == 0.5
    with pytest.raises(ValueError, match="not among the classes"):
        cat.encode(["joy", "awe"], ["joy", "joy"], ["joy"])
