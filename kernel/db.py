"""The database: one engine per process, sessions for requests and for background work.

SQLite (the embedded default) gets ``BEGIN IMMEDIATE`` on every transaction that may write: with SQLite's default
deferred transactions, concurrent read-then-write requests fail to upgrade to the write lock. Requests that only
read (GET and HEAD, unless their handler says ``opt={"writes": True}``) begin DEFERRED instead, so they neither
wait for nor hold the one write lock (WAL lets them read beside a writer). PostgreSQL gets pre-ping and a command
timeout so a dropped network fails fast instead of hanging a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Annotated

from advanced_alchemy.base import orm_registry
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy import JSON, BigInteger, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout  # every pooled connection busy for pool_timeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import mapped_column

from kernel.settings import DbSettings

metadata = orm_registry.metadata
# Amounts in minor units are 64-bit: the API takes unit prices up to 10^10, and baskets and sums pass 2^31.
MinorUnits = Annotated[int, mapped_column(BigInteger)]
# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")

SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_METHODS = frozenset({"GET", "HEAD"})
_read_only: ContextVar[bool] = ContextVar("livecommerce_read_only_request", default=False)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(settings: DbSettings) -> AsyncEngine:
    """An engine for ``settings.url`` with the per-backend safety settings described above."""
    if is_sqlite(settings.url):
        engine = create_async_engine(settings.url, echo=settings.echo)
        _make_sqlite_transactions_immediate(engine)
        return engine
    return create_async_engine(
        settings.url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        pool_timeout=10,
        connect_args={"command_timeout": 30, "timeout": 5},
    )


def _make_sqlite_transactions_immediate(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Take transaction control away from the driver so the "begin" hook below decides how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")


class ReadOnlyRequests:
    """Marks GET and HEAD requests as reading only (see the module's note), but for handlers with opt "writes"."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        reads = (
            scope["type"] == "http"
            and scope.get("method") in READ_METHODS
            and not (handler is not None and handler.opt.get("writes"))
        )
        if not reads:
            await self.app(scope, receive, send)
            return
        token = _read_only.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            _read_only.reset(token)


class Database:
    """The process's engine and session factory, kept in app state."""

    def __init__(self, settings: DbSettings) -> None:
        self.url = settings.url
        self.engine = create_engine(settings)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction, committed on success and rolled back on error (jobs, CLI, listeners).

        Such work may write even when a GET request set it off (a task inherits the request's context): it always
        begins as a writer.
        """
        token = _read_only.set(False)
        try:
            async with self.sessionmaker() as session, session.begin():
                yield session
        finally:
            _read_only.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()


# SQLSTATEs of a database that cannot serve for now: connection exceptions (class 08), a server shutting down,
# crashed or starting up (57P01-57P03: "the database system is shutting down / starting up"), too many connections.
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve for now (down, restarting, unreachable, every connection
    busy): a retry later may succeed, so requests answer 503 and jobs wait for their next round."""
    # OSError: asyncpg raises ConnectionRefusedError and friends unwrapped; OperationalError: lost connections,
    # SQLite's "database is locked".
    if isinstance(exc, PoolTimeout | OSError | OperationalError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if getattr(exc, "connection_invalidated", False):
        return True
    state = _sqlstate(exc)
    return state is not None and state.startswith(_UNAVAILABLE_STATES)


def outage_summary(exc: BaseException) -> str:
    """One line saying what the outage was, for a warning (a timeout's message may be empty)."""
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def _sqlstate(exc: BaseException) -> str | None:
    """The driver's SQLSTATE, from SQLAlchemy's wrapper, its adapted error or the asyncpg error beneath."""
    error: BaseException | None = exc
    for _ in range(3):
        error = getattr(error, "orig", None) or (error.__cause__ if error is not None else None)
        if state := getattr(error, "sqlstate", None):
            return str(state)
    return None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own ``%``, ``_`` and ``\\`` taken literally: use it with
    ``escape="\\"``, so a search for ``50%`` does not match everything."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
