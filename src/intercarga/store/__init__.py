"""Storage: SQLAlchemy 2 (async) tables, Alembic migrations and repositories of domain aggregates.

SQLite (aiosqlite, WAL) is the embedded default; PostgreSQL (asyncpg) serves several nodes. The
same repository code runs on both. Nothing outside this package writes SQL.
"""

from intercarga.store.database import check_database, create_engine, database_unavailable
from intercarga.store.migrate import upgrade
from intercarga.store.repositories import Page, Store

__all__ = ["Page", "Store", "check_database", "create_engine", "database_unavailable", "upgrade"]
