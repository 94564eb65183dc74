"""`affectlens run CONFIG.yaml` and `affectlens demo`.

Exit status: 0 when every run completed, 3 when a run stopped at the cost budget (rerun to continue),
1 when a run failed (its message says why), 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DB_HELP = "results store (default: $AFFECTLENS_DB or results.duckdb)"
REPO = Path(__file__).resolve().parents[2]
# Metrics shown in the score table after a run (the dashboard and `affectlens scores` show all).
SHOWN = {"accuracy": "acc", "macro_f1": "macro-F1", "coverage": "coverage", "pearson": "r", "ccc": "CCC",
         "mae": "MAE"}


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run an experiment config (resumable: rerun the same command to continue)",
                         description="Run every dataset x model x strategy of an experiment config into the "
                                     "results store. Rerunning the same command resumes: answered items are "
                                     "skipped and identical requests are answered from the store.")
    run.add_argument("config", help="experiment YAML (see data/configs/)")
    run.add_argument("--db", help=DB_HELP)
    run.add_argument("--limit", type=int, help="evaluate at most N items per dataset")
    run.add_argument("--max-cost", type=float, metavar="USD",
                     help="stop starting new calls once this invocation has spent USD (overrides max_cost:)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run the offline demo experiment (no keys, no network)",
                          description="Draw the demo sample (schematic faces and colour scenes, labelled by "
                                      "construction) or use --dataset, run the offline baselines and a tiny "
                                      "untrained local model on it, and print the scores.")
    demo.add_argument("--db", help=DB_HELP)
    demo.add_argument("--dataset", metavar="PATH",
                      help="a dataset folder instead of the generated sample: a built-in layout named after its loader "
                           "(e.g. ../shared/datasets/emotion6) or one sub-folder per class")
    demo.add_argument("--limit", type=int, help="evaluate at most N items (default: all of the sample; 60 of a dataset)")
    demo.add_argument("--no-local-model", action="store_true", help="skip the tiny transformers model")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)


def cmd_run(args: argparse.Namespace) -> int:
    from engine.runner import load_config, run_experiment

    config = load_config(args.config)
    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be 1 or more")
    result = run_experiment(config, args.db, limit=args.limit, max_cost=args.max_cost, quiet=args.quiet,
                            freeze_heap=True)
    return report(result, args.db)


def cmd_demo(args: argparse.Namespace) -> int:
    from engine.runner import run_experiment
    from engine.runner.demo import demo_config

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # The tiny model is far faster on one thread: several OpenMP threads spin against each other
    # (and against everything else on a small machine) for matrices this small.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from engine.runner.demo import LOCAL_EXTRA_NOTE, local_model_available

    local_model = not args.no_local_model
    if local_model and not local_model_available():
        print(LOCAL_EXTRA_NOTE, file=sys.stderr)
        local_model = False
    config = demo_config(dataset=args.dataset, limit=args.limit, local_model=local_model)
    sample = config.datasets[0].path
    print(f"demo: {config.datasets[0].label} ({sample}), models: {', '.join(m.name for m in config.models)}",
          file=sys.stderr)
    result = run_experiment(config, args.db, quiet=args.quiet, freeze_heap=True)
    return report(result, args.db, demo=True)


def report(result, db: str | None, demo: bool = False) -> int:
    """Print the runs, the score table and where to look next; return the exit status."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    if result.merged_leftovers:
        console.print(f"merged {result.merged_leftovers} journal records an interrupted earlier run left behind",
                      highlight=False)
    for dataset, problems in result.problems.items():
        shown = "\n  ".join(problems[:5]) + (f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else "")
        console.print(f"[yellow]dataset {escape(dataset)}: {len(problems)} row(s) skipped while loading:[/yellow]\n  "
                      f"{escape(shown)}",
                      highlight=False)
    runs = Table(title="Runs", show_lines=False)
    for column in ("dataset", "model", "strategy", "status", "items", "answered", "errors", "calls", "cached",
                   "spend $"):
        runs.add_column(column, justify="right" if column in ("items", "answered", "errors", "calls", "cached",
                                                              "spend $") else "left")
    for run in result.runs:
        runs.add_row(escape(run.dataset), escape(run.model), escape(run.strategy), run.status, str(run.n_items),
                     str(run.n_answered),
                     str(run.errors), str(run.calls), str(run.cached), f"{run.cost_usd:.4f}")
    console.print(runs)
    for run in result.runs:
        if run.message:
            console.print(f"[bold]{escape(run.model)} × {escape(run.strategy)} on {escape(run.dataset)}[/bold]: "
                          f"{escape(run.message)}", highlight=False)
    scores = _score_table(result, wide=console.width >= 130)
    if scores.row_count or not result.scores_refreshed:
        console.print(scores, highlight=False)
    db_path = str(result.db_path)
    env = "" if db is None and "AFFECTLENS_DB" not in os.environ else f"AFFECTLENS_DB={db_path} "
    console.print(f"\nResults: {db_path}\nScores:  affectlens scores{' --db ' + db_path if env else ''}\n"
                  f"Explore: {env}streamlit run {REPO / 'dashboard' / 'app.py'}", highlight=False)
    if demo and any("untrained" in run.model for run in result.runs):
        console.print("Note: tiny-llava-untrained has random weights; its answers are noise, and it is there "
                      "only to show the local-model path working.", highlight=False)
    statuses = {run.status for run in result.runs}
    if "failed" in statuses:
        return 1
    if "stopped" in statuses:
        return 3
    return 0


def _score_table(result, wide: bool):
    """Accuracy, macro-F1 and coverage (categorical), r, CCC and MAE (continuous) per run and dimension;
    95% bootstrap intervals in brackets when the terminal is wide enough."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Scores" + (" (95% bootstrap CI in brackets)" if wide else ""))
    if not result.scores_refreshed:
        table.add_column("scores were not computed; run `affectlens scores`")
        return table
    import pandas as pd

    from engine.store import connect
    keys = {(r.dataset, r.model, r.strategy) for r in result.runs}
    with connect(result.db_path, read_only=True) as con:
        frame = con.execute("SELECT dataset, model, strategy, dimension, metric, value, ci_low, ci_high, n "
                            "FROM scores WHERE metric IN (SELECT unnest(?))", [list(SHOWN)]).fetch_df()
    mine = [tuple(k) in keys for k in frame[["dataset", "model", "strategy"]].itertuples(index=False)]
    frame = frame.loc[pd.Series(mine, index=frame.index, dtype=bool) & frame["value"].notna()]
    metrics = [m for m in SHOWN if (frame["metric"] == m).any()]
    for column in ("dataset", "model", "strategy", "dimension"):
        table.add_column(column)
    for metric in metrics:
        table.add_column(SHOWN[metric], justify="right")
    order = {run.model: i for i, run in enumerate(result.runs)}
    for (dataset, model, strategy, dimension), group in sorted(
            frame.groupby(["dataset", "model", "strategy", "dimension"]),
            key=lambda kv: (kv[0][0], kv[0][3], order.get(kv[0][1], 0), kv[0][2])):
        cells = []
        for metric in metrics:
            row = group[group["metric"] == metric]
            if row.empty:
                cells.append("")
                continue
            value, low, high = row[["value", "ci_low", "ci_high"]].iloc[0]
            text = f"{value:.3f}"
            if wide and not pd.isna(low) and not pd.isna(high) and metric != "coverage":
                text += f" [{low:.2f}, {high:.2f}]"
            cells.append(text)
        table.add_row(escape(dataset), escape(model), escape(strategy), dimension, *cells)
    return table
