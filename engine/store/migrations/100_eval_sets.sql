-- Which answers a number is about: evaluation sets, run purposes, per-item outcomes, scored groups.
--
-- An evaluation set is the fixed list of items a run evaluates. Its id is content-addressed:
-- 'es-' + the first 12 hex digits of md5(dataset, newline, the sorted item ids joined by newlines),
-- so two runs over the same items share it whatever drew them (engine.runner.evalsets.eval_set_id).
CREATE TABLE eval_sets (
    eval_set    VARCHAR PRIMARY KEY,
    dataset     VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,          -- readable: "emotion6 · test · first 150"
    n_items     INTEGER NOT NULL,
    rule        JSON,                      -- how it was drawn: split, items, limit, training pool, manifest hash
    created_at  TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE eval_set_items (
    eval_set  VARCHAR NOT NULL,
    item_id   VARCHAR NOT NULL,
    PRIMARY KEY (eval_set, item_id)
);

-- benchmark (experiments, demo, imports) | analysis (sidebar, ad hoc) | probe (perturbations) | explain (occlusion)
ALTER TABLE runs ADD COLUMN purpose VARCHAR DEFAULT 'benchmark';
ALTER TABLE runs ADD COLUMN eval_set VARCHAR;
UPDATE runs SET purpose = 'benchmark' WHERE purpose IS NULL;
UPDATE runs SET purpose = 'explain' WHERE strategy LIKE '%+occlusion%';
UPDATE runs SET purpose = 'probe'
WHERE purpose = 'benchmark' AND regexp_matches(strategy, '\+(grayscale|brighter|darker|hue-shift|blur|no-centre|corner-crop)$');

-- Runs stored before evaluation sets existed: their set is the items they hold a prediction for.
INSERT OR IGNORE INTO eval_sets (eval_set, dataset, name, n_items, rule)
SELECT DISTINCT 'es-' || substr(md5(dataset || chr(10) || string_agg(item_id, chr(10) ORDER BY item_id)), 1, 12),
       dataset, dataset || ' · ' || count(*) || ' items (stored before evaluation sets)', count(*),
       '{"source": "legacy: the items a run has predictions for"}'
FROM (SELECT DISTINCT p.run_id, p.dataset, p.item_id FROM predictions p JOIN runs r USING (run_id)
      WHERE r.eval_set IS NULL)
GROUP BY run_id, dataset;

UPDATE runs SET eval_set = legacy.eval_set
FROM (SELECT run_id, 'es-' || substr(md5(dataset || chr(10) || string_agg(item_id, chr(10) ORDER BY item_id)), 1, 12)
             AS eval_set
      FROM (SELECT DISTINCT run_id, dataset, item_id FROM predictions) GROUP BY run_id, dataset) legacy
WHERE runs.run_id = legacy.run_id AND runs.eval_set IS NULL;

INSERT OR IGNORE INTO eval_set_items (eval_set, item_id)
SELECT DISTINCT r.eval_set, p.item_id FROM predictions p JOIN runs r USING (run_id) WHERE r.eval_set IS NOT NULL;

-- One row per scored group: a run's answers on one dimension over its evaluation set. `current` marks
-- the run that stands for its comparison cell (dataset, eval_set, model, strategy, dimension, purpose):
-- the newest complete run, else the newest (engine.metrics.cells.pick_current, the one rule).
CREATE TABLE evaluations (
    run_id       VARCHAR NOT NULL,
    dimension    VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    eval_set     VARCHAR,
    model        VARCHAR NOT NULL,
    strategy     VARCHAR NOT NULL,
    purpose      VARCHAR NOT NULL,
    derived      VARCHAR,                  -- null | 'polarity from emotion' (whole group) | 'some values' (see n_derived)
    n_derived    INTEGER,                  -- answered values the parser derived rather than read
    taxonomy     VARCHAR,
    n_total      INTEGER NOT NULL,         -- items of the evaluation set
    n_answered   INTEGER NOT NULL,         -- items with a usable answer
    scale_low    DOUBLE,                   -- continuous: the dataset's own scale
    scale_high   DOUBLE,
    notes        VARCHAR,
    current      BOOLEAN DEFAULT false,
    computed_at  TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (run_id, dimension)
);

-- Per item and scored group, written once by the scorer; every page and export aggregates these rows.
CREATE TABLE outcomes (
    run_id       VARCHAR NOT NULL,
    dimension    VARCHAR NOT NULL,
    item_id      VARCHAR NOT NULL,
    dataset      VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,         -- ok | partial | failed | refused | error | abstained | missing
    outcome      VARCHAR NOT NULL,         -- correct | wrong | scored | unanswered
    answered     BOOLEAN NOT NULL,
    correct      BOOLEAN,                  -- categorical: answered and a gold label (unanswered: false)
    credit       DOUBLE,                   -- categorical: 1, or 1/k for one of k tied gold labels; 0 otherwise
    answer       VARCHAR,                  -- normalised answer label
    gold         VARCHAR,                  -- gold label; tied labels joined with ' | '
    confidence   DOUBLE,
    value        DOUBLE,                   -- continuous: answer, normalised (valence [-1, 1], others [0, 1])
    gold_value   DOUBLE,
    error        DOUBLE,                   -- value - gold_value, normalised
    error_scale  DOUBLE,                   -- the same on the dataset's own scale
    derived      BOOLEAN,                  -- the value was derived (polarity from an emotion word)
    PRIMARY KEY (run_id, dimension, item_id)
);

ALTER TABLE scores ADD COLUMN eval_set VARCHAR;
ALTER TABLE scores ADD COLUMN purpose VARCHAR;
ALTER TABLE scores ADD COLUMN derived VARCHAR;
ALTER TABLE scores ADD COLUMN ci_method VARCHAR;   -- bootstrap | wilson (where the bootstrap degenerates)
ALTER TABLE scores ADD COLUMN unit VARCHAR;        -- for values on a dataset's own scale, e.g. "1–9"
DELETE FROM scores;                                 -- recomputed by the next refresh with the new columns
