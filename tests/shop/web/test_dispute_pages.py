"""An order's own page and a dispute's page, as the buyer's, the seller's and a stranger's browsers use them: dates
and address, photos with the dispute, the seller's partial offer and the buyer's answer, errors beside their fields.
"""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient, Response

from tests.factories import PASSWORD, bearer
from tests.pages import HTML, browse_as, csrf_token, submit
from tests.shop.helpers import make_admin, usd
from tests.shop.web.test_pages import checkout_form, in_cart, my_orders, seller_with_product

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GIF = b"GIF89a" + b"\x00" * 64
TRACKING = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}


async def sign_in_as(client: AsyncClient, email: str) -> None:
    client.cookies.clear()
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text


async def upload(
    client: AsyncClient, path: str, data: dict[str, str], photos: list[tuple[str, bytes, str]]
) -> Response:
    """Post a multipart form as the page does, with its CSRF token and the chosen files."""
    token = await csrf_token(client)
    files = [("photos", photo) for photo in photos]
    return await client.post(
        path, data={**data, "_csrf_token": token}, files=files, headers=HTML, follow_redirects=False
    )


async def bought_and_shipped(client: AsyncClient, then: Any = None) -> dict[str, Any]:
    """The seller's token and email, the buyer's email, and the buyer's order (bought in the browser), shipped;
    ``then(order_id)`` runs before the order ships."""
    seller, product_id = await seller_with_product(client, price=2500)
    seller_email = (await client.get("/api/me", headers=bearer(seller))).json()["email"]
    buyer = await browse_as(client)
    await in_cart(client, product_id)
    page = await client.get("/shop/checkout", headers=HTML)
    assert (await submit(client, "/shop/checkout", checkout_form(page.text))).status_code == 303
    (order,) = await my_orders(client)
    if then:
        await then(order["id"])
    shipped = await client.post(f"/api/shop/orders/{order['id']}/ship", headers=bearer(seller), json=TRACKING)
    assert shipped.status_code == 200, shipped.text
    return {"seller": seller, "seller_email": seller_email, "buyer_email": buyer["email"], "order": order}


async def disputed(client: AsyncClient) -> dict[str, Any]:
    """As bought_and_shipped, with a dispute the buyer opened from the order page with a photo (still signed in)."""
    case = await bought_and_shipped(client)
    order_id = case["order"]["id"]
    form = {"reason": "damaged", "amount": "25", "detail": "The lamp is cracked."}
    opened = await upload(client, f"/shop/orders/{order_id}/disputes", form, [("crack.png", PNG, "image/png")])
    assert opened.status_code == 303, opened.text
    (dispute,) = (await client.get("/api/shop/disputes")).json()
    return {**case, "dispute": dispute}


def dispute_link(page: str) -> str:
    found = re.search(r'href="(/shop/disputes/[0-9a-f-]+)"', page)
    assert found, "no link to the dispute"
    return found.group(1)


async def test_order_page_shows_dates_and_address_to_its_buyer_and_seller_and_to_no_one_else(
    client: AsyncClient,
) -> None:
    async def before_shipping(order_id: str) -> None:
        paid = await client.get(f"/shop/orders/{order_id}", headers=HTML)
        assert re.search(r'data-testid="ship-by"><dt>Ship by</dt><dd><time datetime="[^"]+">\d+ \w+ \d{4}', paid.text)
        assert "30 days after shipping" in paid.text

    case = await bought_and_shipped(client, before_shipping)
    order_id = case["order"]["id"]
    listed = await client.get("/shop/orders", headers=HTML)
    assert f'href="/shop/orders/{order_id}"' in listed.text

    mine = await client.get(f"/shop/orders/{order_id}", headers=HTML)

    assert mine.status_code == 200
    for shown in ("Ship to", "Sam Buyer, 1 Main St, Springfield 12345, US", "Shipped", "Confirmed automatically on"):
        assert shown in mine.text, shown
    assert "Buyer Protection until" in mine.text and "15 days after delivery is confirmed" in mine.text
    assert "Confirm delivery</button>" in mine.text

    await sign_in_as(client, case["seller_email"])
    theirs = await client.get(f"/shop/orders/{order_id}", headers=HTML)
    assert theirs.status_code == 200 and "Sam Buyer, 1 Main St" in theirs.text
    assert "Confirm delivery</button>" not in theirs.text and "Open a dispute" not in theirs.text
    sales = await client.get("/shop/seller", headers=HTML)
    assert f'href="/shop/orders/{order_id}"' in sales.text

    await browse_as(client, ["buyer", "seller"], name="Stranger")
    assert (await client.get(f"/shop/orders/{order_id}", headers=HTML)).status_code == 404


async def test_buyer_opens_a_dispute_with_a_photo_and_a_file_that_is_no_image_is_shown_beside_its_field(
    client: AsyncClient,
) -> None:
    case = await bought_and_shipped(client)
    order_id = case["order"]["id"]
    form = {"reason": "damaged", "amount": "25", "detail": "Cracked"}

    refused = await upload(client, f"/shop/orders/{order_id}/disputes", form, [("crack.png", GIF, "image/png")])

    assert refused.status_code == 422
    assert "not a PNG, JPEG or WebP file" in refused.text and 'aria-invalid="true"' in refused.text
    assert (await client.get("/api/shop/disputes")).json() == []

    opened = await upload(client, f"/shop/orders/{order_id}/disputes", form, [("crack.png", PNG, "image/png")])
    (dispute,) = (await client.get("/api/shop/disputes")).json()
    assert opened.status_code == 303 and opened.headers["location"] == f"/shop/disputes/{dispute['id']}"
    order_page = await client.get(f"/shop/orders/{order_id}", headers=HTML)
    page = await client.get(dispute_link(order_page.text), headers=HTML)
    assert page.status_code == 200 and 'data-testid="evidence"' in page.text and "Cracked" in page.text
    photo = re.search(r'<img src="([^"]+)"', page.text)
    assert photo and (await client.get(photo.group(1))).content == PNG


async def test_seller_offers_a_partial_refund_with_a_message_and_the_buyer_accepts_it(client: AsyncClient) -> None:
    case = await disputed(client)
    path = f"/shop/disputes/{case['dispute']['id']}"

    await sign_in_as(client, case["seller_email"])
    to_answer = await client.get("/shop/disputes", headers=HTML)
    assert to_answer.text.count('data-testid="dispute-row"') == 1 and "You sold" in to_answer.text
    assert f'href="{path}"' in to_answer.text
    seller_page = await client.get(path, headers=HTML)
    assert "Your answer is due" in seller_page.text and 'data-testid="answer-form"' in seller_page.text
    too_much = await submit(client, f"{path}/answer", {"answer": "partial", "amount": "30", "note": "No"})
    assert too_much.status_code == 422 and "between 0.01 and 25.00 USD" in too_much.text
    assert 'value="30"' in too_much.text
    offered = await submit(client, f"{path}/answer", {"answer": "partial", "amount": "10", "note": "Sorry about it"})
    assert offered.status_code == 303

    await sign_in_as(client, case["buyer_email"])
    opened = await client.get("/shop/disputes", headers=HTML)
    assert "You bought" in opened.text and "Partial refund offered" in opened.text
    buyer_page = await client.get(path, headers=HTML)
    assert "offers $10.00 back" in buyer_page.text and "Sorry about it" in buyer_page.text
    accepted = await submit(client, f"{path}/accept-offer", {})
    assert accepted.status_code == 303
    closed = await client.get(path, headers=HTML)
    assert "Closed: $10.00 was refunded to the buyer." in closed.text
    assert 'data-testid="message-form"' not in closed.text
    (order,) = await my_orders(client)
    assert order["status"] == "partially_refunded" and order["refunded"] == usd(1000)
    again = await submit(client, f"{path}/accept-offer", {})
    assert again.status_code == 409 and "no offer to answer" in again.text


async def test_both_sides_write_in_the_thread_and_an_empty_message_is_refused_beside_its_field(
    client: AsyncClient,
) -> None:
    case = await disputed(client)
    path = f"/shop/disputes/{case['dispute']['id']}"

    empty = await upload(client, f"{path}/messages", {"body": "  "}, [])
    assert empty.status_code == 422 and "Write a message or attach a photo." in empty.text
    sent = await upload(client, f"{path}/messages", {"body": "Another angle"}, [("b.png", PNG, "image/png")])
    assert sent.status_code == 303

    await sign_in_as(client, case["seller_email"])
    assert (await upload(client, f"{path}/messages", {"body": "Courier's fault"}, [])).status_code == 303
    page = (await client.get(path, headers=HTML)).text
    assert page.index("The lamp is cracked.") < page.index("Another angle") < page.index("Courier&#39;s fault")
    assert page.count('data-testid="evidence"') == 2


async def test_a_stranger_finds_no_dispute_page_and_cannot_post_to_it(client: AsyncClient) -> None:
    case = await disputed(client)
    path = f"/shop/disputes/{case['dispute']['id']}"
    await browse_as(client, ["buyer", "seller"], name="Stranger")

    assert (await client.get(path, headers=HTML)).status_code == 404
    assert 'data-testid="dispute-row"' not in (await client.get("/shop/disputes", headers=HTML)).text
    for action, form in (
        ("messages", {"body": "Hi"}),
        ("answer", {"answer": "full"}),
        ("accept-offer", {}),
        ("escalate", {}),
    ):
        assert (await submit(client, f"{path}/{action}", form)).status_code == 404, action

    await sign_in_as(client, case["buyer_email"])
    thread = (await client.get(f"/api/shop/disputes/{case['dispute']['id']}/messages")).json()["items"]
    assert [m["body"] for m in thread] == ["The lamp is cracked."]
    assert (await client.get(f"/api/shop/disputes/{case['dispute']['id']}")).json()["status"] == "open"


async def test_an_admin_reads_an_escalated_dispute_writes_in_it_and_is_sent_to_the_queue_to_decide(
    client: AsyncClient, app: Any
) -> None:
    case = await disputed(client)
    dispute_id = case["dispute"]["id"]
    rejected = await client.post(
        f"/api/shop/disputes/{dispute_id}/resolve",
        headers=bearer(case["seller"]),
        json={"outcome": "reject", "note": "It left here intact."},
    )
    assert rejected.status_code == 200, rejected.text
    admin = await make_admin(client, app)
    await sign_in_as(client, (await client.get("/api/me", headers=bearer(admin))).json()["email"])

    queue = await client.get("/admin/disputes", headers=HTML)
    assert f'href="/shop/disputes/{dispute_id}"' in queue.text
    page = await client.get(f"/shop/disputes/{dispute_id}", headers=HTML)
    assert page.status_code == 200 and "decide it in the dispute queue" in page.text
    assert "It left here intact." in page.text and 'data-testid="evidence"' in page.text
    assert 'data-testid="answer-form"' not in page.text
    assert (await upload(client, f"/shop/disputes/{dispute_id}/messages", {"body": "Checking"}, [])).status_code == 303

    await sign_in_as(client, case["buyer_email"])
    thread = (await client.get(f"/api/shop/disputes/{dispute_id}/messages")).json()["items"]
    assert [m["party"] for m in thread] == ["buyer", "seller", "admin"]
