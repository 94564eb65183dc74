"""Re-read the stored raw answers of a run with the current parser, without calling any model.

The run's dimensions, taxonomy and scales come from its `runs` row (`dimensions`, `taxonomy`, and the
`config` JSON's "scales" and optional "polarity_taxonomy"). Each item's final-stage responses
("answer", or "judge" for describe-then-judge runs) are parsed; several samples are aggregated by
vote/mean (`engine.parsing.aggregate`). The item's `predictions` and `traces` rows are replaced,
stamped with the new `PARSER_VERSION`. Items whose every response is an error keep their rows.
Stored judge verdicts (stage "parse_judge") are reused when their prompt matches; a `Judge` may be
given to read answers the rules still cannot.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.parsing.aggregate import aggregate
from engine.models.base import ErrorClass
from engine.runner.judge import JUDGE_STAGE, Judge, apply_stored
from engine.parsing.bounded import parse_bounded
from engine.parsing.parser import KNOWN_DIMENSIONS, PARSER_VERSION
from engine.parsing.rows import predictions_from_parse, trace_row
from engine.parsing.types import DEFAULT_SCALES, ParseResult, ParseSpec
from engine.store.db import connect, transaction
from engine.store.runs import (all_run_ids, clear_item_rows, parser_versions, run_record, run_responses,
                               set_parser_version)
from engine.store.writes import write_predictions, write_responses, write_traces

FINAL_STAGES = ("answer", "judge")


@dataclass
class ReparseSummary:
    run_id: str
    parser_version: str
    previous_versions: list[str]
    items: int = 0
    responses: int = 0
    skipped_items: int = 0  # every response an error: rows left as they were
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)  # dimension -> status -> count
    judged: int = 0  # readings taken from a judge (new calls or stored verdicts)
    judge_calls: int = 0  # judge requests sent (each may have taken several attempts)
    judge_cost: float = 0.0  # USD the judge's calls cost (also in responses.cost_usd)
    judge_unsent: int = 0  # judge requests not sent because the --max-cost budget was spent

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def spec_for_run(run: dict[str, Any]) -> ParseSpec:
    """The ParseSpec a stored run was parsed with (dimensions, taxonomy, scales from its config)."""
    config = run.get("config") or {}
    if isinstance(config, str):
        config = json.loads(config or "{}")
    stored = run.get("dimensions")
    stored = list(stored) if stored is not None else []  # a list, or a numpy array from a DataFrame row
    dimensions = tuple(stored or config.get("dimensions") or ("polarity",))
    unknown = [d for d in dimensions if d not in KNOWN_DIMENSIONS]
    if unknown:
        raise ValueError(f"run {run.get('run_id')!r} lists unknown dimensions {unknown}; "
                         f"known: {', '.join(KNOWN_DIMENSIONS)}")
    scales = dict(DEFAULT_SCALES)
    for dimension, scale in (config.get("scales") or {}).items():
        scales[dimension] = (float(scale[0]), float(scale[1]))
    return ParseSpec(dimensions=dimensions, taxonomy=run.get("taxonomy") or config.get("taxonomy") or "ekman7",
                     polarity_taxonomy=config.get("polarity_taxonomy") or "polarity2", scales=scales)


def run_ids(db_path: str | Path | None) -> list[str]:
    with connect(db_path, read_only=True) as con:
        return all_run_ids(con)


def reparse_run(db_path: str | Path | None, run_id: str, *, judge: Judge | None = None) -> ReparseSummary:
    """Re-parse one run's stored responses and replace its predictions and traces."""
    with connect(db_path, read_only=True) as con:
        run = run_record(con, run_id)
        if run is None:
            raise KeyError(f"no run {run_id!r} in {db_path}; list the stored runs with `affectlens runs`")
        responses = run_responses(con, run_id, ["answer", "judge", JUDGE_STAGE])
        previous = parser_versions(con, run_id)
    spec = spec_for_run(run)
    summary = ReparseSummary(run_id, PARSER_VERSION, previous)
    stored = _stored_verdicts(responses[responses["stage"] == JUDGE_STAGE])
    answers = responses[responses["stage"] != JUDGE_STAGE]
    parsed: list[tuple[str, str, list[tuple[str, str | None, ParseResult]]]] = []  # item, dataset, samples
    for item_id, group in answers.groupby("item_id", sort=True):
        stage = "answer" if (group["stage"] == "answer").any() else "judge"
        samples = group[(group["stage"] == stage) & (group["status"] != "error")]
        if samples.empty:
            summary.skipped_items += 1
            continue
        results = []
        for sample in samples.itertuples():
            text = sample.text if isinstance(sample.text, str) else None
            result = parse_bounded(text, spec)
            if sample.status == "refused":
                for reading in result.dimensions.values():
                    if reading.status == "failed":
                        reading.status = "refused"
            if judge is None:
                summary.judged += apply_stored(text or "", result, spec, stored.get(str(item_id), {}))
            results.append((sample.response_id, text, result))
        parsed.append((str(item_id), str(samples["dataset"].iloc[0]), results))
    judge_rows = _judge_all(judge, parsed, spec, stored, run_id, summary) if judge is not None else []
    prediction_rows: list[dict] = []
    traces: list[dict] = []
    for item_id, dataset, results in parsed:
        summary.responses += len(results)
        response_id, _, result = results[0]
        agreement = None
        if len(results) > 1:
            result, agreement = aggregate([r for _, _, r in results], spec)
        prediction_rows += predictions_from_parse(run_id, dataset, item_id, result, response_id, spec,
                                                  agreement=agreement)
        traces.append(trace_row(run_id, item_id, result, response_id))
    summary.items = len(parsed)
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in prediction_rows:
        counts[row["dimension"]][row["status"]] += 1
    summary.statuses = {dim: dict(c) for dim, c in counts.items()}
    _write(db_path, run_id, [item for item, _, _ in parsed], prediction_rows, traces, judge_rows)
    return summary


def _judge_all(judge: Judge, parsed, spec: ParseSpec, stored, run_id: str, summary: ReparseSummary) -> list[dict]:
    """Ask the judge about every failed dimension of every sample, concurrently; returns responses rows."""
    jobs = [(item_id, dataset, text, result) for item_id, dataset, results in parsed
            for _, text, result in results if text]

    async def run_all():
        try:
            return await asyncio.gather(*(judge.fill(text, result, spec, stored.get(item_id, {}))
                                          for item_id, _, text, result in jobs))
        finally:
            await judge.aclose()

    rows = []
    for (item_id, dataset, _, _), verdicts in zip(jobs, asyncio.run(run_all())):
        sent = [v for v in verdicts if not v.reused and v.response is not None]
        unsent = [v for v in sent if v.response.error_class is ErrorClass.BUDGET]
        summary.judge_unsent += len(unsent)
        summary.judge_calls += len(sent) - len(unsent)
        summary.judge_cost += sum(v.cost or 0.0 for v in sent)
        summary.judged += sum(1 for v in verdicts if v.reading.status == "ok")
        rows += [row for v in verdicts if (row := judge.response_row(v, run_id, dataset, item_id))]
    return rows


def _stored_verdicts(rows: pd.DataFrame) -> dict[str, dict[str, str]]:
    """item_id -> {judge prompt: verdict text} from earlier "parse_judge" responses."""
    stored: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows.itertuples():
        if row.status != "ok" or not isinstance(row.text, str):
            continue
        try:
            request = json.loads(row.raw_request) if isinstance(row.raw_request, str) else row.raw_request
            prompt = request["messages"][0]["parts"][0]["text"]
        except (TypeError, KeyError, IndexError, ValueError):
            continue
        stored[str(row.item_id)][prompt] = row.text
    return stored


def _write(db_path, run_id: str, items: list[str], predictions: list[dict], traces: list[dict],
           judge_rows: list[dict]) -> None:
    if not items:
        return
    with connect(db_path) as con:
        with transaction(con):
            clear_item_rows(con, run_id, items)
            write_predictions(con, predictions)
            write_traces(con, traces)
            write_responses(con, judge_rows)
            set_parser_version(con, run_id, PARSER_VERSION)


def reparse(db_path: str | Path | None, runs: list[str] | None = None, *, judge: Judge | None = None,
            refresh: bool = True) -> list[ReparseSummary]:
    """Re-parse the named runs (every stored run when `runs` is None; an id may be a unique prefix, as
    `affectlens runs` prints it), then refresh their scores and per-item outcomes."""
    known = run_ids(db_path)
    targets = [resolve_run_id(run, known) for run in runs] if runs else known
    summaries = [reparse_run(db_path, run_id, judge=judge) for run_id in targets]
    if refresh and targets:
        from engine.metrics.scoring import refresh_scores
        refresh_scores(db_path, run_id=targets)
    return summaries


def resolve_run_id(run: str, known: list[str]) -> str:
    """`run` itself when stored, else the one stored id it starts; KeyError naming the fix otherwise."""
    if run in known:
        return run
    matches = [r for r in known if r.startswith(run)] if run else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KeyError(f"run id prefix {run!r} matches {len(matches)} runs ({', '.join(matches[:3])}, ...); "
                       "give more of the id")
    raise KeyError(f"no run {run!r}; list the stored runs with `affectlens runs`")
