-- One map per measure: attention "mean" and "rollout" maps of the same item and model live side by side.
CREATE TABLE explanations_by_measure (
    dataset      VARCHAR NOT NULL,
    item_id      VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    strategy     VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,          -- occlusion | attention
    measure      VARCHAR NOT NULL,          -- valence_change, probability_drop, rank_drop, label_flip, attention_mean, attention_rollout
    grid_rows    INTEGER NOT NULL,
    grid_cols    INTEGER NOT NULL,
    cell_values  DOUBLE[] NOT NULL,         -- row-major, grid_rows * grid_cols; null = no data for that cell
    run_id       VARCHAR,
    meta         JSON,                      -- grid, fill, cells asked, intact answer; attention: aggregate, answer
    created_at   TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (dataset, item_id, model, strategy, method, measure)
);
INSERT INTO explanations_by_measure
SELECT dataset, item_id, model, strategy, method, coalesce(measure, method), grid_rows, grid_cols, cell_values,
       run_id, meta, created_at
FROM explanations;
DROP TABLE explanations;
ALTER TABLE explanations_by_measure RENAME TO explanations;
