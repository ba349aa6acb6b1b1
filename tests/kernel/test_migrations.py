"""Migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kernel.db import metadata
from kernel.migrate import compare_type, pending


async def test_migrated_schema_matches_the_models(app) -> None:
    def diff(connection) -> list:  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
        return compare_metadata(context, metadata)

    async with app.state.db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
    assert not await pending(app.state.db.engine)


def test_migrations_go_down_and_up_again(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    from kernel.migrate import alembic_config, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/updown.db"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    upgrade(url)
