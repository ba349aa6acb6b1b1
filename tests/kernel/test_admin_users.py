"""Admins managing accounts through /api/admin/users and the console's pages: roles, suspension, the audit trail."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from litestar import Litestar

from tests.factories import PASSWORD, bearer, login, signed_in, signup
from tests.pages import HTML, browse_as_admin
from tests.shop.helpers import make_admin


async def admin_user(client: AsyncClient, token: str, user_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/admin/users/{user_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def suspend(client: AsyncClient, token: str, user_id: str, reason: str = "Selling counterfeits") -> Any:
    return await client.post(f"/api/admin/users/{user_id}/suspend", headers=bearer(token), json={"reason": reason})


async def test_suspending_ends_every_session_and_sign_in_tells_the_owner_why(
    client: AsyncClient, app: Litestar
) -> None:
    admin = await make_admin(client, app)
    user, token = await signed_in(client, ["seller"])
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200

    done = await suspend(client, admin, user["id"])

    assert done.status_code == 200, done.text
    assert done.json()["suspension_reason"] == "Selling counterfeits"
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
    refused = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert refused.status_code == 403
    assert "suspended: Selling counterfeits" in refused.json()["detail"]
    (event,) = (await admin_user(client, admin, user["id"]))["events"]
    assert event["action"] == "suspend" and event["reason"] == "Selling counterfeits"
    assert event["actor_name"] == "Admin" and event["at"].startswith("2026-03-02T09:00:00")


async def test_a_wrong_password_on_a_suspended_account_says_nothing_about_the_suspension(
    client: AsyncClient, app: Litestar
) -> None:
    admin = await make_admin(client, app)
    user, _ = await signed_in(client)
    await suspend(client, admin, user["id"])

    refused = await client.post("/api/auth/login", json={"email": user["email"], "password": "wrong password!"})

    assert refused.status_code == 401 and "suspended" not in refused.text


async def test_reinstated_account_signs_in_again_but_old_tokens_stay_ended(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    user, token = await signed_in(client)
    await suspend(client, admin, user["id"])

    back = await client.post(
        f"/api/admin/users/{user['id']}/reinstate", headers=bearer(admin), json={"reason": "Appeal accepted"}
    )

    assert back.status_code == 200 and back.json()["suspended_at"] is None
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
    fresh = await login(client, user["email"])
    assert (await client.get("/api/me", headers=bearer(fresh))).status_code == 200
    actions = [e["action"] for e in (await admin_user(client, admin, user["id"]))["events"]]
    assert actions == ["reinstate", "suspend"]


async def test_an_admin_cannot_suspend_themself_or_remove_the_last_admin(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    me = (await client.get("/api/me", headers=bearer(admin))).json()

    own = await suspend(client, admin, me["id"])
    demote = await client.put(
        f"/api/admin/users/{me['id']}/roles", headers=bearer(admin), json={"roles": ["buyer"], "reason": "Leaving"}
    )

    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "reason"
    assert demote.status_code == 422 and "last active admin" in demote.json()["detail"]
    assert (await client.get("/api/me", headers=bearer(admin))).json()["roles"] == ["admin", "buyer"]
    assert (await admin_user(client, admin, me["id"]))["events"] == []

    second = await make_admin(client, app)
    stepped_down = await client.put(
        f"/api/admin/users/{me['id']}/roles", headers=bearer(second), json={"roles": [], "reason": "Left the team"}
    )
    assert stepped_down.status_code == 200 and stepped_down.json()["roles"] == ["buyer"]
    assert (await client.get("/api/admin/users", headers=bearer(admin))).status_code == 403


async def test_roles_change_takes_effect_and_is_audited(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    user, token = await signed_in(client)
    assert (await client.get("/api/me", headers=bearer(token))).json()["roles"] == ["buyer"]  # now cached

    changed = await client.put(
        f"/api/admin/users/{user['id']}/roles",
        headers=bearer(admin),
        json={"roles": ["seller", "marketer"], "reason": "Verified business"},
    )

    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/me", headers=bearer(token))).json()["roles"] == ["buyer", "marketer", "seller"]
    (event,) = (await admin_user(client, admin, user["id"]))["events"]
    assert event["action"] == "roles" and event["detail"] == "+marketer, +seller"


async def test_bad_admin_input_is_refused_and_changes_nothing(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    user, token = await signed_in(client)
    path = f"/api/admin/users/{user['id']}"

    no_reason = await suspend(client, admin, user["id"], reason="   ")
    bad_role = await client.put(f"{path}/roles", headers=bearer(admin), json={"roles": ["king"], "reason": "x"})
    extra = await client.post(f"{path}/suspend", headers=bearer(admin), json={"reason": "x", "until": "never"})
    missing = await suspend(client, admin, "0190b8a0-0000-7000-8000-000000000000")

    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    assert bad_role.status_code == 400 and extra.status_code == 400
    assert missing.status_code == 404
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200
    assert (await admin_user(client, admin, user["id"]))["events"] == []


async def test_user_list_searches_and_pages(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    for name in ("Zed One", "Zed Two", "Zed Three"):
        await signup(client, display_name=name)
    await signup(client, display_name="Other")

    first = (await client.get("/api/admin/users?q=zed&limit=2", headers=bearer(admin))).json()
    rest = await client.get(f"/api/admin/users?q=zed&limit=2&cursor={first['next_cursor']}", headers=bearer(admin))

    names = [u["display_name"] for u in first["items"] + rest.json()["items"]]
    assert sorted(names) == ["Zed One", "Zed Three", "Zed Two"] and rest.json()["next_cursor"] is None
    zed = next(u for u in first["items"] + rest.json()["items"] if u["display_name"] == "Zed Two")
    await suspend(client, admin, zed["id"])
    suspended = (await client.get("/api/admin/users?q=zed&status=suspended", headers=bearer(admin))).json()["items"]
    active = (await client.get("/api/admin/users?q=zed&status=active", headers=bearer(admin))).json()["items"]
    assert [u["display_name"] for u in suspended] == ["Zed Two"]
    assert sorted(u["display_name"] for u in active) == ["Zed One", "Zed Three"]
    assert (await client.get("/api/admin/users?status=gone", headers=bearer(admin))).status_code == 400
    wildcard = await client.get("/api/admin/users?q=%25", headers=bearer(admin))
    assert wildcard.json()["items"] == []  # searched for, not a LIKE wildcard
    bad = await client.get("/api/admin/users?cursor=garbage", headers=bearer(admin))
    assert bad.status_code == 422


# Pages -------------------------------------------------------------------------------------------------------------
async def test_admin_suspends_from_the_page_and_a_missing_reason_shows_beside_the_field(
    client: AsyncClient, app: Litestar
) -> None:
    user = await signup(client, display_name="Rule Breaker")
    token = await login(client, user["email"])
    await make_admin(client, app)  # another admin, so the console's admin is not the only one
    csrf = await browse_as_admin(client, app)
    listing = await client.get("/admin/users?q=rule&status=", headers=HTML)
    assert f'href="/admin/users/{user["id"]}"' in listing.text

    path = f"/admin/users/{user['id']}/suspend"
    empty = await client.post(path, data={"reason": " ", "_csrf_token": csrf}, headers=HTML)
    assert empty.status_code == 422
    assert 'id="e-reason-suspend">Say why' in empty.text
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 200

    done = await client.post(path, data={"reason": "Spam", "_csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    page = await client.get(done.headers["location"], headers=HTML)
    assert 'data-testid="account-status">Suspended' in page.text and "Spam" in page.text
    suspended = await client.get("/admin/users?status=suspended", headers=HTML)
    assert f'href="/admin/users/{user["id"]}"' in suspended.text
    assert (
        f'href="/admin/users/{user["id"]}"' not in (await client.get("/admin/users?status=active", headers=HTML)).text
    )
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401


async def test_console_pages_refuse_non_admins_and_send_strangers_to_sign_in(client: AsyncClient) -> None:
    for path in ("/admin", "/admin/users", "/admin/jobs"):
        anonymous = await client.get(path, headers=HTML, follow_redirects=False)
        assert anonymous.status_code in (302, 303, 307) and "/signin" in anonymous.headers["location"], path
    _, token = await signed_in(client, ["seller", "influencer"])
    for path in ("/admin", "/admin/users", "/admin/jobs"):
        assert (await client.get(path, headers={**HTML, **bearer(token)})).status_code == 403, path


async def test_an_admins_own_page_offers_no_suspend_form(client: AsyncClient, app: Litestar) -> None:
    await browse_as_admin(client, app)
    me = (await client.get("/api/me")).json()

    own = await client.get(f"/admin/users/{me['id']}", headers=HTML)

    assert own.status_code == 200 and "This is your own account" in own.text
    assert 'data-testid="suspend-form"' not in own.text and 'data-testid="roles-form"' in own.text


async def test_the_sign_in_page_tells_a_suspended_member_why(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    user, _ = await signed_in(client)
    await suspend(client, admin, user["id"], reason="Repeated chargebacks")
    client.cookies.clear()
    page = await client.get("/signin", headers=HTML)
    csrf = page.text.split('name="_csrf_token" value="')[1].split('"')[0]

    refused = await client.post(
        "/signin", data={"email": user["email"], "password": PASSWORD, "_csrf_token": csrf}, headers=HTML
    )

    assert refused.status_code == 403
    assert "This account is suspended: Repeated chargebacks" in refused.text
    assert "lc_session" not in refused.headers.get("set-cookie", "")
