"""Storage: the schema, the engine (SQLite WAL or PostgreSQL) and Alembic migrations."""
