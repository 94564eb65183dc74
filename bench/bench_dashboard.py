"""Dashboard speed on a large store: every page's queries, and every page drawn in a real browser.

Builds (once, into bench/out/) a store with 1,000,000 predictions — 10,000 items x 5 models x 5
strategies x 4 dimensions, 250,000 responses with tokens, cost and latency, traces for the
chain-of-thought runs, gold for every item — written with bulk Arrow inserts. Then:

1. calls each page's `dashboard.data` functions with result caching off, `--repeat` times each, and
   prints p50 / p95 latency per query and p95 against the 100 ms target (ratio <= 1 meets it);
2. the first page after a server start: `--starts` times, the dashboard is started by its warming launcher
   (`python -m dashboard`, which runs `streamlit run` and pre-warms imports, the first page and every page's
   first queries) and, once it reports itself warm, the first page is opened in headless Chromium in three
   browser states (`BROWSER_STATES`: a returning browser with Streamlit's scripts cached, a running browser
   that never showed the dashboard, a browser launched for it), each state first after one of the starts;
   the time from navigation until the page has finished drawing (no skeleton, no running script, charts
   rendered), median and worst, against the 3 s target, beside the same measurement of a one-line Streamlit
   page (the floor any Streamlit app pays on the machine);
3. every page cold (first visit) and warm (median of `--visits` later visits), and picker changes (click to
   redrawn, against the 1 s target; each `--rounds` times, median and every sample printed), with the store size and the load average when measured. The store is
   built once and reused (`--rebuild` to rebuild it).

    python bench/bench_dashboard.py [--items 10000] [--repeat 10] [--visits 3] [--starts 3] [--rounds 3]
                                    [--no-browser] [--no-queries] [--no-pages] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "dashboard"))
logging.getLogger("streamlit").setLevel(logging.ERROR)

MODELS = ["gpt-4o", "claude-sonnet", "gemini-flash", "qwen2.5-vl-7b", "llava-1.6"]
STRATEGIES = ["zero-shot", "cot", "few-shot", "structured", "scene"]
LABELS = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
POLARITY = {"anger": "negative", "disgust": "negative", "fear": "negative", "happiness": "positive",
            "sadness": "negative", "surprise": "positive", "neutral": "neutral"}
DATASET = "bench"


def build_store(db: Path, n_items: int, seed: int = 0) -> dict[str, int]:
    """Write the synthetic store with bulk Arrow inserts; returns row counts."""
    from PIL import Image

    from engine.store import connect
    from engine.store.evalsets import EvalSet, write_eval_set

    rng = np.random.default_rng(seed)
    images = db.parent / "images"
    images.mkdir(parents=True, exist_ok=True)
    item_ids = np.array([f"img{i:06d}.jpg" for i in range(n_items)])
    gold_label = rng.choice(LABELS, n_items)
    for i in range(min(n_items, 200)):  # the gallery's first pages have real files
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        Image.new("RGB", (96, 72), colour).save(images / item_ids[i], quality=80)
    gold_valence = rng.uniform(-1, 1, n_items)
    gold_arousal = rng.uniform(0, 1, n_items)
    counts = {}
    if db.exists():
        db.unlink()
    with connect(db) as con:
        con.execute("INSERT INTO datasets (dataset, loader, root, taxonomy, dimensions, scales, n_items) VALUES "
                    "(?, 'folder', ?, 'ekman7', ['emotion', 'polarity', 'valence', 'arousal'], "
                    "'{\"valence\": [1, 9], \"arousal\": [1, 9]}', ?)", [DATASET, str(images), n_items])
        con.register("items_arrow", pa.table({"dataset": [DATASET] * n_items, "item_id": item_ids,
                                              "image_sha256": [f"{i:064x}" for i in range(n_items)],
                                              "image_path": item_ids}))
        con.execute("INSERT INTO items (dataset, item_id, image_sha256, image_path) SELECT * FROM items_arrow")
        gold = pa.table({
            "dataset": [DATASET] * (4 * n_items), "item_id": np.tile(item_ids, 4),
            "dimension": np.repeat(["emotion", "polarity", "valence", "arousal"], n_items),
            "label": np.concatenate([gold_label, [POLARITY[g] for g in gold_label], [None] * (2 * n_items)]),
            "value_norm": np.concatenate([np.full(2 * n_items, np.nan), gold_valence, gold_arousal])})
        con.register("gold_arrow", gold)
        con.execute("INSERT INTO gold (dataset, item_id, dimension, label, labels, value_norm) "
                    "SELECT dataset, item_id, dimension, label, CASE WHEN label IS NULL THEN NULL ELSE [label] END, "
                    "CASE WHEN isnan(value_norm) THEN NULL ELSE value_norm END FROM gold_arrow")
        every_item = write_eval_set(con, EvalSet(DATASET, tuple(item_ids), f"{DATASET} · every item"))
        runs, responses, predictions, traces = [], [], [], []
        for m, model in enumerate(MODELS):
            skill = 0.45 + 0.08 * m
            for s, strategy in enumerate(STRATEGIES):
                run_id = f"run-{model}-{strategy}"
                runs.append({"run_id": run_id, "experiment": "bench", "dataset": DATASET, "model": model,
                             "adapter": "replay", "strategy": strategy, "status": "complete", "n_items": n_items,
                             "eval_set": every_item, "purpose": "benchmark", "taxonomy": "ekman7",
                             "dimensions": ["emotion", "polarity", "valence", "arousal"],
                             "config": json.dumps({"model": model, "strategy": strategy}),
                             "provenance": json.dumps({"git_commit": "bench"})})
                right = rng.random(n_items) < skill + 0.02 * s
                label = np.where(right, gold_label, rng.choice(LABELS, n_items))
                status = rng.choice(["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "failed", "refused", "error",
                                     "partial"], n_items)
                label = np.where(np.isin(status, ["ok", "partial"]), label, None)
                confidence = np.clip(rng.normal(0.7 + 0.2 * right, 0.1), 0, 1)
                response_ids = np.char.add(f"{run_id}-", item_ids)
                responses.append(pa.table({
                    "response_id": response_ids, "run_id": [run_id] * n_items, "dataset": [DATASET] * n_items,
                    "item_id": item_ids, "stage": ["answer"] * n_items,
                    "status": np.where(status == "error", "error", np.where(status == "refused", "refused", "ok")),
                    "text": np.char.add('{"emotion": "', np.where(label == None, "", label).astype(str)),  # noqa: E711
                    "input_tokens": rng.integers(300, 1200, n_items), "output_tokens": rng.integers(5, 400, n_items),
                    "cost_usd": rng.uniform(0.0001, 0.004, n_items) * (m + 1), "latency_ms": rng.gamma(4, 150 * (m + 1), n_items)}))
                for dimension, values in (("emotion", label), ("polarity", np.array([POLARITY.get(v) for v in label]))):
                    predictions.append(pa.table({
                        "run_id": [run_id] * n_items, "dataset": [DATASET] * n_items, "item_id": item_ids,
                        "dimension": [dimension] * n_items, "label": values, "value_norm": np.full(n_items, np.nan),
                        "confidence": confidence, "status": status, "response_id": response_ids}))
                for dimension, gold_values in (("valence", gold_valence), ("arousal", gold_arousal)):
                    predictions.append(pa.table({
                        "run_id": [run_id] * n_items, "dataset": [DATASET] * n_items, "item_id": item_ids,
                        "dimension": [dimension] * n_items, "label": pa.nulls(n_items, pa.string()),
                        "value_norm": np.clip(gold_values + rng.normal(0.1, 0.3, n_items), -1, 1),
                        "confidence": confidence, "status": status, "response_id": response_ids}))
                if strategy == "cot":
                    traces.append(pa.table({"run_id": [run_id] * n_items, "item_id": item_ids,
                                            "steps": [["The scene is described.", "Cues are weighed.", "Answer."]] * n_items}))
        con.register("runs_arrow", pa.Table.from_pylist(runs))
        con.execute("INSERT INTO runs (run_id, experiment, dataset, model, adapter, strategy, status, n_items, config, "
                    "provenance, eval_set, purpose, taxonomy, dimensions) SELECT run_id, experiment, dataset, model, "
                    "adapter, strategy, status, n_items, config, provenance, eval_set, purpose, taxonomy, dimensions "
                    "FROM runs_arrow")
        for name, tables in (("responses", responses), ("predictions", predictions), ("traces", traces)):
            table = pa.concat_tables(tables, promote_options="permissive")
            con.register(f"{name}_arrow", table)
            columns = ", ".join(table.column_names)
            select = columns.replace("value_norm", "CASE WHEN isnan(value_norm) THEN NULL ELSE value_norm END")
            con.execute(f"INSERT INTO {name} ({columns}) SELECT {select} FROM {name}_arrow")
    # the engine's scorer writes scores, evaluations (which run stands for each cell) and per-item outcomes
    from engine.metrics.scoring import refresh_scores

    refresh_scores(db, n_resamples=200)
    with connect(db, read_only=True) as con:
        for table in ("predictions", "responses", "runs", "items", "gold", "traces", "scores", "outcomes"):
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return counts


def page_queries(db: str):
    """(page, query name, callable) for every query each page runs on its first view."""
    from dashboard import data

    f = data.Filters()
    m, s = MODELS[0], "zero-shot"
    every = data.scopes(db, f)
    eval_set = every.loc[every["dataset"] == DATASET, "eval_set"].iloc[0]
    emotion = data.Scope(DATASET, eval_set, "emotion")
    valence = data.Scope(DATASET, eval_set, "valence")
    hard = data.GalleryQuery(emotion, error_types=("wrong",), page=3)
    return [
        ("sidebar", "filter_options", lambda: data.filter_options(db)),
        ("sidebar", "run_history", lambda: data.run_history(db, f)),
        ("sidebar", "analysis_datasets", lambda: data.analysis_datasets(db)),
        ("overview", "store_summary", lambda: data.store_summary(db, f)),
        ("overview", "scopes", lambda: data.scopes(db, f)),
        ("overview", "results_matrix", lambda: data.results_matrix(db, f, "accuracy_strict")),
        ("overview", "leaderboard", lambda: data.leaderboard(db, f, emotion)),
        ("overview", "leaderboard (valence)", lambda: data.leaderboard(db, f, valence)),
        ("overview", "datasets_table", lambda: data.datasets_table(db, f)),
        ("overview", "spend_by_model", lambda: data.spend_by_model(db, f)),
        ("comparison", "scores_long", lambda: data.scores_long(db, f, emotion)),
        ("comparison", "cell_models", lambda: data.cell_models(db, f, emotion)),
        ("comparison", "pairwise_significance", lambda: data.pairwise_significance(db, f, emotion, s)),
        ("comparison", "model_agreement", lambda: data.model_agreement(db, f, emotion, s)),
        ("comparison", "group_agreement", lambda: data.group_agreement(db, f, emotion, s)),
        ("comparison", "cost_quality", lambda: data.cost_quality(db, f, emotion)),
        ("dimensions", "confusion", lambda: data.confusion(db, f, emotion, m, s)),
        ("dimensions", "per_class", lambda: data.per_class(db, f, emotion, m, s)),
        ("dimensions", "valence_arousal", lambda: data.valence_arousal(db, f, DATASET, eval_set, m, s, 2000)),
        ("dimensions", "continuous_bias", lambda: data.continuous_bias(db, f, DATASET, eval_set)),
        ("dimensions", "intensity_levels", lambda: data.intensity_levels(db, f, DATASET, eval_set)),
        ("dimensions", "calibration", lambda: data.calibration(db, f, emotion, 10)),
        ("ablations", "strategy_effects", lambda: data.strategy_effects(db, f, emotion, "zero-shot")),
        ("ablations", "strategy_failures", lambda: data.strategy_failures(db, f, emotion)),
        ("ablations", "position_bias", lambda: data.position_bias(db, f, emotion)),
        ("gallery", "gallery_labels", lambda: data.gallery_labels(db, f, emotion)),
        ("gallery", "gallery_page (page 1)", lambda: data.gallery_page(db, f, data.GalleryQuery(emotion))),
        ("gallery", "gallery_page (wrong, page 3)", lambda: data.gallery_page(db, f, hard)),
        ("gallery", "item_detail", lambda: data.item_detail(db, f, DATASET, "img000042.jpg")),
        ("runs", "runs_table", lambda: data.runs_table(db, f)),
        ("runs", "run_detail", lambda: data.run_detail(db, f"run-{m}-{s}")),
    ]


def bench_queries(db: str, repeat: int) -> list[tuple[str, str, float, float]]:
    from dashboard import data

    data.set_caching(False)
    rows = []
    for page, name, call in page_queries(db):
        call()  # first call opens the shared read-only handle
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        rows.append((page, name, p50, p95))
    return rows


def _load() -> str:
    """The machine's load average (1, 5, 15 min), as /proc/loadavg gives it."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


#: The browser states a first page is drawn in (name -> what it stands for).
BROWSER_STATES = {
    "returning": "a running browser that showed the dashboard before the restart (a new tab)",
    "first visit": "a running browser that never showed the dashboard (a new profile: nothing cached)",
    "launched": "a browser launched for it (its own start-up work included)",
}
FLOOR_APP = 'import streamlit as st\nst.write("AffectLens floor")\n'  # Streamlit's own floor: a one-line page
VIEWPORT = {"width": 1400, "height": 1000}


def _rotations(starts: int) -> list[list[str]]:
    """The order of the browser states after each server start: each state comes first after some start."""
    states = list(BROWSER_STATES)
    return [states[i % len(states):] + states[:i % len(states)] for i in range(starts)]


def _first_pages(serve, starts: int) -> dict[str, list[float]]:
    """Seconds until the first page is drawn after each of `starts` server starts, in every browser state.
    `serve(port)` starts the server on that port (the same one each time, as a restarted server is) and yields
    its URL once ready. The returning browser runs throughout: it opened the page before the first start."""
    import browser
    from playwright.sync_api import sync_playwright

    port = browser.free_port()
    times: dict[str, list[float]] = {state: [] for state in BROWSER_STATES}
    with sync_playwright() as playwright:
        launch = dict(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        kept = playwright.chromium.launch(**launch)
        returning = kept.new_context(viewport=VIEWPORT)
        with serve(port) as url:  # the visit before the restarts
            browser.open_page(returning.new_page(), url)
        for page in returning.pages:
            page.close()
        for order in _rotations(starts):
            with serve(port) as url:
                for state in order:
                    if state == "launched":
                        fresh = playwright.chromium.launch(**launch)
                        times[state].append(browser.open_page(fresh.new_page(viewport=VIEWPORT), url))
                        fresh.close()
                        continue
                    context = returning if state == "returning" else kept.new_context(viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto("about:blank")  # the tab is open before the clock starts
                    times[state].append(browser.open_page(page, url))
                    page.close()
                    if context is not returning:
                        context.close()
        kept.close()
    return times


def bench_first_page(db: Path, starts: int, work: Path) -> tuple[dict[str, list[float]], dict[str, list[float]], list[float]]:
    """The first page after each of `starts` server starts (warming launcher) in every browser state, and the same
    states on a one-line Streamlit page (the floor any Streamlit page pays). Returns (page times, floor times,
    seconds from each launch until the server reported itself warm)."""
    import contextlib

    import browser

    env = {"AFFECTLENS_THUMBNAIL_DIR": str(db.parent / "thumbnails")}
    warm_s = []

    @contextlib.contextmanager
    def dashboard(port: int):
        launched = time.monotonic()
        with browser.serve(db, env=env, warm=True, timeout_s=300, port=port) as url:
            warm_s.append(time.monotonic() - launched)
            yield url

    floor_app = work / "floor" / "app.py"
    floor_app.parent.mkdir(parents=True, exist_ok=True)
    floor_app.write_text(FLOOR_APP)
    pages = _first_pages(dashboard, starts)
    floor = _first_pages(lambda port: browser.serve(db, app=floor_app, port=port), starts)
    return pages, floor, warm_s[1:]


#: (page path, picker label, address parameter, options chosen in turn) for the picker-change measurement
PICKER_CHANGES = [("", "Dimension", "dimension", ["polarity", "valence", "emotion"]),
                  ("comparison", "Strategy", "view_strategy", ["cot", "few-shot"]),
                  ("dimensions", "Model", "view_model", [MODELS[1], MODELS[2]])]


def bench_browser(db: Path, visits: int, rounds: int) -> tuple[list[tuple[str, float, float, str]],
                                                               list[tuple[str, list[float], str]]]:
    """Every page cold (its first visit) and warm, then each picker change of `PICKER_CHANGES` `rounds` times, on
    a server started by the warming launcher, in one browser; each measurement with the load average when it was
    taken."""
    import browser

    rows, changes = [], []
    with browser.serve(db, env={"AFFECTLENS_THUMBNAIL_DIR": str(db.parent / "thumbnails")}, warm=True,
                       timeout_s=300) as url:
        with browser.chromium() as page:
            for path, name in browser.PAGES.items():
                cold = browser.open_page(page, f"{url}/{path}")
                assert not browser.exceptions(page), browser.exceptions(page)
                load = _load()
                warm = statistics.median(browser.open_page(page, f"{url}/{path}") for _ in range(visits))
                rows.append((name, cold, warm, load))
            # picker changes, `rounds` times over: the page reruns with the new value (one sample is mostly noise
            # on a 2-core machine; the first round is the first time each view is asked for)
            samples: dict[str, list[float]] = {}
            loads: dict[str, str] = {}
            for _ in range(rounds):
                for path, label, param, options in PICKER_CHANGES:
                    browser.open_page(page, f"{url}/{path}")
                    for option in options:
                        name = f"{path or 'overview'}: {label} -> {option}"
                        samples.setdefault(name, []).append(browser.choose(page, label, option, param=param))
                        loads[name] = _load()
            changes = [(name, times, loads[name]) for name, times in samples.items()]
    return rows, changes


def store_size(db: Path) -> int:
    """Predictions in the store (what the targets are stated for)."""
    from engine.store import connect

    with connect(db, read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM predictions").fetchall()[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--starts", type=int, default=3, help="server starts the first page is measured after")
    parser.add_argument("--rounds", type=int, default=3, help="times each picker change is measured")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-queries", action="store_true", help="skip the query latency part")
    parser.add_argument("--no-pages", action="store_true", help="skip every page and picker change (part 3)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "dashboard")
    args = parser.parse_args()
    os.environ.setdefault("AFFECTLENS_THUMBNAIL_DIR", str(args.out / "thumbnails"))
    args.out.mkdir(parents=True, exist_ok=True)
    db = args.out / f"dashboard-{args.items}.duckdb"
    if args.rebuild or not db.exists():
        started = time.perf_counter()
        counts = build_store(db, args.items)
        print(f"built {db} in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print(f"store {db} ({db.stat().st_size / 1e6:.0f} MB); load average {_load()}")
    if not args.no_queries:
        print(f"\nquery latency, caching off, {args.repeat} calls each (target p95 <= 100 ms)")
        print(f"{'page':<11} {'query':<30} {'p50 ms':>8} {'p95 ms':>8} {'p95/100ms':>10}")
        rows = bench_queries(str(db), args.repeat)
        for page, name, p50, p95 in rows:
            print(f"{page:<11} {name:<30} {p50:8.1f} {p95:8.1f} {p95 / 100:10.2f}")
        worst = max(rows, key=lambda r: r[3])
        print(f"worst p95: {worst[1]} {worst[3]:.1f} ms; queries meeting the target: "
              f"{sum(r[3] <= 100 for r in rows)} of {len(rows)}")
    if args.no_browser:
        return
    import browser

    reason = browser.browser_available()
    if reason:
        print(f"browser part skipped: {reason}")
        return
    size = store_size(db)
    print(f"\nfirst page after a server start (warming launcher), {args.starts} starts, store of {size:,} predictions; "
          f"navigation until fully drawn (no skeleton, no running script, charts rendered)")
    pages, floor, warm_s = bench_first_page(db, args.starts, args.out)
    print(f"server launch until it reported itself warm: {min(warm_s):.1f}-{max(warm_s):.1f} s (load {_load()})")
    print(f"{'browser state':<13} {'median s':>8} {'worst s':>8} {'target s':>9} {'ratio':>6}  {'floor s':>8}  "
          f"{'over floor s':>12}  what it is")
    for state, meaning in BROWSER_STATES.items():
        median, worst, base = statistics.median(pages[state]), max(pages[state]), statistics.median(floor[state])
        print(f"{state:<13} {median:8.2f} {worst:8.2f} {3:9.0f} {median / 3:6.2f}  {base:8.2f}  {median - base:12.2f}  "
              f"{meaning}")
    print("floor: the same measurement of a one-line Streamlit page (what any Streamlit app pays on this machine)")
    if args.no_pages:
        return

    print(f"\nevery page in headless Chromium (navigation to fully drawn), store of {size:,} predictions")
    rows, changes = bench_browser(db, args.visits, args.rounds)
    print(f"{'page':<12} {'cold s':>8} {f'warm s (median of {args.visits})':>26}  load average")
    for name, cold, warm, load in rows:
        print(f"{name:<12} {cold:8.2f} {warm:26.2f}  {load}")
    print(f"\n{'measurement':<52} {'time s':>7} {'target s':>9} {'ratio':>6}  store (predictions)  load average")
    for state in BROWSER_STATES:
        median = statistics.median(pages[state])
        print(f"{'first page after server start, ' + state:<52} {median:7.2f} {3:9.0f} {median / 3:6.2f}  {size:>19,}")
    for name, times, load in changes:
        median = statistics.median(times)
        print(f"{'picker change ' + name:<52} {median:7.2f} {1:9.0f} {median:6.2f}  {size:>19,}  {load}  "
              f"(median of {len(times)}; each: {' '.join(f'{t:.2f}' for t in times)})")
    medians = [statistics.median(times) for _, times, _ in changes]
    worst = max(medians) if medians else float("nan")
    slowest = max((t for _, times, _ in changes for t in times), default=float("nan"))
    print(f"worst picker change {worst:.2f} s median (ratio {worst:.2f}), slowest single change {slowest:.2f} s; "
          "first page ratios " + ", ".join(
        f"{state} {statistics.median(pages[state]) / 3:.2f}" for state in BROWSER_STATES))
    print(f"\nmachine: {os.cpu_count()} cores, /proc/loadavg at the end: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
