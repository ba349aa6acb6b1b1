"""The `livecommerce` command, run as an operator would."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from demo import DEMO_ACCOUNTS, DEMO_POSTS, DEMO_PRODUCTS, DEMO_ROOMS
from kernel.settings import load_settings
from tests.clients import asgi_client
from tests.conftest import TEST_SECRET


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        "LIVECOMMERCE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "LIVECOMMERCE_SECRET_KEY": TEST_SECRET,
        "LIVECOMMERCE_LOG_LEVEL": "WARNING",
    }


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_users_create_is_the_way_to_make_admins_and_marketers(env: dict[str, str]) -> None:
    result = run(
        env,
        "users",
        "create",
        "--email",
        "Ops@Example.test",
        "--password",
        "long enough pw",
        "--role",
        "admin",
        "--role",
        "marketer",
        "--name",
        "Ops",
    )
    assert result.exit_code == 0, result.output
    assert "ops@example.test (admin, buyer, marketer)" in result.output
    again = run(
        env,
        "users",
        "create",
        "--email",
        "ops@example.test",
        "--password",
        "long enough pw",
        "--role",
        "buyer",
        "--name",
        "Ops",
    )
    assert again.exit_code == 1 and "An account with this email exists" in again.output


def test_users_create_refuses_short_passwords_and_unknown_roles(env: dict[str, str]) -> None:
    assert (
        run(
            env, "users", "create", "--email", "a@b.test", "--password", "short", "--role", "admin", "--name", "A"
        ).exit_code
        == 2
    )
    assert (
        run(
            env,
            "users",
            "create",
            "--email",
            "a@b.test",
            "--password",
            "long enough pw",
            "--role",
            "root",
            "--name",
            "A",
        ).exit_code
        == 2
    )


def test_demo_load_is_idempotent_and_prints_the_sign_ins(env: dict[str, str]) -> None:
    first = run(env, "demo", "load")
    assert first.exit_code == 0, first.output
    assert f"({len(DEMO_ACCOUNTS)} new accounts)" in first.output
    second = run(env, "demo", "load")
    assert "(0 new accounts)" in second.output
    for account in DEMO_ACCOUNTS:
        assert account.email in second.output
    assert asyncio.run(_fan_zone(env)) == (
        len(DEMO_PRODUCTS),
        {title for _, title, *_ in DEMO_POSTS},
        {title for _, title, *_ in DEMO_ROOMS},
    )


async def _fan_zone(env: dict[str, str]) -> tuple[int, set[str], set[str]]:
    """What a visitor of the demo sees: the catalog, the creators' posts and their upcoming shows (once each)."""
    app = create_app(load_settings(env))
    try:
        async with asgi_client(app) as client:
            products = (await client.get("/api/shop/products?limit=100")).json()["items"]
            feed = (await client.get("/api/community/feed?limit=50")).json()
    finally:
        await app.state.db.dispose()
    posts = [item["title"] for item in feed["items"] if item["kind"] == "post"]
    rooms = [room["title"] for room in feed["upcoming"]]
    assert len(posts) == len(set(posts)) and len(rooms) == len(set(rooms))
    # Every demo product has its two drawn pictures, once however often the demo is loaded.
    assert [len(p["images"]) for p in products] == [2] * len(products)
    assert all(p["thumbnail_url"].endswith("-thumb.webp") for p in products)
    return len(products), set(posts), set(rooms)


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"LIVECOMMERCE_DATA_DIR": str(tmp_path), "LIVECOMMERCE_SECRET_KEY": TEST_SECRET}
    result = run(env, "serve", "--port", "1")
    assert result.exit_code == 1
    assert "livecommerce db upgrade" in result.output


def test_bad_settings_say_what_to_fix(tmp_path: Path) -> None:
    result = run({"LIVECOMMERCE_DATA_DIR": str(tmp_path), "LIVECOMMERCE_SHIP_BY": "soon"}, "demo", "load")
    assert result.exit_code == 1
    assert "LIVECOMMERCE_SHIP_BY" in result.output


def test_categories_set_changes_the_commission_and_refuses_bad_rates(env: dict[str, str]) -> None:
    assert (
        run(env, "categories", "set", "--slug", "fashion", "--name", "Fashion", "--commission-bps", "650").exit_code
        == 0
    )
    listing = run(env, "categories", "list").output
    assert "fashion" in listing and "6.50 %" in listing
    assert run(env, "categories", "set", "--slug", "x", "--name", "X", "--commission-bps", "9000").exit_code == 2
    assert run(env, "categories", "set", "--slug", "Bad Slug", "--name", "X", "--commission-bps", "100").exit_code == 2


def test_payouts_run_reports_what_it_paid(env: dict[str, str]) -> None:
    result = run(env, "payouts", "run")
    assert result.exit_code == 0, result.output
    assert "Paid 0 balances" in result.output
