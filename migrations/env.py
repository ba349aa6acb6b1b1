"""Alembic environment: one schema for SQLite and PostgreSQL, built from every domain's models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import community.models  # noqa: F401  (each models import registers its tables on the shared metadata)
import kernel.auth.models
import kernel.jobs  # noqa: F401  (the job-run table)
import live.models  # noqa: F401
import shop.models  # noqa: F401
from kernel.db import metadata
from kernel.migrate import compare_type
from kernel.settings import load_settings

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or load_settings().db.url


def _configure(connection=None, url=None) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        url=url,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=compare_type,
    )


def run_offline() -> None:
    _configure(url=_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection) -> None:  # type: ignore[no-untyped-def]
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    engine = create_async_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
    await engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    asyncio.run(run_online())
