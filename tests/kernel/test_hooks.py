"""After-commit hooks: callbacks run once the transaction commits, never after a rollback."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from kernel import hooks


def test_callbacks_run_at_commit_in_order_and_once() -> None:
    ran: list[str] = []
    with Session(create_engine("sqlite://")) as session:
        hooks.after_commit(session, lambda: ran.append("first"))
        hooks.after_commit(session, lambda: ran.append("second"))
        assert ran == []
        session.commit()
        session.commit()
    assert ran == ["first", "second"]


def test_a_rollback_forgets_the_callbacks() -> None:
    ran: list[str] = []
    with Session(create_engine("sqlite://")) as session:
        session.execute(text("select 1"))
        hooks.after_commit(session, lambda: ran.append("lost"))
        session.rollback()
        session.commit()
    assert ran == []


def test_collected_items_arrive_as_one_batch_per_transaction() -> None:
    batches: list[list[int]] = []
    with Session(create_engine("sqlite://")) as session:
        for n in (1, 2, 3):
            hooks.collect(session, "numbers", n, batches.append)
        session.commit()
        session.execute(text("select 1"))
        hooks.collect(session, "numbers", 4, batches.append)
        session.rollback()
        hooks.collect(session, "numbers", 5, batches.append)
        session.commit()
    assert batches == [[1, 2, 3], [5]]
