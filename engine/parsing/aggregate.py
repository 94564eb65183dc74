"""Self-consistency: several sampled answers to one item combined into one parse.

* Categorical dimensions (polarity, emotion): majority vote over the samples that have a value
  (status ok or partial). Ties go to the label seen first in sample order, so the result does not
  depend on dictionary or hash order.
* Continuous dimensions (valence, arousal, intensity, confidence): arithmetic mean of the values.
* Ranking: Borda count (Black, 1958): a label at position i of a list of n earns n - i points;
  ties by first appearance. Distribution: element-wise mean of the sampled distributions.

Agreement is the share of *all* samples (unreadable ones included) that agree with the winner: the
same label; for a ranking the same first label; for a distribution the same most probable label;
for a continuous value one within a tenth of the scale's range of the mean.
"""

from __future__ import annotations

from collections import Counter

from engine.parsing.types import DimensionParse, ParseResult, ParseSpec

CATEGORICAL = ("polarity", "emotion")
CONTINUOUS = ("valence", "arousal", "intensity", "confidence")


def aggregate(results: list[ParseResult], spec: ParseSpec) -> tuple[ParseResult, dict[str, float]]:
    """Combine self-consistency samples: (one ParseResult with method "vote", agreement per dimension)."""
    if not results:
        empty = ParseResult({dim: DimensionParse(method="vote") for dim in spec.dimensions})
        return empty, {dim: 0.0 for dim in spec.dimensions}
    combined = ParseResult()
    agreement: dict[str, float] = {}
    n = len(results)
    for dimension in spec.dimensions:
        readings = [r.dimensions.get(dimension) or DimensionParse() for r in results]
        usable = [p for p in readings if p.value is not None and p.status in ("ok", "partial")]
        if not usable:
            status = "refused" if all(p.status == "refused" for p in readings) else "failed"
            combined.dimensions[dimension] = DimensionParse(None, status, None, None, "vote")
            agreement[dimension] = 0.0
            continue
        if dimension in CONTINUOUS:
            value, agree, source = _mean(usable, spec.scale(dimension) if dimension != "confidence" else (0.0, 1.0))
        elif dimension == "ranking":
            value, agree, source = _borda(usable)
        elif dimension == "distribution":
            value, agree, source = _mean_distribution(usable)
        else:
            value, agree, source = _vote(usable)
        status = "ok" if any(p.status == "ok" for p in source) else "partial"
        combined.dimensions[dimension] = DimensionParse(value, status, source[0].span, source[0].raw, "vote")
        agreement[dimension] = round(agree / n, 6)
    confidences = [r.confidence for r in results if r.confidence is not None]
    combined.confidence = round(sum(confidences) / len(confidences), 6) if confidences else None
    representative = _representative(results, combined, spec)
    combined.steps, combined.scene = list(representative.steps), representative.scene
    combined.thinking, combined.answer_text = representative.thinking, representative.answer_text
    return combined, agreement


def _vote(usable: list[DimensionParse]):
    counts = Counter(p.value for p in usable)
    order = list(dict.fromkeys(p.value for p in usable))
    winner = max(order, key=lambda label: (counts[label], -order.index(label)))
    return winner, counts[winner], [p for p in usable if p.value == winner]


def _mean(usable: list[DimensionParse], scale: tuple[float, float]):
    values = [float(p.value) for p in usable]
    mean = sum(values) / len(values)
    tolerance = (scale[1] - scale[0]) / 10
    close = [p for p in usable if abs(float(p.value) - mean) <= tolerance + 1e-9]
    return round(mean, 4), len(close), close or usable


def _borda(usable: list[DimensionParse]):
    points: dict[str, float] = {}
    for reading in usable:
        labels = [label for label in reading.value if label is not None]
        for position, label in enumerate(labels):
            points[label] = points.get(label, 0.0) + len(labels) - position
    order = list(dict.fromkeys(label for p in usable for label in p.value if label is not None))
    ranking = sorted(order, key=lambda label: (-points[label], order.index(label)))
    top = ranking[0] if ranking else None
    agree = [p for p in usable if p.value and p.value[0] == top]
    return ranking, len(agree), agree or usable


def _mean_distribution(usable: list[DimensionParse]):
    labels = list(dict.fromkeys(label for p in usable for label in p.value))
    mean = {label: round(sum(p.value.get(label, 0.0) for p in usable) / len(usable), 6) for label in labels}
    top = max(labels, key=lambda label: (mean[label], -labels.index(label)))
    agree = [p for p in usable if max(p.value, key=lambda k: p.value[k]) == top]
    return mean, len(agree), agree or usable


def _representative(results: list[ParseResult], combined: ParseResult, spec: ParseSpec) -> ParseResult:
    """The first sample agreeing with the vote on the first categorical dimension (for its trace)."""
    for dimension in spec.dimensions:
        if dimension in CATEGORICAL and combined.dimensions[dimension].value is not None:
            winner = combined.dimensions[dimension].value
            for result in results:
                reading = result.dimensions.get(dimension)
                if reading is not None and reading.value == winner:
                    return result
    return results[0]
