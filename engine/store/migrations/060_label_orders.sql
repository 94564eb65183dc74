-- The candidate-label order each prompt presented (prompt option shuffle_labels), so position bias
-- can be measured: e.g. accuracy or answer share by the position the gold or chosen label was shown at.
CREATE TABLE label_orders (
    run_id     VARCHAR NOT NULL,
    dataset    VARCHAR NOT NULL,
    item_id    VARCHAR NOT NULL,
    label_set  VARCHAR NOT NULL,           -- emotion (also ranking, distribution) | polarity
    labels     VARCHAR[] NOT NULL,         -- as presented; position 1 is labels[1]
    shuffled   BOOLEAN NOT NULL,           -- false: the taxonomy's own order
    PRIMARY KEY (run_id, item_id, label_set)
);
