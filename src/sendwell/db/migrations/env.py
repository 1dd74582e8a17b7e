"""Alembic environment: always driven from sendwell.db.migrate with a live connection."""

from alembic import context

from sendwell.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic revision --autogenerate` from a developer's shell
    from sendwell.config import load_settings
    from sendwell.db.engine import make_engine

    connection = make_engine(load_settings().database.url).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
