"""The DuckDB results store: migrations, short-lived connections, bulk writes and typed reads."""

from engine.store.db import (DEFAULT_DB, StoreLockedError, connect, default_db_path, migrate, migrations,
                             schema_version, transaction, upsert)

__all__ = ["DEFAULT_DB", "StoreLockedError", "connect", "default_db_path", "migrate", "migrations",
           "schema_version", "transaction", "upsert"]
