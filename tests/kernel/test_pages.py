"""The sign-up and sign-in pages as a browser without JavaScript, and as htmx, would use them."""

from __future__ import annotations

import re

from httpx import AsyncClient

from tests.factories import PASSWORD, signup, unique_email

HTML = {"accept": "text/html"}
HTMX = {**HTML, "hx-request": "true"}


async def _form_token(client: AsyncClient, path: str) -> str:
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200
    return re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)


async def test_sign_up_form_creates_the_account_and_signs_in(client: AsyncClient) -> None:
    token = await _form_token(client, "/signup")
    email = unique_email()
    form = {
        "display_name": "Nova",
        "email": email,
        "password": PASSWORD,
        "roles": ["buyer", "seller"],
        "_csrf_token": token,
    }
    response = await client.post("/signup", data=form, headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = await client.get("/", headers=HTML)
    assert 'data-testid="signed-in-as">Nova<' in home.text
    account = await client.get("/account", headers=HTML)
    assert 'data-role="seller"' in account.text and 'data-role="buyer"' in account.text


async def test_sign_up_form_ignores_privileged_roles(client: AsyncClient) -> None:
    token = await _form_token(client, "/signup")
    form = {
        "display_name": "Eve",
        "email": unique_email(),
        "password": PASSWORD,
        "roles": ["admin"],
        "_csrf_token": token,
    }
    await client.post("/signup", data=form, headers=HTML)
    account = await client.get("/account", headers=HTML)
    assert 'data-role="admin"' not in account.text and 'data-role="buyer"' in account.text


async def test_htmx_sign_in_with_wrong_password_swaps_in_the_form_with_an_error(client: AsyncClient) -> None:
    user = await signup(client)
    token = await _form_token(client, "/signin")
    form = {"email": user["email"], "password": "wrong password", "next": "/", "_csrf_token": token}
    response = await client.post("/signin", data=form, headers=HTMX)
    assert response.status_code == 401
    assert response.text.lstrip().startswith('<form id="signin-form"')  # the fragment, not a page
    assert "The email or password is not right." in response.text
    assert f'value="{user["email"]}"' in response.text  # what was typed is kept


async def test_htmx_sign_in_redirects_through_hx_redirect(client: AsyncClient) -> None:
    user = await signup(client)
    token = await _form_token(client, "/signin?next=/account")
    form = {"email": user["email"], "password": PASSWORD, "next": "/account", "_csrf_token": token}
    response = await client.post("/signin", data=form, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/account"
    assert "lc_session=" in response.headers["set-cookie"]


async def test_sign_up_form_shows_field_errors_and_keeps_values(client: AsyncClient) -> None:
    token = await _form_token(client, "/signup")
    form = {"display_name": "<b>Bold</b>", "email": "not-an-email", "password": PASSWORD, "_csrf_token": token}
    response = await client.post("/signup", data=form, headers=HTML)
    assert response.status_code == 400
    assert 'id="e-email"' in response.text
    assert "&lt;b&gt;Bold&lt;/b&gt;" in response.text and "<b>Bold</b>" not in response.text


async def test_sign_out_ends_the_session(client: AsyncClient) -> None:
    token = await _form_token(client, "/signup")
    form = {"display_name": "Leaving", "email": unique_email(), "password": PASSWORD, "_csrf_token": token}
    await client.post("/signup", data=form, headers=HTML)
    session = client.cookies.get("lc_session")
    page_token = await _form_token(client, "/account")
    response = await client.post("/signout", data={"_csrf_token": page_token}, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert (await client.get("/api/me", headers={"authorization": f"Bearer {session}"})).status_code == 401


async def test_account_page_sends_anonymous_visitors_to_sign_in(client: AsyncClient) -> None:
    response = await client.get("/account", headers=HTML, follow_redirects=False)
    assert response.status_code in (302, 303, 307)
    assert response.headers["location"] == "/signin?next=/account"


async def test_htmx_errors_become_toasts(client: AsyncClient) -> None:
    response = await client.get("/no/such/page", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["hx-retarget"] == "#toasts"
    assert 'class="toast toast-error"' in response.text


async def test_navigation_depends_on_being_signed_in(client: AsyncClient) -> None:
    anonymous = await client.get("/", headers=HTML)
    assert 'href="/account"' not in anonymous.text and 'href="/signin"' in anonymous.text
    token = await _form_token(client, "/signup")
    form = {"display_name": "Nav", "email": unique_email(), "password": PASSWORD, "_csrf_token": token}
    await client.post("/signup", data=form, headers=HTML)
    signed_in = await client.get("/", headers=HTML)
    assert 'href="/account"' in signed_in.text and 'href="/signin"' not in signed_in.text


async def test_sign_up_form_asks_the_browser_for_ten_characters(client: AsyncClient) -> None:
    page = await client.get("/signup", headers=HTML)
    assert 'name="password" type="password"' in page.text and 'minlength="10"' in page.text
