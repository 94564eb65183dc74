"""The DuckDB results store: migrations, short-lived connections, bulk writes and typed reads.

Every SQL string of the engine lives in this package, as named queries grouped by concern: `queries`
(the current scores), `datasets` (datasets, items, gold), `runs` (runs, responses, predictions kept per
run), `scoring` (what scoring reads and writes), `explanations` (saliency maps, reasoning traces),
`batches` (provider batch jobs), `evalsets`, `writes` (bulk writes) and `merge`. Callers open a
connection with `connect` and group writes with `transaction`.
"""

from engine.store.db import (DEFAULT_DB, StoreLockedError, connect, default_db_path, migrate, migrations,
                             schema_version, transaction, upsert)

__all__ = ["DEFAULT_DB", "StoreLockedError", "connect", "default_db_path", "migrate", "migrations",
           "schema_version", "transaction", "upsert"]
