"""`affectlens run CONFIG.yaml` and `affectlens demo`.

Exit status: 0 when every run completed, 3 when a run stopped at the cost budget (rerun to continue),
4 when batch-mode runs were submitted and not waited for (`--no-wait`; rerun to collect), 1 when a run
failed (its message says why), 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.secrets import scrub_text

PENDING_STATUS = 4  # batches submitted, results not collected yet (--no-wait)
DB_HELP = "results store (default: $AFFECTLENS_DB or results.duckdb)"
REPO = Path(__file__).resolve().parents[2]
# Metrics shown in the score table after a run (the dashboard and `affectlens scores` show all).
SHOWN = {"accuracy_strict": "strict acc", "accuracy": "acc (answered)", "macro_f1": "macro-F1", "coverage": "coverage",
         "pearson": "r", "ccc": "CCC", "mae_scale": "MAE (own scale)"}


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="run an experiment config (resumable: rerun the same command to continue)",
                         description=cmd_run.__doc__)
    run.add_argument("config", help="experiment YAML (see data/configs/); with --suite, a YAML of models only")
    run.add_argument("--suite", metavar="NAME", help="run a packaged benchmark suite (gpt4v-emotion-image) on the "
                                                     "models in CONFIG, over the datasets you have")
    run.add_argument("--data", metavar="DIR", help="--suite: folder holding one sub-folder per dataset "
                                                   "(twitter1, twitter2, abstract, artphoto, ckplus, ferplus, sfew, "
                                                   "rafdb)")
    run.add_argument("--gpt4v", metavar="DIR", help="--suite: the published GPT-4V predictions "
                                                    "(zeroQiaoba/gpt4v-emotion results layout), imported alongside")
    run.add_argument("--db", help=DB_HELP)
    run.add_argument("--limit", type=int, help="evaluate at most N items per dataset")
    run.add_argument("--max-cost", type=float, metavar="USD",
                     help="stop starting new calls once this invocation has spent USD (overrides max_cost:)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--shard", metavar="I/N",
                     help="evaluate only shard I of N of every run's items (deterministic by item id; run the other "
                          "shards elsewhere and combine the stores with `affectlens merge`)")
    run.add_argument("--no-wait", action="store_true",
                     help="batch-mode models: submit the batches and exit with status 4 without waiting; rerun the "
                          "same command to collect (nothing is submitted twice)")
    run.set_defaults(func=cmd_run)
    _list_registries_in_help(run)

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


def _list_registries_in_help(parser: argparse.ArgumentParser) -> None:
    """`run --help` ends with what a config may name, read from the registries when the help is printed
    (not when every command's parser is built: loading them takes a moment)."""
    plain = parser.format_help

    def with_registries() -> str:
        from engine.datasets import loader_names
        from engine.models import adapter_names
        from engine.perturb import probe_names
        from engine.prompts import strategy_names

        names = {"adapters": adapter_names(), "strategies": strategy_names(), "dataset formats": loader_names(),
                 "probes (as strategy BASE+PROBE)": probe_names()}
        lines = [f"{what}: {', '.join(found)}" for what, found in names.items()]
        return plain() + "\n" + "\n".join(lines) + "\n(`affectlens models show NAME`: an adapter's options)\n"

    parser.format_help = with_registries


def cmd_run(args: argparse.Namespace) -> int:
    """Run every dataset x model x strategy of an experiment config into the results store. Rerunning the
    same command resumes: answered items are skipped and identical requests are answered from the store."""
    from engine.runner import load_config, run_experiment

    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be 1 or more")
    if args.suite:
        return cmd_suite(args)
    if args.data or args.gpt4v:
        raise ValueError("--data and --gpt4v go with --suite NAME")
    from engine.runner.shard import parse_shard
    shard = parse_shard(args.shard)
    config = load_config(args.config)
    result = run_experiment(config, args.db, limit=args.limit, max_cost=args.max_cost, quiet=args.quiet,
                            shard=shard, wait=not args.no_wait, freeze_heap=True)
    return report(result, args.db)


def cmd_suite(args: argparse.Namespace) -> int:
    """`run --suite`: every task of the suite whose dataset is present, then the table in the paper's shape."""
    from engine.suites import format_table, run_suite

    def log(text: str) -> None:
        print(text, file=sys.stderr)

    result = run_suite(args.suite, args.config, db_path=args.db, data_dir=args.data, gpt4v_dir=args.gpt4v,
                       limit=args.limit, max_cost=args.max_cost, quiet=args.quiet, log=log)
    if not result.ran and not result.imported:
        print("nothing was run: none of the suite's datasets was found (give --data DIR or dataset_paths:)",
              file=sys.stderr)
        return 2
    print(f"{result.suite.paper}\nprotocol: {result.suite.protocol}\n")
    sys.stdout.write(format_table(result))
    print(f"\nResults: {result.db_path}   (affectlens scores --db {result.db_path} for every metric)")
    return 1 if result.failed else 3 if result.stopped else 0


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
                          f"{escape(scrub_text(run.message))}", highlight=False)
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
    if "pending" in statuses:
        return PENDING_STATUS
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
    from engine.store.queries import current_scores

    with connect(result.db_path, read_only=True) as con:  # this invocation's runs, whatever their purpose
        frame = current_scores(con, run_id=[r.run_id for r in result.runs] or [""], metric=list(SHOWN), purpose=None)
    frame = frame.loc[frame["value"].notna()]
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
