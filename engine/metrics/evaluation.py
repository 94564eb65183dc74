"""One scoring group's items as aligned arrays, and every metric of the group in batch form.

An evaluation is built from the per-item frame of `frames.load_items` (items sorted by id). Its
`compute(idx)` returns {metric: (B,) values} for an index matrix (identity row = the sample itself,
resample rows = the bootstrap), so the point estimate and every CI come from the same code, and two
evaluations over the same items share their resamples (paired). `subset(mask)` restricts it to a
slice of items.

Prediction status (shared with the runner): answered = ok or partial; failed (unparsed or absent),
refused and error (API) are unanswered and counted separately; "missing" marks items of the
evaluation set without any prediction row; "abstained" marks "neutral" given where the gold is a
two-way polarity (an abstention, not a wrong answer).

`outcomes()` gives the per-item rows the store keeps (table `outcomes`): every page and export
aggregates those, so correctness is decided here once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from engine.metrics import categorical as cat
from engine.metrics import continuous as cont
from engine.metrics import distribution as dist
from engine.metrics.bootstrap import masked_means, resample_counts
from engine.metrics.calibration import ece_from_counts
from engine.taxonomy import TAXONOMIES, map_label, normalize_label

__all__ = ["ANSWERED", "Evaluation", "CategoricalEvaluation", "ContinuousEvaluation", "DistributionEvaluation"]

ANSWERED = ("ok", "partial")


@dataclass
class Evaluation:
    items: np.ndarray  # item ids, sorted
    status: np.ndarray  # prediction status per item
    notes: list[str] = field(default_factory=list)

    @property
    def n_total(self) -> int:
        return len(self.items)

    @property
    def answered(self) -> np.ndarray:
        return np.isin(self.status, ANSWERED)

    def compute(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        """{metric: (B,) values} for each row of the index matrix `idx` (identity row: the sample)."""
        return self.compute_counts(resample_counts(idx, self.n_total))

    def compute_counts(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """The same from `counts` (B, n): how often each item is drawn in each resample."""
        raise NotImplementedError

    def _rates(self) -> dict[str, tuple[np.ndarray, None]]:
        """(values, mask) of the coverage and failure shares, for `masked_means`."""
        out = {"coverage": (self.answered, None)}
        for name, status in (("parse_failure_rate", "failed"), ("refusal_rate", "refused"), ("error_rate", "error")):
            out[name] = (self.status == status, None)
        return out

    def outcomes(self) -> pd.DataFrame:
        """Per item: item_id, status, answered, outcome and the dimension-specific columns of `outcomes`."""
        raise NotImplementedError

    def subset(self, mask: np.ndarray) -> "Evaluation":
        """The same evaluation restricted to the items where `mask` holds."""
        mask = np.asarray(mask, dtype=bool)
        def cut(value):
            if isinstance(value, np.ndarray) and value.shape[:1] == mask.shape:
                return value[mask]
            if isinstance(value, dict):
                return {key: cut(inner) for key, inner in value.items()}
            return value
        changes = {name: cut(value) for name, value in self.__dict__.items() if name != "notes"}
        changes["notes"] = list(self.notes)
        return replace(self, **changes)


@dataclass
class CategoricalEvaluation(Evaluation):
    classes: list[str] = field(default_factory=list)
    t: np.ndarray = None  # gold class index (tied gold: the answer where it is a majority label)
    p: np.ndarray = None  # answer class index, len(classes) = OTHER
    answers: np.ndarray = None  # the answer labels themselves (None: none or outside every label set)
    correct: np.ndarray = None
    out_of_set: np.ndarray = None
    confidence: np.ndarray = None
    mapped_correct: np.ndarray | None = None
    top_hits: dict[int, np.ndarray] = field(default_factory=dict)
    tau: np.ndarray | None = None
    rater_share: np.ndarray | None = None
    ceiling: np.ndarray | None = None
    credit: np.ndarray | None = None  # 1, or 1/k for one of k tied gold labels; 0 when wrong or unanswered
    derived_values: np.ndarray | None = None  # the answer was derived (polarity from an emotion word)
    gold_text: np.ndarray | None = None  # the gold label, tied labels joined with " | "

    def compute_counts(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        answered = self.answered
        means: dict[str, tuple] = {"accuracy_strict": (self.correct, None)}
        if self.credit is not None and self.has_ties:
            means["accuracy_fractional"] = (self.credit, answered)
        if self.mapped_correct is not None:
            means["accuracy_mapped"] = (self.mapped_correct, answered)
        for k, hits in self.top_hits.items():
            means[f"top{k}_accuracy"] = (hits, answered)
        if self.tau is not None:
            means["kendall_tau"] = (self.tau, answered)
        if self.rater_share is not None:
            means["rater_share"] = (self.rater_share, answered)
            means["human_ceiling"] = (self.ceiling, None)
        has_confidence = answered & np.isfinite(self.confidence)
        if has_confidence.any():
            means["brier"] = ((self.confidence - self.correct) ** 2, has_confidence)
        means.update(self._rates())
        means["out_of_set_rate"] = (self.out_of_set, None)
        shares = masked_means(means, counts)

        conf = cat.confusion_from_counts(self.t, self.p, len(self.classes), counts, answered)
        out = {"accuracy": cat.accuracy_from_confusion(conf), "accuracy_strict": shares["accuracy_strict"]}
        if "accuracy_fractional" in shares:
            out["accuracy_fractional"] = shares["accuracy_fractional"]
        if "accuracy_mapped" in shares:
            out["accuracy_mapped"] = shares["accuracy_mapped"]
        out.update({"macro_f1": cat.macro_f1_from_confusion(conf), "weighted_f1": cat.weighted_f1_from_confusion(conf),
                    "uar": cat.uar_from_confusion(conf), "cohen_kappa": cat.kappa_from_confusion(conf)})
        out.update({name: shares[name] for name in ("top2_accuracy", "top3_accuracy", "kendall_tau", "rater_share",
                                                     "human_ceiling") if name in shares})
        if "human_ceiling" in shares:
            with np.errstate(invalid="ignore", divide="ignore"):
                out["accuracy_vs_ceiling"] = out["accuracy"] / shares["human_ceiling"]
        if has_confidence.any():
            out["ece"] = ece_from_counts(self.confidence, self.correct, has_confidence, counts)
            out["brier"] = shares["brier"]
        out.update({name: shares[name] for name in (*self._rates(), "out_of_set_rate")})
        total = conf.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            gold_share = conf.sum(axis=2) / total[:, None]
            answer_share = conf.sum(axis=1) / total[:, None]
            out["label_prior_bias"] = np.abs(gold_share - answer_share).sum(axis=1) / 2
            if "positive" in self.classes and set(self.classes) <= {"positive", "negative", "neutral"}:
                j = self.classes.index("positive")
                out["positive_rate"] = answer_share[:, j]
                out["positive_bias"] = answer_share[:, j] - gold_share[:, j]
        return out

    def used(self) -> dict[str, int]:
        """Items each metric uses (the `n` column)."""
        answered = int(self.answered.sum())
        n = {name: answered for name in ("accuracy", "accuracy_mapped", "accuracy_fractional", "macro_f1",
                                         "weighted_f1", "uar",
                                         "cohen_kappa", "label_prior_bias", "positive_rate", "positive_bias",
                                         "top2_accuracy", "top3_accuracy")}
        if self.tau is not None:
            n["kendall_tau"] = int((self.answered & np.isfinite(self.tau)).sum())
        if self.ceiling is not None:
            n["rater_share"] = n["accuracy_vs_ceiling"] = int((self.answered & np.isfinite(self.ceiling)).sum())
            n["human_ceiling"] = int(np.isfinite(self.ceiling).sum())
        n["ece"] = n["brier"] = int((self.answered & np.isfinite(self.confidence)).sum())
        return n

    @property
    def has_ties(self) -> bool:
        """Some gold is a tie of several labels (Emotion6): `accuracy_fractional` is reported beside `accuracy`."""
        return self.gold_text is not None and any(" | " in str(g) for g in self.gold_text)

    def outcomes(self) -> pd.DataFrame:
        answered = self.answered
        names = [*self.classes, None]
        outcome = np.where(~answered, "unanswered", np.where(self.correct, "correct", "wrong"))
        return pd.DataFrame({
            "item_id": self.items, "status": self.status, "answered": answered, "outcome": outcome,
            "correct": self.correct, "credit": self.credit if self.credit is not None else self.correct.astype(float),
            "answer": [names[i] if a else None for i, a in zip(self.p, answered)],
            "gold": self.gold_text if self.gold_text is not None else [self.classes[i] for i in self.t],
            "confidence": self.confidence,
            "derived": self.derived_values if self.derived_values is not None else np.zeros(len(self.items), bool)})

    def labels(self) -> tuple[list[str], list[str | None]]:
        """(gold, answer) label lists over the answered items (answers outside the label set as None)."""
        answered = self.answered
        names = [*self.classes, None]
        return ([self.classes[i] for i in self.t[answered]], [names[i] for i in self.p[answered]])

    def reason(self, metric: str) -> str:
        gold, answers = self.labels()
        if not gold:
            return "no answered items" if self.n_total else "no items with gold"
        scalar = {"cohen_kappa": cat.cohen_kappa, "macro_f1": cat.macro_f1, "uar": cat.uar}.get(metric)
        if scalar is not None:
            return getattr(scalar(gold, answers), "reason", None) or "undefined for this input"
        if metric in ("ece", "brier"):
            return "no answered item has a stated confidence"
        if metric == "kendall_tau":
            return "no answered item with a ranking and a gold rater distribution that varies"
        return "undefined for this input"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, taxonomy: str | None, run_taxonomy: str | None,
                   derived: bool) -> "CategoricalEvaluation":
        gold_sets = [list(g) if g is not None and len(g) else ([l] if l is not None else [])
                     for g, l in zip(frame["gold_labels"], frame["gold_label"])]
        classes = list(TAXONOMIES[taxonomy].names) if taxonomy in TAXONOMIES else []
        for gold in gold_sets:
            classes.extend(label for label in gold if label not in classes)
        # for a ranking without a label of its own, its first entry is the answer (None: outside the set)
        answers = [label if label is not None or not ranking else ranking[0]
                   for label, ranking in zip(frame["label"], frame["ranking"])]
        if derived:  # polarity from an emotion answer (its own word where it had no label)
            answers = [normalize_label(a if a is not None else r, taxonomy or "polarity2").label
                       if (a is not None or r is not None) else None
                       for a, r in zip(frame["label"], frame["raw_label"])]
        status = frame["status"].to_numpy(dtype=object).copy()
        if taxonomy == "polarity2":  # "neutral" where the gold has no neutral: an abstention, not a wrong answer
            raw = frame["raw_label"] if "raw_label" in frame else pd.Series([None] * len(frame))
            neutral = np.array([a is None and isinstance(r, str) and normalize_label(r, "polarity3").label == "neutral"
                                for a, r in zip(answers, raw)], dtype=bool)
            status[neutral & np.isin(status, ANSWERED)] = "abstained"
        answered = np.isin(status, ANSWERED)
        code = {label: i for i, label in enumerate(classes)}
        k = len(classes)
        p = np.array([code.get(a, k) if a is not None else k for a in answers], dtype=np.int64)
        t = np.array([code[a] if a in gold else code[gold[0]] for a, gold in zip(answers, gold_sets)], dtype=np.int64)
        correct = answered & np.array([a is not None and a in gold for a, gold in zip(answers, gold_sets)], dtype=bool)
        out_of_set = answered & np.array([a is None for a in answers], dtype=bool)
        credit = np.where(correct, [1.0 / max(1, len(gold)) for gold in gold_sets], 0.0)
        methods = frame["method"] if "method" in frame else pd.Series([None] * len(frame))
        derived_values = answered & (np.full(len(frame), bool(derived)) | (methods.to_numpy(dtype=object) == "derived"))
        ev = cls(items=frame["item_id"].to_numpy(dtype=object), status=status, classes=classes, t=t, p=p,
                 answers=np.array(answers, dtype=object),
                 correct=correct, out_of_set=out_of_set,
                 confidence=pd.to_numeric(frame["confidence"], errors="coerce").to_numpy(dtype=float),
                 credit=credit.astype(float), derived_values=derived_values,
                 gold_text=np.array([" | ".join(gold) for gold in gold_sets], dtype=object))
        if not derived and run_taxonomy in TAXONOMIES and taxonomy in TAXONOMIES and run_taxonomy != taxonomy \
                and not TAXONOMIES[taxonomy].polarity_only:
            mapped = [a if a in code else (map_label(a, run_taxonomy, taxonomy) if a else None) for a in answers]
            ev.mapped_correct = answered & np.array([m is not None and m in g for m, g in zip(mapped, gold_sets)],
                                                    dtype=bool)
        rankings = [list(r) if r is not None and len(r) else None for r in frame["ranking"]]
        entries = [e for r in rankings if r for e in r]
        in_classes = bool(entries) and np.mean([e in code for e in entries]) >= 0.5
        if not derived and in_classes and any(r is not None and len(r) > 1 for r in rankings):
            for size in (2, 3):
                if size < len(classes):
                    ev.top_hits[size] = cat.top_k_hits([g[0] if g else None for g in gold_sets], rankings, size,
                                                       gold_sets)
        raters = list(frame["rater_distribution"])
        matrix, has = dist.as_matrix(raters, classes)
        if has.any():
            index = np.where(p < k, p, -1)
            ev.rater_share = np.where(has, dist.rater_share_items(matrix, index), np.nan)
            ev.ceiling = np.where(has, dist.ceiling_items(matrix), np.nan)
            if not derived and in_classes:
                ev.tau = cat.kendall_tau_items(rankings, raters)
        return ev


@dataclass
class ContinuousEvaluation(Evaluation):
    """Coverage counts usable values only (answered, with a number); errors are also reported on the
    dataset's own scale (`mae_scale`, `rmse_scale`, `bias_scale`, unit e.g. "1–9")."""

    x: np.ndarray = None  # predicted value_norm
    y: np.ndarray = None  # gold value_norm
    scale: tuple[float, float] | None = None  # the dataset's own scale of this dimension
    dimension: str = ""
    assumed_scale: np.ndarray | None = None  # the answer gave a number without its scale

    @property
    def valid(self) -> np.ndarray:
        return self.answered & np.isfinite(self.x) & np.isfinite(self.y)

    @property
    def scale_factor(self) -> float | None:
        """Normalised units -> the dataset's own units (valence is normalised onto [-1, 1], the rest [0, 1])."""
        if not self.scale:
            return None
        width = float(self.scale[1]) - float(self.scale[0])
        return width / 2 if self.dimension == "valence" else width

    @property
    def unit(self) -> str | None:
        return f"{self.scale[0]:g}–{self.scale[1]:g}" if self.scale else None

    def _rates(self) -> dict[str, tuple[np.ndarray, None]]:
        rates = super()._rates()
        rates["coverage"] = (self.answered & np.isfinite(self.x), None)
        return rates

    def compute_counts(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        out = cont.continuous_from_counts(self.x, self.y, self.valid, counts)
        means = {**self._rates(), "out_of_set_rate": (self.answered & ~np.isfinite(self.x), None)}
        out.update(masked_means(means, counts))
        factor = self.scale_factor
        if factor is not None:
            for name in ("mae", "rmse", "bias"):
                if name in out:
                    out[f"{name}_scale"] = out[name] * factor
        return out

    def used(self) -> dict[str, int]:
        n = int(self.valid.sum())
        return {name: n for name in ("pearson", "spearman", "ccc", "mae", "rmse", "bias", "mae_scale", "rmse_scale",
                                     "bias_scale")}

    def outcomes(self) -> pd.DataFrame:
        usable = self.answered & np.isfinite(self.x)
        error = np.where(self.valid, self.x - self.y, np.nan)
        factor = self.scale_factor
        return pd.DataFrame({
            "item_id": self.items, "status": self.status, "answered": usable,
            "outcome": np.where(usable, "scored", "unanswered"), "value": np.where(usable, self.x, np.nan),
            "gold_value": self.y, "error": error, "error_scale": error * factor if factor else np.nan,
            "derived": np.zeros(len(self.items), dtype=bool)})

    def reason(self, metric: str) -> str:
        valid = self.valid
        scalar = getattr(cont, metric, None)
        if callable(scalar):
            return getattr(scalar(self.x[valid], self.y[valid]), "reason", None) or "undefined for this input"
        return "undefined for this input"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, dimension: str = "",
                   scale: tuple[float, float] | None = None) -> "ContinuousEvaluation":
        methods = frame["method"] if "method" in frame else pd.Series([None] * len(frame))
        return cls(items=frame["item_id"].to_numpy(dtype=object), status=frame["status"].to_numpy(dtype=object),
                   x=pd.to_numeric(frame["value_norm"], errors="coerce").to_numpy(dtype=float),
                   y=pd.to_numeric(frame["gold_value"], errors="coerce").to_numpy(dtype=float),
                   scale=scale, dimension=dimension,
                   assumed_scale=methods.to_numpy(dtype=object) == "assumed-scale")


@dataclass
class DistributionEvaluation(Evaluation):
    kl: np.ndarray = None
    js: np.ndarray = None
    cosine: np.ndarray = None
    majority: np.ndarray = None
    valid_pair: np.ndarray = None

    def compute_counts(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        valid = self.answered & self.valid_pair
        means = {name: (getattr(self, name), valid) for name in ("kl", "js", "cosine")}
        means.update({"majority_agreement": (self.majority, valid), **self._rates()})
        return masked_means(means, counts)

    def used(self) -> dict[str, int]:
        n = int((self.answered & self.valid_pair).sum())
        return {name: n for name in ("kl", "js", "cosine", "majority_agreement")}

    def reason(self, metric: str) -> str:
        return "no answered item with both a predicted and a gold distribution"

    def outcomes(self) -> pd.DataFrame:
        usable = self.answered & self.valid_pair
        return pd.DataFrame({"item_id": self.items, "status": self.status, "answered": usable,
                             "outcome": np.where(usable, "scored", "unanswered"),
                             "error": np.where(usable, self.js, np.nan), "derived": np.zeros(len(self.items), bool)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, taxonomy: str | None) -> "DistributionEvaluation":
        gold = list(frame["gold_distribution"])
        pred = list(frame["distribution"])
        labels = list(TAXONOMIES[taxonomy].names) if taxonomy in TAXONOMIES else sorted(
            {label for d in gold + pred if d for label in d})
        p, gold_ok = dist.as_matrix(gold, labels)
        q, pred_ok = dist.as_matrix(pred, labels)
        return cls(items=frame["item_id"].to_numpy(dtype=object), status=frame["status"].to_numpy(dtype=object),
                   kl=dist.kl_items(p, q), js=dist.js_items(p, q), cosine=np.nan_to_num(dist.cosine_items(p, q)),
                   majority=dist.majority_agreement_items(p, q), valid_pair=gold_ok & pred_ok)

