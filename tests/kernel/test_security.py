"""HTTP hardening seen from outside: headers, CSRF, body limits, escaping."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.factories import PASSWORD, bearer, login, signup

HTML = {"accept": "text/html"}


@pytest.mark.parametrize("path", ["/", "/api/me", "/static/css/app.css", "/no/such/page", "/signin"])
async def test_security_headers_on_every_kind_of_response(client: AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"]


async def test_body_over_the_limit_gets_413_and_creates_nothing(client: AsyncClient) -> None:
    huge = {"email": "big@example.test", "password": PASSWORD, "display_name": "x" * (2 * 1024 * 1024)}
    response = await client.post("/api/auth/signup", json=huge)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (
        await client.post("/api/auth/login", json={"email": "big@example.test", "password": PASSWORD})
    ).status_code == 401


def _csrf_from(page: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


async def test_sign_in_form_needs_the_csrf_token(client: AsyncClient) -> None:
    user = await signup(client)
    page = await client.get("/signin", headers=HTML)
    form = {"email": user["email"], "password": PASSWORD, "next": "/"}
    refused = await client.post("/signin", data=form, headers=HTML)
    assert refused.status_code == 403
    accepted = await client.post(
        "/signin", data={**form, "_csrf_token": _csrf_from(page.text)}, headers=HTML, follow_redirects=False
    )
    assert accepted.status_code == 303
    assert "lc_session=" in accepted.headers["set-cookie"]


async def test_cookie_session_needs_csrf_header_but_bearer_does_not(client: AsyncClient) -> None:
    user = await signup(client)
    await client.get("/signin")  # issues the CSRF cookie
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200  # no session cookie yet and JSON: nothing to forge
    # Now a session cookie rides along: a cookie-authenticated POST without the token is refused.
    assert (await client.post("/api/auth/logout")).status_code == 403
    assert (await client.get("/api/me")).status_code == 200  # still signed in
    token = await login(client, user["email"])  # clears cookies
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204


async def test_a_request_naming_bearer_auth_is_authenticated_by_the_bearer_alone(client: AsyncClient) -> None:
    user = await signup(client)
    await client.get("/signin")  # issues the CSRF cookie
    signed_in = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert signed_in.status_code == 200
    for empty in ("Bearer ", "Bearer", "bearer    "):
        # An empty bearer must neither skip the CSRF check nor fall back to the session cookie.
        assert (await client.get("/api/me", headers={"authorization": empty})).status_code == 401
        assert (await client.post("/api/auth/logout", headers={"authorization": empty})).status_code in (401, 403)
    assert (await client.get("/api/me")).status_code == 200  # the cookie session itself is untouched


async def test_private_answers_are_never_stored_by_caches(client: AsyncClient) -> None:
    user = await signup(client)
    token = await login(client, user["email"])
    for path in ("/api/me", "/api/shop/orders", "/api/shop/cart"):
        response = await client.get(path, headers=bearer(token))
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store", path
    anonymous = await client.get("/api/shop/products")
    assert "no-store" not in anonymous.headers.get("cache-control", "")


async def test_sign_in_redirect_never_leaves_the_site(client: AsyncClient) -> None:
    user = await signup(client)
    page = await client.get("/signin?next=//evil.example/", headers=HTML)
    assert "evil.example" not in page.text
    form = {
        "email": user["email"],
        "password": PASSWORD,
        "next": "https://evil.example/",
        "_csrf_token": _csrf_from(page.text),
    }
    response = await client.post("/signin", data=form, headers=HTML, follow_redirects=False)
    assert response.headers["location"] == "/"


async def test_html_errors_escape_what_the_client_sent(client: AsyncClient) -> None:
    response = await client.get("/signin?next=/%3Cscript%3Ealert(1)%3C/script%3E", headers=HTML)
    assert "<script>alert(1)" not in response.text
    missing = await client.get("/%3Cscript%3Ealert(1)%3C/script%3E", headers=HTML)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in missing.text
