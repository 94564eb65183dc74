-- Saliency maps (occlusion, attention) per item and model, and reasoning-cue annotations per trace.
CREATE TABLE explanations (
    dataset      VARCHAR NOT NULL,
    item_id      VARCHAR NOT NULL,
    model        VARCHAR NOT NULL,
    strategy     VARCHAR NOT NULL,
    method       VARCHAR NOT NULL,          -- occlusion | attention
    measure      VARCHAR,                   -- what a cell's value is: valence drop, probability drop, label flip, attention share
    grid_rows    INTEGER NOT NULL,
    grid_cols    INTEGER NOT NULL,
    cell_values  DOUBLE[] NOT NULL,         -- row-major, grid_rows * grid_cols
    run_id       VARCHAR,
    meta         JSON,
    created_at   TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (dataset, item_id, model, strategy, method)
);
