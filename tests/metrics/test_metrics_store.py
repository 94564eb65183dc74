"""Scoring a generated store: every dimension, derived polarity, padding, slices, comparisons, export.

Expected values are computed here from the generated data with scikit-learn / scipy / numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as skm

from engine.metrics import api
from engine.metrics.compare import holm
from engine.metrics.scoring import refresh_scores, score_store
from engine.taxonomy import map_label
from tests.metrics.metrics_fixtures import EMOTIONS, MISSING, N, POLARITY, build

ANSWERED = ("ok", "partial")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return build(tmp_path_factory.mktemp("toy") / "results.duckdb")


@pytest.fixture(scope="module")
def scores(toy):
    return score_store(toy.path, n_resamples=300)


def pick(scores, model, strategy, dimension, metric):
    rows = scores[(scores["model"] == model) & (scores["strategy"] == strategy) & (scores["dimension"] == dimension)
                  & (scores["metric"] == metric)]
    assert len(rows) == 1, (model, strategy, dimension, metric)
    return rows.iloc[0]


def test_groups_and_latest_run(scores):
    keys = set(map(tuple, scores[["model", "strategy", "dimension"]].drop_duplicates().to_numpy()))
    assert keys == {("alpha", "zero-shot", "emotion"), ("alpha", "zero-shot", "polarity"),
                    ("alpha", "zero-shot", "valence"), ("alpha", "zero-shot", "distribution"),
                    ("alpha", "cot", "emotion"), ("alpha", "cot", "polarity"), ("beta", "zero-shot", "emotion"),
                    ("beta", "zero-shot", "polarity"), ("flat", "zero-shot", "valence"),
                    ("ranker", "zero-shot", "ranking")}
    beta = pick(scores, "beta", "zero-shot", "emotion", "accuracy")
    assert beta["run_id"] == "run-beta" and "newest complete of 2 runs" in beta["note"]


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_emotion_metrics(toy, scores):
    answered = np.isin(toy.alpha_status, ANSWERED)
    correct = np.array([a is not None and a in g for a, g in zip(toy.alpha, toy.gold_sets)])
    y_true = [a if a in g else g[0] for a, g in zip(toy.alpha, toy.gold_sets)]
    y_pred = ["<other>" if a is None else a for a in toy.alpha]
    t = [y for y, k in zip(y_true, answered) if k]
    p = [y for y, k in zip(y_pred, answered) if k]
    get = lambda metric: pick(scores, "alpha", "zero-shot", "emotion", metric)  # noqa: E731
    assert get("accuracy")["value"] == pytest.approx(correct[answered].mean())
    assert (get("accuracy")["n"], get("accuracy")["n_total"]) == (N - 3, N)
    assert get("accuracy_strict")["value"] == pytest.approx(correct.sum() / N)
    assert get("coverage")["value"] == pytest.approx((N - 3) / N)
    assert get("macro_f1")["value"] == pytest.approx(skm.f1_score(t, p, labels=sorted(set(t)), average="macro"))
    assert get("uar")["value"] == pytest.approx(skm.balanced_accuracy_score(t, p))
    assert get("cohen_kappa")["value"] == pytest.approx(skm.cohen_kappa_score(t, p))
    for name in ("parse_failure_rate", "refusal_rate", "error_rate", "out_of_set_rate"):
        assert get(name)["value"] == pytest.approx(1 / N)
    assert get("brier")["value"] == pytest.approx(skm.brier_score_loss(correct[answered], toy.alpha_confidence[answered]))
    assert 0 < get("ece")["value"] < 1
    shares = np.array([toy.shares[i].get(a, 0.0) if a else 0.0 for i, a in enumerate(toy.alpha)])
    assert get("rater_share")["value"] == pytest.approx(shares[answered].mean())
    assert get("human_ceiling")["value"] == pytest.approx(np.mean([max(s.values()) for s in toy.shares]))
    hits2 = [a is not None and bool(set(g) & {a, next(e for e in EMOTIONS if e != a)})
             for a, g in zip(toy.alpha, toy.gold_sets)]
    assert get("top2_accuracy")["value"] == pytest.approx(np.array(hits2)[answered].mean())
    taus = []
    for a, s, k in zip(toy.alpha, toy.shares, answered):
        if k and a is not None:
            ranking = [a, *[e for e in EMOTIONS if e != a]]
            taus.append(stats.kendalltau([len(EMOTIONS) - ranking.index(e) for e in EMOTIONS],
                                         [s[e] for e in EMOTIONS]).statistic)
    assert get("kendall_tau")["value"] == pytest.approx(np.mean(taus))
    for metric in ("accuracy", "macro_f1", "cohen_kappa", "ece"):
        row = get(metric)
        assert row["ci_low"] <= row["value"] <= row["ci_high"]


def test_polarity_derived_from_emotion_answers(toy, scores):
    keep = [i for i in range(N) if POLARITY.get(toy.gold[i])]  # items with a polarity gold
    # "neutral" on a two-way polarity is an abstention (unanswered), not a wrong answer
    answered = np.array([toy.alpha_status[i] in ANSWERED and toy.alpha[i] != "neutral" for i in keep])
    gold = [POLARITY[toy.gold[i]] for i in keep]
    answer = [POLARITY.get(toy.alpha[i]) if toy.alpha[i] else None for i in keep]
    correct = np.array([a == g for a, g in zip(answer, gold)])
    row = pick(scores, "alpha", "zero-shot", "polarity", "accuracy")
    assert row["value"] == pytest.approx(correct[answered].mean())
    assert row["n_total"] == len(keep)
    assert "derived from the emotion answer" in row["note"] and "without gold ignored" in row["note"]
    positive = np.array([a == "positive" for a in answer])[answered].mean()
    gold_positive = np.array([g == "positive" for g in gold])[answered].mean()
    assert pick(scores, "alpha", "zero-shot", "polarity", "positive_bias")["value"] == pytest.approx(
        positive - gold_positive)


def test_a_ranking_answers_with_its_first_label(toy, scores):
    first = [EMOTIONS[(EMOTIONS.index(g) + (0 if i % 2 else 1 + i % 3)) % 7] for i, g in enumerate(toy.gold)]
    second = [EMOTIONS[(EMOTIONS.index(g) + (0 if i % 2 else 1 + i % 3) + 1) % 7] for i, g in enumerate(toy.gold)]
    top1 = np.mean([f in s for f, s in zip(first, toy.gold_sets)])
    top2 = np.mean([bool({f, t} & set(s)) for f, t, s in zip(first, second, toy.gold_sets)])
    assert pick(scores, "ranker", "zero-shot", "ranking", "accuracy")["value"] == pytest.approx(top1)
    assert pick(scores, "ranker", "zero-shot", "ranking", "top2_accuracy")["value"] == pytest.approx(top2)
    assert top2 > top1


def test_taxonomy_aware_credit_is_separate(toy, scores):
    exact = np.mean([b in g for b, g in zip(toy.beta, toy.gold_sets)])
    mapped = np.mean([map_label(b, "mikels8", "emotion6") in g for b, g in zip(toy.beta, toy.gold_sets)])
    assert pick(scores, "beta", "zero-shot", "emotion", "accuracy")["value"] == pytest.approx(exact)
    assert pick(scores, "beta", "zero-shot", "emotion", "accuracy_mapped")["value"] == pytest.approx(mapped)
    assert mapped > exact
    assert not ((scores["model"] == "alpha") & (scores["metric"] == "accuracy_mapped")).any()


def test_valence_distribution_and_degenerate(toy, scores):
    x = (toy.alpha_valence - 1) / 8 * 2 - 1
    y = (toy.valence - 1) / 8 * 2 - 1
    get = lambda metric: pick(scores, "alpha", "zero-shot", "valence", metric)["value"]  # noqa: E731
    assert get("pearson") == pytest.approx(stats.pearsonr(x, y).statistic)
    assert get("spearman") == pytest.approx(stats.spearmanr(x, y).statistic)
    assert get("mae") == pytest.approx(np.abs(x - y).mean())
    assert get("rmse") == pytest.approx(np.sqrt(((x - y) ** 2).mean()))
    assert get("bias") == pytest.approx((x - y).mean()) and get("bias") > 0
    kl = [stats.entropy([s[e] for e in EMOTIONS],
                        (np.array([s[e] for e in EMOTIONS]) * 0.5 + 0.5 / 7 + 1e-6) / (1 + 7e-6)) for s in toy.shares]
    assert pick(scores, "alpha", "zero-shot", "distribution", "kl")["value"] == pytest.approx(np.mean(kl), rel=1e-6)
    assert pick(scores, "alpha", "zero-shot", "distribution", "majority_agreement")["value"] == 1.0
    flat = pick(scores, "flat", "zero-shot", "valence", "pearson")
    assert np.isnan(flat["value"]) and flat["note"].startswith("constant predictions")
    assert np.isnan(flat["ci_low"])


def test_planned_items_without_rows_count_as_unanswered(scores):
    row = pick(scores, "alpha", "cot", "emotion", "accuracy_strict")
    assert row["n_total"] == N and row["value"] == pytest.approx((N - MISSING) / N)
    assert pick(scores, "alpha", "cot", "emotion", "accuracy")["value"] == 1.0
    assert pick(scores, "alpha", "cot", "emotion", "coverage")["value"] == pytest.approx((N - MISSING) / N)
    assert f"{MISSING} items of the set without an answer row" in row["note"]


def test_refresh_materialises_the_table(toy):
    frame = refresh_scores(toy.path, n_resamples=50)
    stored = api.stored_scores(toy.path)
    assert len(stored) == len(frame) > 0
    refresh_scores(toy.path, model="flat", n_resamples=50)
    assert len(api.stored_scores(toy.path)) == len(frame)  # replaced, not appended


def test_compare_two_models_paired(toy):
    frame = api.compare(toy.path, dataset="toy", model_a="alpha", model_b="beta", dimension="emotion",
                        strategy_a="zero-shot", strategy_b="zero-shot", n_resamples=400)
    row = frame[frame["metric"] == "accuracy_strict"].iloc[0]
    a = np.array([x is not None and x in g for x, g in zip(toy.alpha, toy.gold_sets)])
    b = np.array([x in g for x, g in zip(toy.beta, toy.gold_sets)])
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    assert (row["only_a"], row["only_b"]) == (only_a, only_b)
    assert row["difference"] == pytest.approx(a.mean() - b.mean())
    assert row["p_mcnemar"] == pytest.approx(stats.binomtest(only_a, only_a + only_b).pvalue)
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]


def test_compare_all_holm_within_the_family(toy):
    frame = api.compare_all(toy.path, dataset="toy", dimension="emotion", n_resamples=200)
    assert len(frame) == 3  # alpha/zero-shot, alpha/cot, beta/zero-shot: three pairs
    assert np.allclose(frame["p_holm"], holm(frame["p"].to_numpy()))


def test_agreement_between_models(toy):
    frame = api.agreement(toy.path, dataset="toy", dimension="emotion", strategy="zero-shot")
    pair = frame[frame["statistic"] == "cohen_kappa"].iloc[0]
    answered = [i for i, s in enumerate(toy.alpha_status) if s in ANSWERED]  # an out-of-set answer is an answer
    reference = skm.cohen_kappa_score([toy.alpha[i] or "<other>" for i in answered], [toy.beta[i] for i in answered])
    assert pair["value"] == pytest.approx(reference)
    assert frame["statistic"].str.startswith("krippendorff_alpha_nominal").any()


def test_slices_and_worst_slices(toy):
    frame = api.slices(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion",
                       metrics=["accuracy"], n_resamples=200)
    assert set(frame["key"]) == {"category", "brightness", "colorfulness"}  # photo_id: too many levels
    for category in ("animal", "scene", "person"):
        rows = [i for i in range(N) if toy.category[i] == category and toy.alpha_status[i] in ANSWERED]
        expected = np.mean([toy.alpha[i] is not None and toy.alpha[i] in toy.gold_sets[i] for i in rows])
        got = frame[(frame["key"] == "category") & (frame["slice"] == category)].iloc[0]
        assert got["value"] == pytest.approx(expected) and got["n"] == len(rows)
    bright = frame[frame["key"] == "brightness"]
    assert len(bright) == 3 and bright["slice"].str.match(r"^(low \[|mid \(|high \()").all()
    assert bright["n_total"].sum() == N
    worst = api.worst_slices(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion",
                             min_n=15, n_resamples=200)
    assert list(worst["gap"]) == sorted(worst["gap"]) and (worst["n_total"] >= 15).all()
    first = worst.iloc[0]
    assert first["gap"] == pytest.approx(first["value"] - first["overall"]) and first["ci_low"] <= first["value"]
    mae = api.worst_slices(toy.path, dataset="toy", model="alpha", dimension="valence", metric="mae", min_n=15,
                           n_resamples=100)
    assert (mae["gap"] <= 0).iloc[0] and mae.iloc[0]["value"] >= mae.iloc[0]["overall"]  # larger error is worse


def test_confusion_per_class_reliability(toy):
    confusion = api.confusion(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion")
    assert int(confusion.to_numpy().sum()) == N - 3 and "<other>" in confusion.columns
    per_class = api.per_class(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion")
    assert set(per_class["label"]) <= set(EMOTIONS)
    diagram = api.reliability(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion")
    assert diagram["count"].sum() == N - 3
    curve = api.accuracy_coverage(toy.path, dataset="toy", model="alpha", strategy="zero-shot", dimension="emotion")
    assert curve["coverage"].iloc[-1] == 1.0
    with pytest.raises(KeyError, match="several groups"):
        api.confusion(toy.path, dataset="toy", model="alpha")
    items = api.items(toy.path, dataset="toy", model="alpha", strategy="cot", dimension="emotion")
    assert len(items) == N  # padded planned items are not real items


def test_empty_store_scores_nothing(tmp_path):
    refresh_scores(tmp_path / "empty.duckdb")
    frame = score_store(tmp_path / "empty.duckdb")
    assert frame.empty and list(frame.columns)[:5] == ["dataset", "model", "strategy", "dimension", "metric"]
    assert isinstance(frame, pd.DataFrame)
