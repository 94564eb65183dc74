-- Core tables: what was asked of which model about which image, what it said, and how that was read.
CREATE TABLE datasets (
    dataset          VARCHAR PRIMARY KEY,
    loader           VARCHAR NOT NULL,     -- emotion6 | oasis | twitter1 | manifest | folder | import
    root             VARCHAR,              -- folder the item image paths are relative to
    taxonomy         VARCHAR,              -- label set of the categorical gold
    dimensions       VARCHAR[],            -- gold dimensions present
    scales           JSON,                 -- {"valence": [1, 9], ...} source scales
    manifest_sha256  VARCHAR,              -- hash over (item_id, image sha256, gold) of every item
    n_items          INTEGER,
    meta             JSON,
    created_at       TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE images (
    image_sha256  VARCHAR PRIMARY KEY,     -- content address: the same bytes are stored and sent once
    format        VARCHAR,
    width         INTEGER,
    height        INTEGER,
    mode          VARCHAR,
    n_bytes       BIGINT,
    brightness    DOUBLE,                  -- mean luminance in [0, 1]
    saturation    DOUBLE,                  -- mean HSV saturation in [0, 1]
    colorfulness  DOUBLE                   -- Hasler & Suesstrunk (2003)
);

CREATE TABLE items (
    dataset       VARCHAR NOT NULL,
    item_id       VARCHAR NOT NULL,
    image_sha256  VARCHAR,                 -- null for imported predictions without images
    image_path    VARCHAR,                 -- relative to datasets.root
    split         VARCHAR,                 -- train | test | ... (null when the dataset has none)
    meta          JSON,                    -- slice metadata: category, keyword folder, agreement, ...
    PRIMARY KEY (dataset, item_id)
);

CREATE TABLE gold (
    dataset       VARCHAR NOT NULL,
    item_id       VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,        -- polarity | emotion | intensity | valence | arousal | distribution
    label         VARCHAR,                 -- normalised categorical label; null when tied
    labels        VARCHAR[],               -- all majority labels (ties kept explicit)
    value         DOUBLE,                  -- continuous gold on the source scale
    value_norm    DOUBLE,                  -- valence in [-1, 1]; arousal and intensity in [0, 1]
    sd            DOUBLE,
    n_raters      INTEGER,
    scale_low     DOUBLE,
    scale_high    DOUBLE,
    distribution  JSON,                    -- {label: share} over the taxonomy
    taxonomy      VARCHAR,
    PRIMARY KEY (dataset, item_id, dimension)
);

CREATE TABLE runs (
    run_id             VARCHAR PRIMARY KEY, -- hash of everything that decides the answers
    experiment         VARCHAR,
    dataset            VARCHAR NOT NULL,
    model              VARCHAR NOT NULL,    -- the user's name for the model entry
    adapter            VARCHAR NOT NULL,
    model_id           VARCHAR,             -- as configured
    model_id_resolved  VARCHAR,             -- as the provider reported it
    strategy           VARCHAR NOT NULL,
    dimensions         VARCHAR[],
    taxonomy           VARCHAR,
    prompt_hash        VARCHAR,
    parser_version     VARCHAR,
    config             JSON,                -- the run's full settings, secrets removed
    provenance         JSON,                -- git commit, dirty flag, package versions, seed, manifest hash
    status             VARCHAR,             -- running | complete | stopped | failed
    n_items            INTEGER,
    started_at         TIMESTAMP,
    finished_at        TIMESTAMP
);

CREATE TABLE responses (
    response_id        VARCHAR PRIMARY KEY,
    run_id             VARCHAR NOT NULL,
    dataset            VARCHAR NOT NULL,
    item_id            VARCHAR NOT NULL,
    sample_index       INTEGER DEFAULT 0,  -- self-consistency sample
    stage              VARCHAR DEFAULT 'answer', -- answer | describe | judge | probe:...
    request_hash       VARCHAR,            -- adapter + model + settings + prompt + image sha256
    status             VARCHAR NOT NULL,   -- ok | refused | error
    error_class        VARCHAR,            -- rate_limit | server | timeout | refusal | bad_request | auth | connection | image
    error_message      VARCHAR,
    text               VARCHAR,
    raw_request        JSON,               -- secrets removed; images replaced by their sha256
    raw_response       JSON,
    model_id_resolved  VARCHAR,
    input_tokens       INTEGER,
    output_tokens      INTEGER,
    cost_usd           DOUBLE,
    latency_ms         DOUBLE,
    attempts           INTEGER,
    cached             BOOLEAN DEFAULT false,
    created_at         TIMESTAMP DEFAULT current_timestamp
);

CREATE TABLE predictions (
    run_id          VARCHAR NOT NULL,
    dataset         VARCHAR NOT NULL,
    item_id         VARCHAR NOT NULL,
    dimension       VARCHAR NOT NULL,
    label           VARCHAR,               -- normalised label (categorical dimensions)
    raw_label       VARCHAR,               -- the words the answer used
    ranking         VARCHAR[],             -- best first, normalised; unknown words kept as null
    value           DOUBLE,                -- continuous answer on the run's scale
    value_norm      DOUBLE,
    distribution    JSON,
    confidence      DOUBLE,                -- stated confidence in [0, 1]
    status          VARCHAR NOT NULL,      -- ok | partial | failed | refused | error
    span            VARCHAR,               -- the text the value came from
    method          VARCHAR,               -- rule | judge | vote | import | baseline
    parser_version  VARCHAR,
    response_id     VARCHAR,
    agreement       DOUBLE,                -- self-consistency: share of samples that agree
    PRIMARY KEY (run_id, item_id, dimension)
);

CREATE TABLE traces (
    run_id       VARCHAR NOT NULL,
    item_id      VARCHAR NOT NULL,
    response_id  VARCHAR,
    steps        VARCHAR[],                -- reasoning split into steps
    scene        JSON,                     -- scene decomposition fields
    thinking     VARCHAR,                  -- a reasoning model's thinking block
    PRIMARY KEY (run_id, item_id)
);

CREATE INDEX responses_request ON responses (request_hash);
CREATE INDEX responses_run_item ON responses (run_id, item_id);
