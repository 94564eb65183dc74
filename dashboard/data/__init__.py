"""Every query the dashboard pages use: parameterised SQL over the results store, cached (`dashboard.cache`).

One module per concern: `scope` (the sidebar's filters, a page's scope and the SQL that picks the run
standing for each cell), then one module per page (`sidebar`, `overview`, `comparison`, `dimensions`,
`ablations`, `gallery`, `runs`), each holding that page's SQL queries (`@query`, returning frames) and its
shaping of them (`@derived`: pivots, and statistics called from `engine.metrics`, never computed here).
Caching lives in `dashboard.cache`, connections in `dashboard.connection`. Everything is re-exported here,
so pages write `data.leaderboard(...)`.

Pages call these typed functions and never write SQL. Each takes the store path first and returns a
DataFrame (or a small dataclass of them). Values from the page travel only as bound parameters.

Which answers a number is about: a page shows one **scope** -- a dataset, one of its evaluation sets
and a dimension -- and within it the run that stands for each (model, strategy) cell: the newest
complete benchmark run (`evaluations.current`, chosen by `engine.metrics.cells.pick_current`), or the
run the sidebar pinned for that cell. Correctness comes from the engine's per-item `outcomes` rows and
every statistic from `engine.metrics`, so a page and `affectlens scores` cannot disagree. Analyses,
probes and explanations never appear here as strategies.
"""

from __future__ import annotations

from dashboard.cache import clear_caches, set_caching, store_version
from dashboard.connection import StoreBusy, StoreMissing
from dashboard.data.scope import (  # noqa: F401
    Filters, Scope, _selected, _judged_cte, _judged, ERROR_TYPES, CATEGORICAL, CONTINUOUS, PRIMARY_METRIC,
    HOLM_FAMILY, _PER_RUN, sets_by_size, default_dimension, default_scope,
)
from dashboard.data.sidebar import (  # noqa: F401
    filter_options, run_history, analysis_datasets, analysis_results,
)
from dashboard.data.overview import (  # noqa: F401
    scopes, scored_pairs, judged_dimensions, store_summary, datasets_table, scores_long, leaderboard,
    scored_metrics, ResultsMatrix, matrix_metrics, results_matrix, spend_by_model, MATRIX_DIMENSIONS,
)
from dashboard.data.comparison import (  # noqa: F401
    pair_counts, pairwise_significance, pair_labels, model_agreement, answered_labels, group_agreement,
    quality_and_cost, cost_quality,
)
from dashboard.data.dimensions import (  # noqa: F401
    cell_models, confusion, OUT_OF_SET, UNPARSED, class_pairs, per_class, valence_arousal, continuous_bias, bias_scores,
    intensity_levels, stated_confidence, calibration, circumplex,
)
from dashboard.data.ablations import (  # noqa: F401
    paired_with_baseline, prompt_blind_models, without_models, strategy_effects, strategy_failures, label_positions, position_bias, POSITION_COLUMNS,
)
from dashboard.data.gallery import (  # noqa: F401
    GalleryQuery, GalleryPage, gallery_labels, gallery_page, ContinuousGalleryQuery, continuous_gallery_page,
    ItemDetail, item_detail, CONTINUOUS_SORTS, GALLERY_SORTS, NORMALISED_RANGE,
)
from dashboard.data.runs import (  # noqa: F401
    runs_table, run_detail, run_batches, cache_savings,
)

__all__ = ["Filters", "Scope", "GalleryQuery", "ItemDetail", "StoreBusy", "StoreMissing", "ERROR_TYPES",
           "set_caching", "clear_caches", "store_version", "HOLM_FAMILY", "ResultsMatrix",
           "ContinuousGalleryQuery", "CONTINUOUS_SORTS"]
