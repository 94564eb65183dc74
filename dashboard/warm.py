"""Fill the query cache with what the pages ask for first, so a page switch or picker change finds it cached.

`warm_store(db)` runs, for the default filters, the sidebar's queries, the results matrix, every scope's
leaderboard, and for each scope the first view of Model comparison, Dimensions, Prompt ablations, the
Error gallery and Runs (their pickers at their defaults: the first model, the zero-shot strategy or the
first one); then, within its time budget, the views after each model or strategy picker change.
`warm_slices(db)` then scores the Slices page's default view (its per-slice bootstrap is the slowest query of
the dashboard: tens of seconds on a million predictions). The results go to the same cache the pages read
(`dashboard.cache.query`), keyed by the store file's version, so nothing stale is ever shown. Called by the
launcher (`dashboard.launch`) once the server runs; the queries are the pages' own, so a number shown cannot
differ from an unwarmed page.
"""

from __future__ import annotations

import logging
import time

from dashboard import data

_log = logging.getLogger("affectlens.dashboard")

#: How long warming may take before it stops (the pages compute the rest on demand).
BUDGET_S = 60.0


def _scope_queries(db: str, filters, scope, *, every_choice: bool = False) -> list:
    """The first view of every per-scope page for `scope`, as calls to make; with `every_choice`, also the views
    after each model and strategy picker change (Model comparison's and Prompt ablations' strategy, Dimensions'
    model)."""
    cells = data.cell_models(db, filters, scope)
    models = sorted(cells["model"].unique())
    strategies = sorted(cells["strategy"].unique())
    strategy = "zero-shot" if "zero-shot" in strategies else (strategies[0] if strategies else None)
    chosen_strategies = ([strategy] + [s for s in strategies if s != strategy]) if every_choice else [strategy]
    chosen_models = models if every_choice else models[:1]
    calls = [lambda: data.leaderboard(db, filters, scope)]
    if scope.dimension in data.CATEGORICAL:
        calls.append(lambda: data.gallery_labels(db, filters, scope))
        calls.append(lambda: data.gallery_page(db, filters, data.GalleryQuery(scope)))
        calls.append(lambda: data.calibration(db, filters, scope, 10))
        calls.append(lambda: data.strategy_failures(db, filters, scope))
        calls.append(lambda: data.position_bias(db, filters, scope))
        calls.append(lambda: data.cost_quality(db, filters, scope))
        for chosen in filter(None, chosen_strategies):
            calls.append(lambda s=chosen: data.strategy_effects(db, filters, scope, s))
            calls.append(lambda s=chosen: data.pairwise_significance(db, filters, scope, s))
            calls.append(lambda s=chosen: data.model_agreement(db, filters, scope, s))
            calls.append(lambda s=chosen: data.group_agreement(db, filters, scope, s))
        for model in chosen_models if strategy else []:
            calls.append(lambda m=model: data.confusion(db, filters, scope, m, strategy))
            calls.append(lambda m=model: data.per_class(db, filters, scope, m, strategy))
    else:
        calls.append(lambda: data.continuous_gallery_page(db, filters, data.ContinuousGalleryQuery(scope)))
        calls.append(lambda: data.continuous_bias(db, filters, scope.dataset, scope.eval_set))
        calls.append(lambda: data.bias_scores(db, filters, scope.dataset, scope.eval_set))
        calls.append(lambda: data.intensity_levels(db, filters, scope.dataset, scope.eval_set))
        for model in chosen_models if strategy else []:
            calls.append(lambda m=model: data.valence_arousal(db, filters, scope.dataset, scope.eval_set, m, strategy,
                                                              2000))
    return calls


def warm_store(db: str, filters: data.Filters | None = None, budget_s: float = BUDGET_S) -> int:
    """Run the pages' first queries on `db` into the query cache; returns how many ran. Stops after `budget_s`."""
    filters = filters or data.Filters()
    started = time.monotonic()
    calls = [lambda: data.filter_options(db), lambda: data.run_history(db, filters),
             lambda: data.analysis_datasets(db), lambda: data.store_summary(db, filters),
             lambda: data.datasets_table(db, filters), lambda: data.spend_by_model(db, filters),
             lambda: data.runs_table(db, filters)]
    for metric in data.matrix_metrics(db, filters)[:1]:
        calls.append(lambda metric=metric: data.results_matrix(db, filters, metric))
    done = 0
    for call in calls:
        call()
        done += 1
    every = [data.Scope(row.dataset, row.eval_set, row.dimension) for row in data.scopes(db, filters).itertuples()]
    # first every scope's first views, then (time allowing) the views after a model or strategy change
    rounds = [(scope, False) for scope in every] + [(scope, True) for scope in every]
    for scope, every_choice in rounds:
        for call in _scope_queries(db, filters, scope, every_choice=every_choice):
            if time.monotonic() - started > budget_s:
                _log.info("warming stopped after %.0f s (%d queries); the rest run when asked", budget_s, done)
                return done
            call()
            done += 1
    return done


def warm_slices(db: str, filters: data.Filters | None = None) -> bool:
    """Score the Slices page's default view (default scope, first slice key, the dimension's default metric, the
    page's default minimum n) into the query cache; True when there was one to score."""
    from dashboard import slices_data
    from engine.metrics.cells import DEFAULT_METRIC

    filters = filters or data.Filters()
    scope = data.default_scope(data.scopes(db, filters))
    if scope is None:
        return False
    keys = slices_data.slice_keys(db, filters, scope)
    metrics = sorted(set(data.scores_long(db, filters, scope)["metric"]))
    if not keys or not metrics:
        return False
    wanted = DEFAULT_METRIC.get(scope.dimension, "accuracy_strict")
    metric = wanted if wanted in metrics else metrics[0]
    slices_data.slice_report(db, filters, scope, keys[0], metric, slices_data.DEFAULT_MIN_N)
    return True
