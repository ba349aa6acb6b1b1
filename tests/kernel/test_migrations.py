"""Migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from advanced_alchemy.types import GUID, DateTimeUTC
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kernel.db import metadata
from kernel.migrate import pending


def _compare_type(context, inspected_column, metadata_column, inspected_type, metadata_type):  # type: ignore[no-untyped-def]
    # advanced-alchemy's GUID and DateTimeUTC are stored as the backend's native types (or NUMERIC/DATETIME on
    # SQLite), which reflection reports under other names; every other type is compared as usual.
    if isinstance(metadata_type, GUID | DateTimeUTC):
        return False
    return None


async def test_migrated_schema_matches_the_models(app) -> None:
    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": _compare_type})
        return compare_metadata(context, metadata)

    async with app.state.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert not await pending(app.state.db.engine)
