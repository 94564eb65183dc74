"""`affectlens import-predictions`, `affectlens scores` and `affectlens export`."""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys

import pandas as pd

from engine.metrics.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from engine.metrics.export import CATEGORICAL_COLUMNS, CONTINUOUS_COLUMNS, DISTRIBUTION_COLUMNS, write_export
from engine.metrics.frames import CATEGORICAL, CONTINUOUS

DB_HELP = "results store (default: $AFFECTLENS_DB or results.duckdb)"


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser("import-predictions", help="store predictions made elsewhere (CSV) as a run",
                         description=cmd_import.__doc__)
    imp.add_argument("file", help="CSV (or TSV/JSONL) with an id, a gold and a prediction column")
    imp.add_argument("--dataset", required=True, help="dataset name (created from the file when new)")
    imp.add_argument("--model", required=True, help="model name to store the predictions under")
    imp.add_argument("--dimension", choices=[*CATEGORICAL[:2], *CONTINUOUS],
                     help="what the predictions judge (default: inferred from the gold labels)")
    imp.add_argument("--scale", help="LOW-HIGH scale of the file's numbers for valence/arousal/intensity, e.g. 1-9")
    imp.add_argument("--taxonomy", help="label set of the gold (default: inferred)")
    imp.add_argument("--id-col", help="item id column (default: name, item_id, id, image, ...)")
    imp.add_argument("--gold-col", help="gold column (default: gt, gold, label, ...; 'none' for no gold)")
    imp.add_argument("--pred-col", help="prediction column (default: the model's name, gpt4v, prediction, ...)")
    imp.add_argument("--confidence-col", help="optional column with a stated confidence in [0, 1] or percent")
    imp.add_argument("--test-list", help="file naming every item of the evaluated set (CSV with the id column, "
                                         "or one id per line); may carry the gold")
    imp.add_argument("--strategy", default="imported", help="strategy name for the run (default: imported)")
    imp.add_argument("--db", help=DB_HELP)
    imp.add_argument("--no-score", action="store_true", help="do not refresh the scores table afterwards")
    imp.set_defaults(func=cmd_import)

    scores = sub.add_parser("scores", help="every metric for every cell (dataset, evaluation set, model, strategy, "
                                           "dimension)",
                            description="Every metric of the run that stands for each benchmark cell (the newest "
                                        "complete run of that dataset, evaluation set, model, strategy and "
                                        "dimension); --all-runs adds the older runs, --purpose analysis|probe|explain "
                                        "shows those runs instead.")
    _filters(scores)
    scores.add_argument("--json", action="store_true", help="print a JSON array of score records")
    scores.add_argument("--no-store", action="store_true", help="compute only; do not refresh the scores table")
    scores.set_defaults(func=cmd_scores)

    export = sub.add_parser("export", help="export scores as CSV, Parquet or a LaTeX table")
    _filters(export)
    export.add_argument("--format", choices=["csv", "parquet", "latex"], default="csv")
    export.add_argument("--out", help="output file (default: standard output; required for parquet)")
    export.add_argument("--digits", type=int, default=3, help="LaTeX decimals (default 3)")
    export.add_argument("--percent", action="store_true", help="LaTeX values in percent")
    export.add_argument("--caption", help="LaTeX caption")
    export.add_argument("--label", help="LaTeX label")
    export.set_defaults(func=cmd_export)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help=DB_HELP)
    parser.add_argument("--dataset", action="append", help="only this dataset (repeatable)")
    parser.add_argument("--model", action="append", help="only this model (repeatable)")
    parser.add_argument("--strategy", action="append", help="only this strategy (repeatable)")
    parser.add_argument("--dimension", action="append", help="only this dimension (repeatable)")
    parser.add_argument("--metric", action="extend", nargs="+", help="only these metrics")
    parser.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES,
                        help=f"bootstrap resamples for the 95%% CIs (default {DEFAULT_RESAMPLES}; 0: none)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})")
    parser.add_argument("--run", action="append", dest="run_id", help="only this run id (repeatable; any purpose, "
                                                                       "history included)")
    parser.add_argument("--all-runs", action="store_true", help="every run of each cell, not only the one that "
                                                                "stands for it (column `current`)")
    parser.add_argument("--purpose", default="benchmark", choices=["benchmark", "analysis", "probe", "explain"],
                        help="which runs: benchmark cells (default), sidebar analyses, probes or explanations")


def cmd_import(args: argparse.Namespace) -> int:
    """Store predictions made elsewhere. The prediction cell holds one label or a comma-separated ranking,
    best first; --test-list names every evaluated item so unanswered items count in coverage."""
    from engine.importers import import_predictions
    from engine.metrics.scoring import refresh_scores

    result = import_predictions(args.file, dataset=args.dataset, model=args.model, dimension=args.dimension,
                                scale=args.scale, taxonomy=args.taxonomy, id_col=args.id_col,
                                gold_col=args.gold_col, pred_col=args.pred_col,
                                confidence_col=args.confidence_col, test_list=args.test_list,
                                strategy=args.strategy, db_path=args.db)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(result.summary())
    if not args.no_score:
        refresh_scores(args.db, dataset=result.dataset, model=result.model)
    return 0


def _compute(args: argparse.Namespace, store: bool) -> pd.DataFrame:
    """The scores the command shows: refreshed into the store and read back through the one store view
    (`engine.store.queries.current_scores`), or computed without writing (`--no-store`)."""
    from engine.metrics.scoring import refresh_scores, score_store
    from engine.store import connect
    from engine.store.queries import current_scores

    filters = {"dataset": args.dataset, "model": args.model, "strategy": args.strategy,
               "dimension": args.dimension}
    purpose = None if args.run_id else args.purpose
    if store:
        refresh_scores(args.db, n_resamples=args.resamples, seed=args.seed, run_id=args.run_id, **filters)
        with connect(args.db, read_only=True) as con:
            frame = current_scores(con, purpose=purpose, all_runs=args.all_runs, run_id=args.run_id, **filters)
    else:
        frame = score_store(args.db, n_resamples=args.resamples, seed=args.seed, run_id=args.run_id,
                            purpose=purpose, current=not args.all_runs, **filters)
        frame = _with_eval_set_names(args.db, frame)
    if args.metric:
        unknown = sorted(set(args.metric) - set(frame["metric"]))
        if unknown and len(frame):
            print(f"warning: no scores named {', '.join(unknown)}; known here: "
                  f"{', '.join(sorted(set(frame['metric'])))}", file=sys.stderr)
        frame = frame[frame["metric"].isin(args.metric)]
    return frame.reset_index(drop=True)


def _with_eval_set_names(db, frame: pd.DataFrame) -> pd.DataFrame:
    from engine.store import connect
    from engine.store.evalsets import eval_set_names
    with connect(db, read_only=True) as con:
        names = eval_set_names(con)
    frame = frame.copy()
    frame["eval_set_name"] = [names.get(e, (None, None))[0] for e in frame["eval_set"]]
    frame["eval_set_size"] = [names.get(e, (None, None))[1] for e in frame["eval_set"]]
    return frame


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "isoformat"):  # timestamps
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def cmd_scores(args: argparse.Namespace) -> int:
    frame = _compute(args, store=not args.no_store)
    if args.json:
        records = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        print(json.dumps(records, indent=1, ensure_ascii=False))
        return 0
    if frame.empty:
        print("no scores: import predictions (`affectlens import-predictions`) or run an experiment first")
        return 0
    print_table(frame, args.metric)
    return 0


def print_table(frame: pd.DataFrame, metrics: list[str] | None = None) -> None:
    """One table per kind of dimension: a row per group, a column per metric, value [95% CI]."""
    from rich.console import Console
    from rich.table import Table

    # piped output (a file, a README) keeps whole rows; a terminal wraps cells to fit
    width = shutil.get_terminal_size((200, 24)).columns if sys.stdout.isatty() else 1000
    console = Console(width=width, highlight=False)
    kinds = [("categorical", CATEGORICAL, CATEGORICAL_COLUMNS), ("continuous", CONTINUOUS, CONTINUOUS_COLUMNS),
             ("distribution", ("distribution",), DISTRIBUTION_COLUMNS)]
    for title, dims, default in kinds:
        part = frame[frame["dimension"].isin(dims)]
        if part.empty:
            continue
        columns = [m for m in (metrics or default) if m in set(part["metric"])]
        table = Table()
        for name in ("dataset", "evaluation set", "model", "strategy", "dimension", "n/total", "run"):
            table.add_column(name)
        for metric in columns:
            table.add_column(metric, justify="right")
        part = part.assign(_set=_set_labels(part))
        for key, group in part.groupby(["dataset", "_set", "model", "strategy", "dimension", "run_id"], sort=True):
            by_metric = group.set_index("metric")
            anchor = by_metric.loc[columns[0]] if columns and columns[0] in by_metric.index else group.iloc[0]
            dimension = key[4] + (" (derived)" if isinstance(group["derived"].iloc[0], str) else "")
            cells = [key[0], key[1], key[2], key[3], dimension, f"{int(anchor['n'])}/{int(anchor['n_total'])}",
                     str(key[5])[:12] + ("" if _is_current(group) else " (older)")]
            for metric in columns:
                if metric not in by_metric.index or pd.isna(by_metric.loc[metric, "value"]):
                    cells.append("–")
                    continue
                record = by_metric.loc[metric]
                text = f"{_shown(record['value'], 4)}"
                if pd.notna(record["ci_low"]):
                    text += f" [{_shown(record['ci_low'], 3)}, {_shown(record['ci_high'], 3)}]"
                cells.append(text)
            table.add_row(*cells)
        console.print(f"{title} dimensions: value [95% CI]")
        console.print(table)


def _set_labels(frame: pd.DataFrame) -> list[str]:
    names = frame["eval_set_name"] if "eval_set_name" in frame else frame["eval_set"]
    sizes = frame["eval_set_size"] if "eval_set_size" in frame else frame["n_total"]
    return [f"{name} (n={int(size)})" if isinstance(name, str) and pd.notna(size) else str(eid)
            for name, size, eid in zip(names, sizes, frame["eval_set"])]


def _is_current(group: pd.DataFrame) -> bool:
    return "current" not in group or bool(group["current"].fillna(True).iloc[0])


def _shown(value: float, digits: int) -> str:
    return f"{round(float(value), digits) + 0.0:.{digits}f}"  # + 0.0 turns -0.0 into 0.0


def cmd_export(args: argparse.Namespace) -> int:
    args.no_store = True
    metrics = args.metric
    if args.format == "latex":  # the table needs every row's coverage and n to apply the ranking rule
        args.metric = None
    frame = _compute(args, store=False)
    text = write_export(frame, args.format, args.out, **({"digits": args.digits, "percent": args.percent,
                                                          "caption": args.caption, "label": args.label,
                                                          "metrics": metrics}
                                                         if args.format == "latex" else {}))
    if text is not None:
        sys.stdout.write(text)
    else:
        print(f"wrote {len(frame)} scores to {args.out}", file=sys.stderr)
    return 0
