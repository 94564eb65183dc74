-- Prompt caching: the part of input_tokens read from the vendor's prompt cache, and the part written to it
-- (Anthropic bills writes apart); batch mode: the vendor batch that answered a response (priced at the batch rate).
ALTER TABLE responses ADD COLUMN cached_input_tokens INTEGER;
ALTER TABLE responses ADD COLUMN cache_write_tokens INTEGER;
ALTER TABLE responses ADD COLUMN batch_id VARCHAR;
-- What prompt caching and batch pricing saved on this call: its price at the plain synchronous, uncached
-- rates minus cost_usd (null when the price is unknown).
ALTER TABLE responses ADD COLUMN saving_usd DOUBLE;

-- Vendor batches (batch mode), written before and after each submission so that a killed run never
-- submits the same requests twice and a rerun resumes polling and collects.
CREATE TABLE batches (
    batch_key          VARCHAR PRIMARY KEY,  -- ours, chosen before submission (also sent as batch metadata)
    provider_batch_id  VARCHAR,              -- the vendor's id; null until the vendor accepted it
    model              VARCHAR NOT NULL,     -- the model entry's name
    adapter            VARCHAR NOT NULL,
    model_id           VARCHAR,
    state              VARCHAR NOT NULL,     -- submitting | submitted | in_progress | ended | collected | failed | lost
    vendor_status      VARCHAR,              -- the vendor's own word (validating, in_progress, ended, JOB_STATE_...)
    n_requests         INTEGER,
    n_succeeded        INTEGER,
    n_errored          INTEGER,
    n_expired          INTEGER,
    n_bytes            BIGINT,
    worst_cost_usd     DOUBLE,               -- every request at max_tokens, at the batch price (for --max-cost)
    cost_usd           DOUBLE,               -- as collected
    requests           JSON,                 -- custom_id -> {request_hash, run_id, dataset, item_id, stage, sample_index}
    run_ids            VARCHAR[],
    message            VARCHAR,
    created_at         TIMESTAMP,
    updated_at         TIMESTAMP,
    collected_at       TIMESTAMP
);
