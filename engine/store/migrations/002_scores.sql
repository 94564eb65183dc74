-- Materialised scores, recomputed after every run or import so the dashboard reads them in milliseconds.
CREATE TABLE scores (
    dataset    VARCHAR NOT NULL,
    model      VARCHAR NOT NULL,
    strategy   VARCHAR NOT NULL,
    dimension  VARCHAR NOT NULL,
    metric     VARCHAR NOT NULL,
    value      DOUBLE,
    n          INTEGER,                    -- items the metric was computed over
    n_total    INTEGER,                    -- items in the evaluated set
    ci_low     DOUBLE,
    ci_high    DOUBLE,
    run_id     VARCHAR,
    note       VARCHAR,                    -- why a value is NaN, where it is
    computed_at TIMESTAMP DEFAULT current_timestamp
);
