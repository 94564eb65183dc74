"""`affectlens explain occlusion | attention | reasoning | probes | export`.

Exit status of `occlusion` and `probes` as for `run`: 0 complete, 3 stopped at the cost budget (rerun
with a higher --max-cost to continue; finished cells and items are not asked again), 1 a run failed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

DB_HELP = "results store (default: $AFFECTLENS_DB or results.duckdb)"


def _ids(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _dataset_entry(args) -> dict | None:
    if not args.dataset:
        return None
    entry = {"path": args.dataset}
    if args.dataset_format:
        entry["format"] = args.dataset_format
    if args.dataset_name:
        entry["name"] = args.dataset_name
    return entry


def register(sub: argparse._SubParsersAction) -> None:
    explain = sub.add_parser("explain", help="what models look at and how they argue: occlusion and attention "
                                             "maps, reasoning cues, perturbation probes",
                             description="Interpretability: occlusion maps (any model), attention maps (local "
                                         "models), reasoning-chain analysis, perturbation probes, PNG export.")
    verbs = explain.add_subparsers(dest="explain_command", required=True, metavar="WHAT")

    def dataset_options(parser, required: bool) -> None:
        parser.add_argument("--dataset", required=required, metavar="PATH",
                            help="dataset folder or manifest (a built-in layout such as emotion6, or one folder "
                                 "per class with --dataset-format folder)")
        parser.add_argument("--dataset-format", metavar="FORMAT", help="loader name when it cannot be detected")
        parser.add_argument("--dataset-name", metavar="NAME", help="name stored for the dataset (default: folder name)")
        parser.add_argument("--items", metavar="ID1,ID2", help="item ids to explain")
        parser.add_argument("--limit", type=int, help="explain the first N evaluated items instead of --items")

    def run_options(parser, json_help: str) -> None:
        """The options of the verbs that run an experiment through the runner."""
        parser.add_argument("--max-cost", type=float, metavar="USD", help="stop starting new calls at this spend")
        parser.add_argument("--db", help=DB_HELP)
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        parser.add_argument("--json", action="store_true", help=json_help)

    occ = verbs.add_parser("occlusion", help="mask each grid cell in turn, re-ask, map the change (any model)",
                           description="Occlusion sensitivity (Zeiler & Fergus 2014) for any model, API models "
                                       "included: an experiment with strategy BASE+occlusion on the chosen items, "
                                       "run by the runner (cached, resumable, --max-cost), then one map per item.")
    occ.add_argument("--config", metavar="CONFIG.yaml", help="take models, datasets, dimensions and prices from here")
    occ.add_argument("--model-adapter", metavar="ADAPTER",
                     help="without --config: the adapter (e.g. openai, color-affect)")
    occ.add_argument("--model", metavar="MODEL_ID", help="without --config: the model id")
    occ.add_argument("--model-name", metavar="NAME",
                     help="name stored for the model (default: the model id or adapter)")
    occ.add_argument("--base-url", metavar="URL", help="server URL for openai-compatible models")
    occ.add_argument("--api-key-env", metavar="VAR", help="environment variable holding the API key")
    dataset_options(occ, required=False)
    occ.add_argument("--grid", default="4x4", help="ROWSxCOLS cells (default 4x4)")
    occ.add_argument("--fill", default="grey", choices=["grey", "blur", "mean"], help="how a cell is masked")
    occ.add_argument("--strategy", default="zero-shot", help="base prompt strategy (default zero-shot)")
    occ.add_argument("--dimensions", default=None,
                     help="without --config: what to ask (default emotion,valence; valence gives graded maps)")
    run_options(occ, "print the maps as JSON")
    occ.set_defaults(func=cmd_occlusion)

    att = verbs.add_parser("attention", help="attention from the answer tokens to the image patches (local models)",
                           description="Attention maps of a local transformers model (eager attention), averaged "
                                       "over heads and layers or rolled out, on the vision patch grid.")
    att.add_argument("--model", required=True, metavar="PATH_OR_ID", help="model folder or hub id")
    att.add_argument("--name", help="name stored for the model (default: the folder name)")
    att.add_argument("--config", metavar="CONFIG.yaml", help="take the dataset (its first) and dimensions from here")
    dataset_options(att, required=False)
    att.add_argument("--aggregate", default="mean", choices=["mean", "rollout"])
    att.add_argument("--strategy", default="zero-shot", help="prompt strategy (one call, one image)")
    att.add_argument("--dimensions", help="what the prompt asks (default: the config's, else polarity,emotion)")
    att.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    att.add_argument("--tiny", action="store_true", help="build the tiny untrained test model at --model first")
    att.add_argument("--db", help=DB_HELP)
    att.add_argument("--json", action="store_true", help="print the maps as JSON")
    att.set_defaults(func=cmd_attention)

    rea = verbs.add_parser("reasoning", help="cues cited per model/strategy/emotion, reasoning-answer inconsistency",
                           description="Reasoning-chain analysis of the stored traces (method in "
                                       "engine/explain/cues.py).")
    rea.add_argument("--dataset", metavar="NAME", help="only this stored dataset")
    rea.add_argument("--baseline", default="zero-shot", help="strategy the cue shift is measured against")
    rea.add_argument("--db", help=DB_HELP)
    rea.add_argument("--json", action="store_true",
                     help='print {"cues": [...], "inconsistency": [...], "shift": [...]}')
    rea.set_defaults(func=cmd_reasoning)

    pro = verbs.add_parser("probes", help="re-ask after grayscale, blur, crops...; paired tests per model and probe",
                           description="Run the config's strategies plus a perturbed-image variant per probe "
                                       "(and describe-then-judge for caption-only), then compare each probe with "
                                       "its base run on the same items: answer-change rate, accuracy difference, "
                                       "McNemar's exact test, Holm over the probe family.")
    pro.add_argument("--config", required=True, metavar="CONFIG.yaml")
    pro.add_argument("--probes", default="grayscale,blur,no-centre,caption-only",
                     help="comma-separated: grayscale, brighter, darker, hue-shift, blur, no-centre, corner-crop, "
                          "caption-only")
    pro.add_argument("--limit", type=int, help="evaluate at most N items per dataset")
    run_options(pro, "print the comparisons as a JSON array")
    pro.set_defaults(func=cmd_probes)

    exp = verbs.add_parser("export", help="write every stored map as a PNG overlay on its image",
                           description="One PNG per map under OUT/<dataset>/, and OUT/maps.csv.")
    exp.add_argument("--out", required=True, metavar="DIR")
    exp.add_argument("--dataset", metavar="NAME")
    exp.add_argument("--model", action="append", metavar="NAME", help="only this model (repeatable)")
    exp.add_argument("--method", choices=["occlusion", "attention"])
    exp.add_argument("--alpha", type=float, default=0.5, help="heatmap opacity (default 0.5)")
    exp.add_argument("--db", help=DB_HELP)
    exp.set_defaults(func=cmd_export)


# ------------------------------------------------------------------------------------------ output
def _console():
    from rich.console import Console
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _grid_text(values) -> str:
    return "\n".join("    " + " ".join("  -- " if not math.isfinite(v) else f"{v:5.2f}" for v in row) for row in values)


def _maps_json(maps) -> list[dict]:
    from engine.explain.export import peak
    return [{"dataset": m.dataset, "item_id": m.item_id, "model": m.model, "strategy": m.strategy,
             "method": m.method, "measure": m.measure, "grid": list(m.values.shape),
             "values": [[None if not math.isfinite(v) else round(float(v), 6) for v in row] for row in m.values],
             "peak": list(peak(m.values) or []), "meta": m.meta} for m in maps]


def _print_maps(console, maps) -> None:
    from engine.explain.export import peak
    for m in maps:
        top = peak(m.values)
        where = ("no readable cell" if top is None else "no cell has any effect" if m.values[top] <= 0
                 else f"peak cell (row, column) {top} = {m.values[top]:.3f}, counted from 0 at the top left")
        asked = m.meta.get("cells_asked")
        extra = f", {asked}/{m.meta.get('cells_total')} cells asked" if asked is not None else ""
        console.print(f"[bold]{m.dataset}/{m.item_id}[/bold]  {m.model} · {m.strategy} · {m.measure}: {where}{extra}")
        console.print(_grid_text(m.values))


def _runs_table(console, runs) -> None:
    from rich.table import Table
    table = Table(title="Runs")
    for column in ("model", "strategy", "status", "items", "calls", "cached", "errors", "spend $"):
        table.add_column(column)
    for run in runs:
        table.add_row(run.model, run.strategy, run.status, str(run.n_items), str(run.calls), str(run.cached),
                      str(run.errors), f"{run.cost_usd:.4f}")
    console.print(table)
    for run in runs:
        if run.message:
            console.print(f"{run.model} × {run.strategy}: {run.message}")


def _status(runs) -> int:
    statuses = {run.status for run in runs}
    return 1 if "failed" in statuses else 3 if "stopped" in statuses else 0


def _frame_table(console, frame, title: str, columns: list[str], formats: dict | None = None,
                 headers: dict | None = None) -> None:
    from rich.table import Table
    table = Table(title=title)
    for column in columns:
        table.add_column((headers or {}).get(column, column))
    formats = formats or {}
    for row in frame[columns].itertuples(index=False):
        cells = []
        for column, value in zip(columns, row):
            if isinstance(value, float):
                cells.append("" if math.isnan(value) else format(value, formats.get(column, ".3f")))
            else:
                cells.append("" if value is None else str(value))
        table.add_row(*cells)
    console.print(table)


def _records(frame) -> list[dict]:
    return json.loads(frame.to_json(orient="records", default_handler=str))


# ------------------------------------------------------------------------------------------ commands
def cmd_occlusion(args: argparse.Namespace) -> int:
    from engine.errors import ConfigError
    from engine.explain.experiments import occlusion_config, run_occlusion

    if args.config:
        base = args.config
        if args.model_adapter or args.model:
            raise ConfigError("give either --config or --model-adapter/--model, not both")
    else:
        if not args.model_adapter:
            raise ConfigError("name the model: --config CONFIG.yaml, or --model-adapter ADAPTER [--model ID]")
        if not args.dataset:
            raise ConfigError("without --config, give --dataset PATH")
        name = args.model_name or args.model or args.model_adapter
        model = {"name": name, "adapter": args.model_adapter, "model": args.model or ""}
        if args.base_url:
            model["base_url"] = args.base_url
        if args.api_key_env:
            model["api_key_env"] = args.api_key_env
        dims = _ids(args.dimensions) or ["emotion", "valence"]
        base = {"name": "explain", "dimensions": dims, "models": [model], "datasets": [_dataset_entry(args)]}
    config = occlusion_config(base, items=_ids(args.items), limit=args.limit, grid=args.grid, fill=args.fill,
                              strategy=args.strategy, dataset=_dataset_entry(args) if args.config else None)
    if args.config and args.dimensions:
        config["dimensions"] = _ids(args.dimensions)
    result = run_occlusion(config, args.db, max_cost=args.max_cost, quiet=args.quiet or args.json)
    if args.json:
        print(json.dumps(_maps_json(result.maps), indent=2, default=str))
        return _status(result.experiment.runs)
    console = _console()
    _runs_table(console, result.experiment.runs)
    _print_maps(console, result.maps)
    console.print(f"\n{len(result.maps)} map(s) stored in {result.experiment.db_path}. Overlays: affectlens explain "
                  "export --out DIR, or the dashboard's Explain page.")
    return _status(result.experiment.runs)


def cmd_attention(args: argparse.Namespace) -> int:
    import os

    from engine.explain.attention import attention_config, attention_maps

    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from engine.errors import ConfigError

    options = {"device": args.device}
    if args.tiny:
        options["tiny"] = True
    dataset, dimensions = _dataset_entry(args), _ids(args.dimensions)
    if args.config:
        from engine.runner import load_config
        loaded = load_config(args.config)
        dataset = dataset or loaded.datasets[0].model_dump(mode="json", exclude_none=True)
        dimensions = dimensions or list(loaded.dimensions)
    if dataset is None:
        raise ConfigError("name the dataset: --dataset PATH, or --config CONFIG.yaml")
    config = attention_config(args.model, dataset, items=_ids(args.items), limit=args.limit, name=args.name,
                              strategy=args.strategy, dimensions=tuple(dimensions or ("polarity", "emotion")),
                              options=options)
    console = _console()
    maps = attention_maps(config, args.db, aggregate=args.aggregate,
                          on_item=None if args.json else (lambda item: console.print(f"attention: {item}")))
    if args.json:
        print(json.dumps(_maps_json(maps), indent=2, default=str))
        return 0
    _print_maps(console, maps)
    for m in maps:
        shown = "".join(ch if ch.isprintable() else "·" for ch in m.meta["answer"][:100])
        console.print(f"{m.item_id}: answer ({m.meta['answer_source']}): {shown}", markup=False)
    return 0


def cmd_reasoning(args: argparse.Namespace) -> int:
    from engine.explain.reasoning import cue_overview, cue_table, inconsistency_table, load_traces, strategy_cue_shift

    traces = load_traces(args.db, dataset=args.dataset)
    tables = {"cues": cue_table(traces), "inconsistency": inconsistency_table(traces),
              "shift": strategy_cue_shift(traces, args.baseline)}
    if args.json:
        print(json.dumps({name: _records(frame) for name, frame in tables.items()}, indent=2))
        return 0
    console = _console()
    if traces.empty:
        console.print("No reasoning traces in the store; run a strategy that reasons (cot, scene) first.")
        return 0
    from engine.explain.cues import CUE_CATEGORIES
    _frame_table(console, cue_overview(traces), "Share of answers citing each cue (all emotions)",
                 ["dataset", "model", "strategy", "n", "n_with_reasoning", *CUE_CATEGORIES])
    _frame_table(console, tables["inconsistency"], "Reasoning sentiment against the final polarity",
                 ["dataset", "model", "strategy", "n", "n_decidable", "n_inconsistent", "rate", "ci_low", "ci_high"])
    if not tables["shift"].empty:
        shift = tables["shift"][tables["shift"]["difference"] != 0]
        _frame_table(console, shift, f"Cue shift against {args.baseline} (McNemar exact, Holm per model)",
                     ["dataset", "model", "strategy", "category", "n_common", "share", "share_baseline", "difference",
                      "p_holm"], {"p_holm": ".3g"})
    console.print("Per emotion: affectlens explain reasoning --json (key \"cues\"), or the dashboard's Explain page.")
    return 0


def cmd_probes(args: argparse.Namespace) -> int:
    from engine.explain.experiments import probe_config
    from engine.explain.probes import probe_report
    from engine.runner import load_config, run_experiment

    base = load_config(args.config)
    config = probe_config(base, _ids(args.probes) or [])
    result = run_experiment(config, args.db, limit=args.limit, max_cost=args.max_cost, quiet=args.quiet or args.json,
                            freeze_heap=True)
    report = probe_report(result.db_path, models=[m.name for m in base.models])
    report = report[report["dataset"].isin({run.dataset for run in result.runs})]
    if args.json:
        print(json.dumps(_records(report), indent=2))
        return _status(result.runs)
    console = _console()
    _runs_table(console, result.runs)
    if report.empty:
        console.print("No probe comparison: the datasets need gold labels for the asked dimensions.")
    else:
        columns = [c for c in ["dataset", "dimension", "model", "base_strategy", "probe", "n_common", "change_rate",
                               "mean_abs_change", "accuracy_base", "accuracy_probe", "difference", "mae_base",
                               "mae_probe", "p_value", "p_holm"] if report[c].notna().any()]
        _frame_table(console, report, "Probes against the unperturbed run (same items; McNemar exact, Holm per model)",
                     columns,
                     {"p_value": ".3g", "p_holm": ".3g"},
                     {"dimension": "dim", "base_strategy": "base", "n_common": "n", "change_rate": "changed",
                      "mean_abs_change": "|Δ|", "accuracy_base": "acc base", "accuracy_probe": "acc probe",
                      "difference": "Δ acc", "mae_base": "MAE base", "mae_probe": "MAE probe", "p_value": "p",
                      "p_holm": "p Holm"})
    return _status(result.runs)


def cmd_export(args: argparse.Namespace) -> int:
    from engine.explain.export import export_overlays
    from engine.store import default_db_path

    db = args.db or default_db_path()
    index = export_overlays(db, args.out, dataset=args.dataset, models=args.model, method=args.method,
                            alpha=args.alpha)
    written = int((index["file"] != "").sum())
    missing = len(index) - written
    print(f"wrote {written} overlay PNG(s) and maps.csv to {args.out}"
          + (f"; {missing} map(s) skipped: image file not found" if missing else ""))
    return 0
