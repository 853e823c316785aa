"""The names of the store's migrations, known without loading sqlite-utils.

Opening the store checks these against `_sqlite_migrations`; only a store that
lacks one loads `scanner.store.migrations` (a test keeps the two lists equal).
"""

SCHEMA = ("m001_http_cache_and_scans", "m002_history", "m003_cache_generation")
