"""A dispute's conversation through the public API: the seller's partial offer and the buyer's answer, the message
thread both sides and admins write in, and photo evidence that only they can see.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response

from kernel.clock import FixedClock
from tests.factories import bearer, signed_in
from tests.shop.helpers import make_admin, trial_balance_total, usd
from tests.shop.orders.test_disputes import admin_queue, get_order, opened, resolve, shipped_order

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 64


async def offer(client: AsyncClient, seller: str, dispute_id: str, amount: int, note: str = "") -> Response:
    body = {"outcome": "refund", "amount": usd(amount), "note": note}
    return await client.post(f"/api/shop/disputes/{dispute_id}/resolve", headers=bearer(seller), json=body)


async def write(
    client: AsyncClient, token: str, dispute_id: str, body: str = "", photos: list[tuple[str, bytes, str]] = ()
) -> Response:
    files = [("photos", photo) for photo in photos]
    return await client.post(
        f"/api/shop/disputes/{dispute_id}/messages", headers=bearer(token), data={"body": body}, files=files or None
    )


async def thread(client: AsyncClient, token: str, dispute_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/shop/disputes/{dispute_id}/messages", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def dispute_status(client: AsyncClient, token: str, dispute_id: str) -> str:
    return (await client.get(f"/api/shop/disputes/{dispute_id}", headers=bearer(token))).json()["status"]


# The seller's partial offer -------------------------------------------------------------------------------------
async def test_buyer_accepting_the_sellers_partial_offer_refunds_that_much_and_closes_the_dispute(
    client: AsyncClient, app
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)

    offered = await offer(client, seller, case["id"], 2000, note="Half the set was fine; here is 20.00 back.")

    assert offered.status_code == 200, offered.text
    assert offered.json()["status"] == "offered" and offered.json()["offered_refund"] == usd(2000)
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(0)
    said = await thread(client, buyer, case["id"])
    assert [(m["party"], m["body"]) for m in said][-1] == ("seller", "Half the set was fine; here is 20.00 back.")

    accepted = await client.post(f"/api/shop/disputes/{case['id']}/accept-offer", headers=bearer(buyer))

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "refunded" and accepted.json()["refunded"] == usd(2000)
    after = await get_order(client, buyer, order["id"])
    assert after["status"] == "partially_refunded" and after["refunded"] == usd(2000)
    again = await client.post(f"/api/shop/disputes/{case['id']}/accept-offer", headers=bearer(buyer))
    assert again.status_code == 409
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(2000)
    assert await admin_queue(client, admin) == []
    assert await trial_balance_total(client, admin) == 0


async def test_buyer_declining_the_offer_sends_the_dispute_to_the_admins_who_may_refund_more(
    client: AsyncClient, app
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    assert (await offer(client, seller, case["id"], 500)).status_code == 200

    declined = await client.post(f"/api/shop/disputes/{case['id']}/escalate", headers=bearer(buyer))

    assert declined.status_code == 200 and declined.json()["status"] == "escalated"
    assert await admin_queue(client, admin) == [case["id"]]
    assert (
        await client.post(f"/api/shop/disputes/{case['id']}/accept-offer", headers=bearer(buyer))
    ).status_code == 409
    assert (await offer(client, seller, case["id"], 4000)).status_code == 409
    decided = await resolve(client, admin, case["id"], "refund", amount=5000)
    assert decided.status_code == 200 and decided.json()["refunded"] == usd(5000)
    assert (await get_order(client, buyer, order["id"]))["status"] == "refunded"


async def test_only_the_buyer_answers_an_offer(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    _, stranger = await signed_in(client)
    case = await opened(client, buyer, order["id"], 5000)
    early = await client.post(f"/api/shop/disputes/{case['id']}/accept-offer", headers=bearer(buyer))
    assert early.status_code == 409 and early.json()["type"] == "/problems/no_offer"
    assert (await offer(client, seller, case["id"], 1000)).status_code == 200

    for token, status in ((seller, 403), (admin, 403), (stranger, 404)):
        for action in ("accept-offer", "escalate"):
            refused = await client.post(f"/api/shop/disputes/{case['id']}/{action}", headers=bearer(token))
            assert refused.status_code == status, (action, refused.text)

    assert await dispute_status(client, buyer, case["id"]) == "offered"
    assert (await get_order(client, buyer, order["id"]))["refunded"] == usd(0)


async def test_an_offer_the_buyer_leaves_unanswered_goes_to_the_admins(
    client: AsyncClient, app, clock: FixedClock
) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)
    offered = (await offer(client, seller, case["id"], 1000)).json()
    assert offered["respond_by"] is not None

    clock.advance(timedelta(days=3))
    await app.state.sweeper.run_once()

    assert await admin_queue(client, admin) == [case["id"]]
    last = (await get_order(client, buyer, order["id"]))["events"][-1]
    assert last["detail"] == {"dispute_id": case["id"], "why": "buyer_did_not_answer"}


# The thread and its photos --------------------------------------------------------------------------------------
async def test_both_sides_and_admins_write_in_the_thread_and_see_each_others_photos(client: AsyncClient, app) -> None:
    seller, buyer, order = await shipped_order(client)
    admin = await make_admin(client, app)
    case = await opened(client, buyer, order["id"], 5000)  # its detail is the thread's first message

    # The declared type is ignored: the bytes say what the photo is.
    sent = await write(client, buyer, case["id"], "Photos of the box", [("box.gif", PNG, "image/gif"), ("b", JPEG, "")])
    assert sent.status_code == 201, sent.text
    assert (await write(client, seller, case["id"], "That was the courier.", [("w.webp", WEBP, "")])).status_code == 201
    assert (await write(client, admin, case["id"], "We are looking into it.")).status_code == 201

    for token in (buyer, seller, admin):
        said = await thread(client, token, case["id"])
        assert [(m["party"], m["body"]) for m in said] == [
            ("buyer", "The box arrived crushed."),
            ("buyer", "Photos of the box"),
            ("seller", "That was the courier."),
            ("admin", "We are looking into it."),
        ]
        assert [p["content_type"] for p in said[1]["photos"]] == ["image/png", "image/jpeg"]
        photo = await client.get(said[2]["photos"][0]["url"], headers=bearer(token))
        assert photo.status_code == 200 and photo.content == WEBP
        assert photo.headers["content-type"] == "image/webp"
        assert "no-store" in photo.headers["cache-control"] and photo.headers["x-content-type-options"] == "nosniff"


async def test_a_stranger_cannot_read_write_or_download_a_disputes_thread(client: AsyncClient) -> None:
    _, buyer, order = await shipped_order(client)
    _, stranger = await signed_in(client, ["buyer", "seller"])
    case = await opened(client, buyer, order["id"], 5000)
    sent = (await write(client, buyer, case["id"], "See", [("p.png", PNG, "image/png")])).json()
    url = sent["photos"][0]["url"]

    assert (await client.get(f"/api/shop/disputes/{case['id']}/messages", headers=bearer(stranger))).status_code == 404
    assert (await write(client, stranger, case["id"], "Hello")).status_code == 404
    assert (await client.get(url, headers=bearer(stranger))).status_code == 404
    assert (await client.get(url)).status_code == 401
    assert len(await thread(client, buyer, case["id"])) == 2


async def test_photos_that_are_not_images_too_many_or_too_large_are_refused_and_nothing_is_posted(
    client: AsyncClient,
) -> None:
    _, buyer, order = await shipped_order(client)
    case = await opened(client, buyer, order["id"], 5000)
    before = await thread(client, buyer, case["id"])

    not_image = await write(client, buyer, case["id"], "GIF", [("a.png", GIF, "image/png")])
    script = await write(client, buyer, case["id"], "svg", [("a.png", b"<svg onload=alert(1)>", "image/png")])
    too_many = await write(client, buyer, case["id"], "four", [("p.png", PNG, "image/png")] * 4)
    too_large = await write(client, buyer, case["id"], "big", [("p.png", PNG + b"\x00" * (5 * 1024 * 1024), "")])
    empty = await write(client, buyer, case["id"], "   ")

    for response, status, field in (
        (not_image, 422, "photos"),
        (script, 422, "photos"),
        (too_many, 422, "photos"),
        (too_large, 413, "photos"),
        (empty, 422, "body"),
    ):
        assert response.status_code == status, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await thread(client, buyer, case["id"]) == before


async def test_a_decided_dispute_takes_no_more_messages(client: AsyncClient) -> None:
    seller, buyer, order = await shipped_order(client)
    case = await opened(client, buyer, order["id"], 5000)
    assert (await resolve(client, seller, case["id"], "refund")).status_code == 200

    late = await write(client, buyer, case["id"], "One more thing")

    assert late.status_code == 409
    assert len(await thread(client, buyer, case["id"])) == 1


async def test_a_dispute_holds_a_bounded_number_of_photos(client: AsyncClient) -> None:
    _, buyer, order = await shipped_order(client)
    case = await opened(client, buyer, order["id"], 5000)
    three = [("p.png", PNG, "image/png")] * 3
    for _ in range(4):
        assert (await write(client, buyer, case["id"], "More", three)).status_code == 201

    refused = await write(client, buyer, case["id"], "One more", [("p.png", PNG, "image/png")])

    assert refused.status_code == 422 and refused.json()["type"] == "/problems/too_many_photos"
    assert [e["field"] for e in refused.json()["errors"]] == ["photos"]
    assert len(await thread(client, buyer, case["id"])) == 5
    assert (await write(client, buyer, case["id"], "Words still fit")).status_code == 201
