"""Accounts through the public API: sign-up, sign-in, tokens, sign-out, limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from httpx import AsyncClient

from app import create_app
from kernel.clock import FixedClock
from tests.clients import asgi_client
from tests.factories import PASSWORD, bearer, login, signup, unique_email


async def test_signup_then_login_then_me(client: AsyncClient) -> None:
    user = await signup(client, ["influencer", "seller"], display_name="Ava")
    assert user["roles"] == ["buyer", "influencer", "seller"]  # every account may buy
    token = await login(client, user["email"])
    me = await client.get("/api/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "id": user["id"],
        "email": user["email"],
        "display_name": "Ava",
        "roles": ["buyer", "influencer", "seller"],
    }


async def test_login_sets_an_httponly_session_cookie_that_authenticates(client: AsyncClient) -> None:
    user = await signup(client)
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    set_cookie = response.headers["set-cookie"]
    assert "lc_session=" in set_cookie and "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie
    assert (await client.get("/api/me")).json()["email"] == user["email"]


async def test_email_is_case_insensitive_and_unique(client: AsyncClient) -> None:
    email = unique_email()
    await signup(client, email=email)
    response = await client.post(
        "/api/auth/signup",
        json={"email": email.upper(), "password": PASSWORD, "display_name": "Dup", "roles": ["buyer"]},
    )
    assert response.status_code == 409
    assert response.json()["type"] == "/problems/email_taken"
    assert await login(client, email.upper())


async def test_wrong_password_and_unknown_email_get_the_same_401(client: AsyncClient) -> None:
    user = await signup(client)
    wrong = await client.post("/api/auth/login", json={"email": user["email"], "password": "not the password"})
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.test", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert {k: v for k, v in wrong.json().items()} == unknown.json()


async def test_signup_cannot_grant_admin_or_marketer(client: AsyncClient) -> None:
    for role in ("admin", "marketer"):
        response = await client.post(
            "/api/auth/signup",
            json={"email": unique_email(), "password": PASSWORD, "display_name": "Sneaky", "roles": ["buyer", role]},
        )
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "/problems/role_not_self_service"
        assert response.json()["errors"][0]["field"] == "roles"
    assert (
        await client.post("/api/auth/login", json={"email": "x@example.test", "password": PASSWORD})
    ).status_code == 401


async def test_validation_errors_are_problems_naming_the_field(client: AsyncClient) -> None:
    cases = {
        "email": {"email": "not-an-email", "password": PASSWORD, "display_name": "A"},
        "password": {"email": unique_email(), "password": "short", "display_name": "A"},
        "display_name": {"email": unique_email(), "password": PASSWORD, "display_name": ""},
        "nickname": {"email": unique_email(), "password": PASSWORD, "display_name": "A", "nickname": "x"},
    }
    for field, body in cases.items():
        response = await client.post("/api/auth/signup", json=body)
        assert response.status_code == 400, (field, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {"type", "title", "status", "detail"} <= problem.keys()
        assert [e["field"] for e in problem["errors"]] == [field], problem


async def test_malformed_json_is_400_problem(client: AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_token_stops_working_after_logout(client: AsyncClient) -> None:
    user = await signup(client)
    token = await login(client, user["email"])
    other_token = await login(client, user["email"])
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
    # Only that session ends: the account's other sign-in still works.
    assert (await client.get("/api/me", headers=bearer(other_token))).status_code == 200


async def test_token_expires_after_the_session_ttl(client: AsyncClient, clock: FixedClock) -> None:
    user = await signup(client)
    token = await login(client, user["email"])
    clock.advance(timedelta(days=90, seconds=1))
    response = await client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["status"] == 401


async def test_me_without_credentials_is_401(client: AsyncClient) -> None:
    assert (await client.get("/api/me")).status_code == 401
    assert (await client.get("/api/me", headers=bearer("forged"))).status_code == 401


async def test_repeated_logins_get_429_with_retry_after(make_settings: Callable, clock: FixedClock) -> None:
    app = create_app(make_settings(LIVECOMMERCE_LOGIN_RATE="3/minute"), clock=clock)
    async with asgi_client(app) as client:
        statuses = []
        for _ in range(5):
            response = await client.post("/api/auth/login", json={"email": "a@example.test", "password": "wrongwrong"})
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429, 429]
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["status"] == 429


async def test_signup_is_rate_limited(make_settings: Callable, clock: FixedClock) -> None:
    app = create_app(make_settings(LIVECOMMERCE_SIGNUP_RATE="2/minute"), clock=clock)
    async with asgi_client(app) as client:
        await signup(client)
        await signup(client)
        response = await client.post(
            "/api/auth/signup",
            json={"email": unique_email(), "password": PASSWORD, "display_name": "Third", "roles": ["buyer"]},
        )
        assert response.status_code == 429
        assert "retry-after" in response.headers


async def test_password_is_stored_as_argon2id_hash(client: AsyncClient, app) -> None:
    from sqlalchemy import select

    from kernel.auth.models import User

    user = await signup(client)
    async with app.state.db.transaction() as session:
        stored = await session.scalar(select(User.password_hash).where(User.email == user["email"]))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
