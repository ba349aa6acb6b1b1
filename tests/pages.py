"""A browser without JavaScript, for page tests: a session cookie, the page's CSRF token, forms posted as a page
(or htmx) would post them."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient, Response

from tests.factories import PASSWORD, signup, unique_email

HTML = {"accept": "text/html"}
HTMX = {**HTML, "hx-request": "true"}


async def browse_as(client: AsyncClient, roles: list[str] | None = None, name: str = "Sam") -> dict[str, Any]:
    """A new account, signed in with a session cookie as the sign-in page would leave a browser."""
    client.cookies.clear()  # a JSON sign-up that carries a session cookie would need a CSRF token
    user = await signup(client, roles, display_name=name)
    response = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 200, response.text
    return user


async def browse_as_admin(client: AsyncClient, app: Any, name: str = "Console Admin") -> str:
    """A browser signed in as a new admin (made as the operator's CLI would); returns its CSRF token."""
    from kernel.auth.models import Role
    from kernel.auth.service import AccountService

    email = unique_email("console")
    async with app.state.db.transaction() as session:
        await AccountService(
            session, app.state.clock, app.state.settings.auth.session_ttl, app.state.passwords
        ).create_user(email, PASSWORD, name, [Role.ADMIN])
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return await csrf_token(client, "/admin")


async def csrf_token(client: AsyncClient, path: str = "/shop") -> str:
    page = await client.get(path, headers=HTML)
    assert page.status_code == 200, page.text
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text) or re.search(
        r'"x-csrftoken": "([^"]+)"', page.text
    )
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def submit(client: AsyncClient, path: str, data: dict[str, Any], htmx: bool = False) -> Response:
    """Post a form the way the page would: its CSRF token in the form, or in htmx's header."""
    token = await csrf_token(client)
    if htmx:
        return await client.post(path, data=data, headers={**HTMX, "x-csrftoken": token})
    return await client.post(path, data={**data, "_csrf_token": token}, headers=HTML, follow_redirects=False)
