"""The error gallery's queries: a page of items hardest first (categorical scopes) or by error or
disagreement (continuous ones), their label choices, and everything stored about one item."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dashboard.cache import frame as _frame, query
from dashboard.data.scope import Filters, Scope, _judged, _selected

@dataclass(frozen=True)
class GalleryQuery:
    """What the gallery shows: one scope, narrowed by the page's filters.

    `items` (when not None) keeps only those item ids (a slice opened from the Slices page).
    `error_types` are keys of ERROR_TYPES; an item shows when at least one chosen run's answer matches
    the predicted label, error type and confidence range together. Hardness (how many of the scope's
    cells failed the item: wrong, refused, unparsed or API error) counts one run per cell. `sort` is a key
    of GALLERY_SORTS.
    """

    scope: Scope
    sort: str = "hardness"
    gold: str | None = None
    predicted: str | None = None
    error_types: tuple[str, ...] = ()
    confidence: tuple[float, float] | None = None
    search: str = ""
    items: tuple[str, ...] | None = None
    page: int = 1
    page_size: int = 24

    @property
    def dataset(self) -> str:
        return self.scope.dataset


#: How the categorical gallery orders items (`GalleryQuery.sort`); ties go to the other order, then the item id.
GALLERY_SORTS = {"hardness": "hardness (cells that failed it)",
                 "confidence": "stated confidence of its wrong answers"}
_GALLERY_ORDER = {"hardness": "h.n_failed DESC, h.n_failed / h.n_runs DESC, h.wrong_confidence DESC NULLS LAST",
                  "confidence": "h.wrong_confidence DESC NULLS LAST, h.n_failed DESC"}

_OUTCOME = """CASE WHEN status = 'refused' THEN 'refused' WHEN status IN ('failed', 'missing') THEN 'unparsed'
                   WHEN status = 'error' THEN 'api_error' WHEN NOT answered THEN 'unparsed'
                   WHEN NOT correct THEN 'wrong' ELSE 'correct' END"""


@dataclass
class GalleryPage:
    total: int
    items: pd.DataFrame
    root: str | None


@query
def gallery_labels(con, filters: Filters, scope: Scope) -> dict[str, list[str]]:
    """Gold and predicted labels present, for the gallery's selectors."""
    frame = _judged(con, "SELECT DISTINCT gold_label, label FROM judged", filters, scope)
    return {"gold": sorted(frame["gold_label"].dropna().unique().tolist()),
            "predicted": sorted(frame["label"].dropna().unique().tolist())}


@query
def gallery_page(con, filters: Filters, spec: GalleryQuery) -> GalleryPage:
    """One page of items in `spec.sort` order (hardest first: most cells failed; or most confidently wrong
    first: the highest confidence a failing answer stated), with the total number matching."""
    if spec.sort not in GALLERY_SORTS:
        raise ValueError(f"unknown gallery order {spec.sort!r}; use one of {', '.join(GALLERY_SORTS)}")
    page_size = max(1, int(spec.page_size))
    low, high = spec.confidence if spec.confidence else (None, None)
    params = dict(gold=spec.gold or None, predicted=spec.predicted or None, types=list(spec.error_types) or None,
                  conf_low=low, conf_high=high, search=spec.search.strip() or None,
                  only=None if spec.items is None else list(spec.items) or [""],
                  limit=page_size, offset=(max(1, int(spec.page)) - 1) * page_size)
    items = _judged(con, f""",
        typed AS (SELECT *, {_OUTCOME} AS kind FROM judged),
        per_item AS (
            SELECT item_id, any_value(gold_label) AS gold_label, count(*) AS n_runs,
                   count(*) FILTER (WHERE kind <> 'correct') AS n_failed,
                   list(DISTINCT model ORDER BY model) FILTER (WHERE kind <> 'correct') AS failed_by,
                   max(confidence) FILTER (WHERE kind <> 'correct') AS wrong_confidence,
                   bool_or(($predicted IS NULL OR label = $predicted)
                           AND ($types IS NULL OR list_contains($types, kind))
                           AND ($conf_low IS NULL OR confidence BETWEEN $conf_low AND $conf_high)) AS matches
            FROM typed GROUP BY item_id)
        SELECT h.item_id, h.gold_label, h.n_runs, h.n_failed, h.failed_by, h.wrong_confidence, i.image_sha256,
               i.image_path,
               count(*) OVER () AS total
        FROM per_item h JOIN items i ON i.dataset = $dataset AND i.item_id = h.item_id
        WHERE h.matches AND ($gold IS NULL OR h.gold_label = $gold)
          AND ($search IS NULL OR contains(lower(h.item_id), lower($search)))
          AND ($only IS NULL OR list_contains($only, h.item_id))
        ORDER BY {_GALLERY_ORDER[spec.sort]}, h.item_id
        LIMIT $limit OFFSET $offset
    """, filters, spec.scope, **params)
    total = int(items["total"].iloc[0]) if len(items) else 0
    root = _frame(con, "SELECT root FROM datasets WHERE dataset = $dataset", {"dataset": spec.dataset})
    return GalleryPage(total, items.drop(columns=["total"]), root["root"].iloc[0] if len(root) else None)


#: How the continuous gallery orders items (`ContinuousGalleryQuery.sort`).
CONTINUOUS_SORTS = {"error": "absolute error", "disagreement": "disagreement between models",
                    "hardness": "hardness (cells off by more than the tolerance)",
                    "confidence": "stated confidence of the worst answer"}
#: Width of each continuous dimension's normalised scale (valence [-1, 1]; arousal and intensity [0, 1]).
NORMALISED_RANGE = {"valence": 2.0}


@dataclass(frozen=True)
class ContinuousGalleryQuery:
    """The gallery of a continuous dimension (valence, arousal, intensity): one scope, ordered by `sort`
    (a key of CONTINUOUS_SORTS), optionally narrowed to one `model`'s answers; `search` on the item id. An answer
    fails the item (hardness) when unanswered or off by more than `tolerance` of the normalised scale's width."""

    scope: Scope
    sort: str = "error"
    tolerance: float = 0.1
    model: str | None = None
    search: str = ""
    items: tuple[str, ...] | None = None
    page: int = 1
    page_size: int = 24


@query
def continuous_gallery_page(con, filters: Filters, spec: ContinuousGalleryQuery) -> GalleryPage:
    """One page of items of a continuous scope with, per item: gold (normalised and on the dataset's scale),
    the largest absolute error of the chosen runs (normalised, `worst_error`, and on the dataset's scale,
    `worst_error_scale`, from the engine's `outcomes.error_scale`), the disagreement between them (standard
    deviation of their answers, normalised) and every run's answer (`answers`: model, strategy, value, error,
    error_scale, answered)."""
    if spec.sort not in CONTINUOUS_SORTS:
        raise ValueError(f"unknown gallery order {spec.sort!r}; use one of {', '.join(CONTINUOUS_SORTS)}")
    order = {"error": "worst_error DESC NULLS LAST, disagreement DESC NULLS LAST",
             "disagreement": "disagreement DESC NULLS LAST, worst_error DESC NULLS LAST",
             "hardness": "n_failed DESC, worst_error DESC NULLS LAST",
             "confidence": "worst_confidence DESC NULLS LAST, worst_error DESC NULLS LAST"}[spec.sort]
    page_size = max(1, int(spec.page_size))
    items = _frame(con, f"""
        WITH {_selected(filters)},
        scored AS (
            SELECT s.model, s.strategy, o.run_id, o.item_id, o.value, o.gold_value, o.error, o.error_scale,
                   o.confidence, o.answered AND o.value IS NOT NULL AS answered
            FROM outcomes o JOIN sel s ON o.run_id = s.run_id AND o.dimension = s.dimension
            WHERE $model IS NULL OR s.model = $model),
        per_item AS (
            SELECT item_id, any_value(gold_value) AS gold_value, count(*) AS n_runs,
                   count(*) FILTER (WHERE answered) AS n_answered, max(abs(error)) AS worst_error,
                   max(abs(error_scale)) AS worst_error_scale, stddev_samp(value) AS disagreement,
                   count(*) FILTER (WHERE NOT answered OR abs(error) > $tolerance) AS n_failed,
                   arg_max(confidence, abs(error)) AS worst_confidence,
                   list({{'model': model, 'strategy': strategy, 'value': value, 'error': error,
                          'confidence': confidence,
                          'error_scale': error_scale, 'answered': answered, 'run_id': run_id}}
                        ORDER BY model, strategy) AS answers
            FROM scored GROUP BY item_id)
        SELECT h.*, g.value AS gold_on_scale, g.scale_low, g.scale_high, i.image_sha256, i.image_path,
               count(*) OVER () AS total
        FROM per_item h JOIN items i ON i.dataset = $dataset AND i.item_id = h.item_id
        LEFT JOIN gold g ON g.dataset = $dataset AND g.item_id = h.item_id AND g.dimension = $dimension
        WHERE ($search IS NULL OR contains(lower(h.item_id), lower($search)))
          AND ($only IS NULL OR list_contains($only, h.item_id))
        ORDER BY {order}, h.item_id
        LIMIT $limit OFFSET $offset
    """, {**filters.params(), **spec.scope.params(), "model": spec.model or None,
          "search": spec.search.strip() or None, "limit": page_size,
          "tolerance": spec.tolerance * NORMALISED_RANGE.get(spec.scope.dimension, 1.0),
          "only": None if spec.items is None else list(spec.items) or [""],
          "offset": (max(1, int(spec.page)) - 1) * page_size})
    total = int(items["total"].iloc[0]) if len(items) else 0
    root = _frame(con, "SELECT root FROM datasets WHERE dataset = $dataset", {"dataset": spec.scope.dataset})
    return GalleryPage(total, items.drop(columns=["total"]), root["root"].iloc[0] if len(root) else None)


@dataclass
class ItemDetail:
    item: dict[str, Any]
    gold: pd.DataFrame
    answers: pd.DataFrame
    traces: pd.DataFrame
    responses: pd.DataFrame = field(default_factory=pd.DataFrame)


@query
def item_detail(con, filters: Filters, dataset: str, item_id: str) -> ItemDetail | None:
    """Everything stored about one item: the item and its image path, gold annotations, and the parsed
    answers, reasoning traces and raw responses of the runs that stand for the dataset's benchmark cells
    (or are pinned). None when the item does not exist."""
    params = {**filters.params(), "dataset": dataset, "item_id": item_id}
    item = _frame(con, """SELECT i.*, d.root, d.taxonomy FROM items i JOIN datasets d USING (dataset)
                          WHERE i.dataset = $dataset AND i.item_id = $item_id""", params)
    if item.empty:
        return None
    gold = _frame(con, """SELECT dimension, label, labels, value, value_norm, sd, n_raters, scale_low, scale_high,
                                 distribution, taxonomy FROM gold WHERE dataset = $dataset AND item_id = $item_id
                          ORDER BY dimension""", params)
    sel = f"""sel AS (SELECT DISTINCT e.run_id, e.model, e.strategy FROM evaluations e
                      WHERE e.dataset = $dataset AND e.purpose = 'benchmark' AND {filters.where('e')}
                        AND (e.current OR list_contains($pinned, e.run_id)))"""
    answers = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM predictions WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, p.dimension, p.label, p.value, p.status, p.confidence, p.raw_label,
               p.ranking, p.span, p.method, p.agreement, p.run_id, p.response_id
        FROM mine p JOIN sel s USING (run_id) ORDER BY s.model, s.strategy, p.dimension""", params)
    traces = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM traces WHERE item_id = $item_id)
        SELECT s.model, s.strategy, t.steps, t.scene, t.thinking, t.run_id
        FROM mine t JOIN sel s USING (run_id) ORDER BY s.model, s.strategy""", params)
    responses = _frame(con, f"""WITH {sel},
        mine AS MATERIALIZED (SELECT * FROM responses WHERE dataset = $dataset AND item_id = $item_id)
        SELECT s.model, s.strategy, x.stage, x.sample_index, x.status, x.error_class, x.error_message, x.text,
               x.raw_request, x.raw_response, x.response_id, x.model_id_resolved, x.input_tokens, x.output_tokens,
               x.cost_usd, x.latency_ms, x.attempts, x.run_id
        FROM mine x JOIN sel s USING (run_id) ORDER BY s.model, s.strategy, x.stage, x.sample_index""", params)
    record = item.iloc[0].to_dict()
    record["meta"] = _json(record.get("meta"))
    return ItemDetail(record, gold, answers, traces, responses)


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
