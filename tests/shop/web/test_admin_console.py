"""The admin console's shop sections through the JSON API and the pages: categories, payout runs, the ledger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from litestar import Litestar

from kernel.clock import FixedClock
from tests.factories import bearer, signed_in
from tests.pages import HTML, browse_as, browse_as_admin, submit
from tests.shop.helpers import checkout, make_admin, new_key, seller_with_product, usd

TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def categories(client: AsyncClient) -> dict[str, dict[str, Any]]:
    return {c["slug"]: c for c in (await client.get("/api/shop/categories")).json()}


async def completed_sale(client: AsyncClient, clock: FixedClock) -> str:
    """A seller whose sale is past the dispute window, so a payout run pays them; returns the seller's token."""
    seller, product_id = await seller_with_product(client, price=2500, category="fashion")
    _, buyer = await signed_in(client)
    order = (await checkout(client, buyer, [{"product_id": product_id, "quantity": 1}])).json()["orders"][0]
    assert (await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)).is_success
    done = await client.post(f"/api/shop/orders/{order['id']}/confirm-delivery", headers=bearer(buyer))
    assert done.status_code == 200, done.text
    clock.advance(timedelta(days=15, seconds=1))
    return seller


# Categories -------------------------------------------------------------------------------------------------------
async def test_patch_changes_a_categorys_rate_and_bad_input_changes_nothing(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    before = await categories(client)

    too_high = await client.patch("/api/admin/categories/fashion", headers=bearer(admin), json={"commission_bps": 2001})
    unknown = await client.patch("/api/admin/categories/nope", headers=bearer(admin), json={"commission_bps": 100})
    assert too_high.status_code == 400 and unknown.status_code == 404
    assert await categories(client) == before

    changed = await client.patch("/api/admin/categories/fashion", headers=bearer(admin), json={"commission_bps": 950})
    assert changed.status_code == 200
    assert changed.json() == {**before["fashion"], "commission_bps": 950}
    assert (await categories(client))["fashion"] == {**before["fashion"], "commission_bps": 950}


async def test_category_page_edits_creates_and_shows_errors_beside_the_field(
    client: AsyncClient, app: Litestar
) -> None:
    csrf = await browse_as_admin(client, app)
    before = await categories(client)

    too_high = await client.post(
        "/admin/categories/fashion", data={"name": "Fashion", "commission": "25", "_csrf_token": csrf}, headers=HTML
    )
    assert too_high.status_code == 422
    assert 'id="e-commission-fashion">At most 20%.<' in too_high.text
    taken = await client.post(
        "/admin/categories",
        data={"slug": "fashion", "name": "Again", "commission": "5", "_csrf_token": csrf},
        headers=HTML,
    )
    assert taken.status_code == 409 and 'id="e-new-slug">already taken<' in taken.text
    assert await categories(client) == before

    saved = await client.post(
        "/admin/categories/fashion",
        data={"name": "Fashion", "commission": "12.5", "_csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    made = await client.post(
        "/admin/categories",
        data={"slug": "garden", "name": "Garden", "commission": "7", "_csrf_token": csrf},
        headers=HTML,
        follow_redirects=False,
    )
    assert saved.status_code == made.status_code == 303
    after = await categories(client)
    assert after["fashion"]["commission_bps"] == 1250
    assert after["garden"] == {"slug": "garden", "name": "Garden", "commission_bps": 700}
    page = await client.get("/admin/categories", headers=HTML)
    assert 'data-slug="garden"' in page.text and 'value="12.5"' in page.text


# Payouts ----------------------------------------------------------------------------------------------------------
async def test_each_payout_run_is_kept_with_who_ran_it_and_its_totals(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    await completed_sale(client, clock)
    admin = await make_admin(client, app)

    first = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": new_key()})
    clock.advance(timedelta(minutes=5))
    second = await client.post("/api/admin/payouts/run", headers={**bearer(admin), "Idempotency-Key": new_key()})
    assert first.json()["total"] == usd(2300) and second.json()["total"] == usd(0)

    runs = (await client.get("/api/admin/payouts/runs?limit=1", headers=bearer(admin))).json()
    (newest,) = runs["items"]
    older = (await client.get(f"/api/admin/payouts/runs?cursor={runs['next_cursor']}", headers=bearer(admin))).json()
    (oldest,) = older["items"]
    assert older["next_cursor"] is None
    assert newest["count"] == 0 and newest["totals"] == []
    assert oldest["count"] == 1 and oldest["totals"] == [usd(2300)]
    assert oldest["run_by"]["display_name"] == "Admin" and oldest["at"].startswith("2026-03-17T09:00:01")


async def test_run_payouts_from_the_page_once_per_form(client: AsyncClient, app: Litestar, clock: FixedClock) -> None:
    seller = await completed_sale(client, clock)
    csrf = await browse_as_admin(client, app, name="Pat Payer")
    page = await client.get("/admin/payouts", headers=HTML)
    assert "No payout run yet." in page.text
    key = page.text.split('name="idempotency_key" value="')[1].split('"')[0]

    form = {"idempotency_key": key, "_csrf_token": csrf}
    ran = await client.post("/admin/payouts/run", data=form, headers=HTML, follow_redirects=False)
    again = await client.post("/admin/payouts/run", data=form, headers=HTML, follow_redirects=False)

    assert ran.status_code == again.status_code == 303 and ran.headers["location"] == "/admin/payouts?paid=1"
    history = await client.get("/admin/payouts", headers=HTML)
    assert history.text.count("data-run=") == 1 and "Pat Payer" in history.text and "$23.00" in history.text
    balances = (await client.get("/api/shop/balances", headers=bearer(seller))).json()
    assert balances["paid_out"] == usd(2300) and balances["available"] == usd(0)


# Ledger -----------------------------------------------------------------------------------------------------------
async def test_ledger_accounts_by_kind_and_owner_a_page_at_a_time(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    await completed_sale(client, clock)
    admin = await make_admin(client, app)
    me = (await client.get("/api/me", headers=bearer(admin))).json()

    trial = (await client.get("/api/admin/ledger/trial-balance", headers=bearer(admin))).json()
    assert trial["totals"] == [usd(0)] and trial["total"] == usd(0)
    every = []
    cursor = ""
    while True:
        page = (await client.get(f"/api/admin/ledger/accounts?limit=2{cursor}", headers=bearer(admin))).json()
        every += page["items"]
        if not page["next_cursor"]:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert [a["account"] for a in every] == [a["account"] for a in trial["accounts"]]
    (payable,) = (await client.get("/api/admin/ledger/accounts?kind=seller_payable", headers=bearer(admin))).json()[
        "items"
    ]
    assert payable["kind"] == "seller_payable" and payable["balance"] == usd(-2300)
    owned = await client.get(f"/api/admin/ledger/accounts?owner={payable['owner']}", headers=bearer(admin))
    assert [a["account"] for a in owned.json()["items"]] == [payable["account"]]
    assert (await client.get(f"/api/admin/ledger/accounts?owner={me['id']}", headers=bearer(admin))).json()[
        "items"
    ] == []
    assert (await client.get("/api/admin/ledger/accounts?kind=bogus", headers=bearer(admin))).status_code == 422


async def test_ledger_page_shows_the_balanced_trial_balance_and_a_bad_owner_beside_its_field(
    client: AsyncClient, app: Litestar, clock: FixedClock
) -> None:
    await completed_sale(client, clock)
    await browse_as_admin(client, app)

    page = await client.get("/admin/ledger?kind=seller_payable", headers=HTML)
    assert page.status_code == 200
    assert 'data-currency="USD"' in page.text and "Balanced" in page.text and "Out of balance" not in page.text
    assert page.text.count("data-account=") == 1 and "-$23.00" in page.text
    bad = await client.get("/admin/ledger?owner=not-an-id", headers=HTML)
    assert bad.status_code == 422 and 'id="e-owner">Enter an order, seller or creator id.<' in bad.text


async def test_shop_console_pages_refuse_non_admins(client: AsyncClient) -> None:
    _, token = await signed_in(client, ["seller", "influencer"])
    for path in ("/admin/categories", "/admin/payouts", "/admin/ledger"):
        assert (await client.get(path, headers={**HTML, **bearer(token)})).status_code == 403, path
        anonymous = await client.get(path, headers=HTML, follow_redirects=False)
        assert "/signin" in anonymous.headers["location"], path


async def test_console_forms_refuse_non_admins_and_change_nothing(client: AsyncClient, app: Litestar) -> None:
    admin = await make_admin(client, app)
    victim, victim_token = await signed_in(client)
    before = await categories(client)
    await browse_as(client, ["seller", "influencer"])

    forms = {
        "/admin/categories/fashion": {"name": "Mine", "commission": "0"},
        "/admin/categories": {"slug": "mine", "name": "Mine", "commission": "0"},
        "/admin/payouts/run": {"idempotency_key": new_key()},
        f"/admin/users/{victim['id']}/suspend": {"reason": "Because"},
        f"/admin/users/{victim['id']}/roles": {"roles": ["admin"], "reason": "Because"},
    }
    for path, form in forms.items():
        assert (await submit(client, path, form)).status_code == 403, path

    assert await categories(client) == before
    assert (await client.get("/api/admin/payouts/runs", headers=bearer(admin))).json()["items"] == []
    assert (await client.get("/api/me", headers=bearer(victim_token))).json()["roles"] == ["buyer"]


async def test_the_rollup_jobs_backlog_is_what_is_not_folded_yet(make_settings: Any, clock: FixedClock) -> None:
    from app import create_app
    from shop.attribution.rollups import catch_up, rollup_job
    from tests.clients import asgi_client

    job = rollup_job()
    app = create_app(make_settings(LIVECOMMERCE_SWEEP_INTERVAL="1h"), clock=clock)  # no round but the first
    async with asgi_client(app) as client:
        await catch_up(app.state.db)  # whatever the app's first round left
        await completed_sale(client, clock)
        async with app.state.db.transaction() as session:
            before = await job.backlog(session, clock.now())
        await catch_up(app.state.db)
        async with app.state.db.transaction() as session:
            after = await job.backlog(session, clock.now())

    assert before == 2 and after == 0  # the sale's hold and release entries; no touch (bought over the API)


async def test_console_pages_answer_a_bad_cursor_or_kind_with_422_not_a_crash(
    client: AsyncClient, app: Litestar
) -> None:
    await browse_as_admin(client, app)

    for path in (
        "/admin/payouts?cursor=garbage",
        "/admin/ledger?cursor=garbage",
        "/admin/ledger?kind=bogus",
        "/admin/users?cursor=garbage",
    ):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 422, (path, response.text[:300])
